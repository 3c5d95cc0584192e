"""The slower panels of the live view: the run's history with its changes and events, the
optimal discriminator beside the learned one, the discriminator map and the latent explorer."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core import Trainer, detect_events, inference
from gan_core import charts as ch
from gan_core.schedule import Change, spell

from . import moment
from .chart import chart
from .run import session
from .settings import PARAMS

LATENT_DIM, LATENT_POSITION = "latent_dim_view", "latent_pos"
EVENT_TITLES = {"mode_collapse": "Mode collapse", "d_overpowers": "D overpowers G",
                "oscillation": "Oscillation"}


def panels() -> None:
    run = session()
    with run.lock:
        trainer = moment.shown()
        target = trainer.config.target
        _history(trainer)
        left, right = st.columns(2)
        with left:
            st.markdown("##### Discriminator map")
            dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120,
                                             n_real=40)
            chart(ch.discriminator_spec(target), ch.discriminator_data(dmap), "dmap")
        with right:
            _theory(trainer)
        _latent_explorer(trainer)


def _history(trainer: Trainer) -> None:
    """Six panels in two rows, each marked with the run's changes and events."""
    config = trainer.config
    ghost = trainer.ghost.history if trainer.ghost is not None else None
    changes = [ch.Mark(c.step, c.step, describe(c)) for c in trainer.changes]
    events = detect_events(trainer.history)
    marks = [ch.Mark(e.first_step, e.last_step, f"{EVENT_TITLES[e.kind]}: {e.explanation}")
             for e in events]
    names = ch.history_panels(config.target)
    columns = [*st.columns(3), *st.columns(3)]
    for col, panel in zip(columns, names, strict=True):
        with col:
            data = ch.history_data(trainer.history, panel, changes, marks, ghost=ghost)
            if _has_values(data[panel]):
                spec = ch.history_spec(panel, config.loss, ghost=ghost is not None,
                                       changes=bool(changes), events=bool(marks),
                                       target_name=config.target)
                chart(spec, data, f"history_{panel}")
            else:  # an empty dataset has no extent for Vega to scale
                st.caption(f"**{ch.HISTORY_PANELS[panel].title}** fills in as it trains.")
    for event in events:
        st.caption(f":orange[**{EVENT_TITLES[event.kind]}**], steps {event.first_step:,}–"
                   f"{event.last_step:,}: {event.explanation}")


def _nats(value: float) -> str:
    """Three decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def _has_values(columns: dict) -> bool:
    """Has the panel a value to draw? (A run loaded from an older file has gaps.)"""
    return any(np.isfinite(values).any() for name, values in columns.items() if name != "step")


def _theory(trainer: Trainer) -> None:
    st.markdown("##### What D should be, and what it is")
    view = trainer.theory()
    chart(ch.theory_spec(trainer.config.target), ch.theory_data(view), "theory")
    reads = (f"; read off D's loss: {_nats(view.jsd_d)}" if view.d_reads_jsd else
             " (this loss's D does not estimate it)")
    st.caption(f"Along {view.label}. The optimal D for this G is p_data / (p_data + p_g): "
               f"where G paints too many curves D should say fake, too few real. Their "
               f"Jensen–Shannon divergence is {view.jsd:.3f} nats (a perfect G reads "
               f"{view.jsd_floor:.3f}){reads}; at the optimum, D's minimax loss would be "
               f"log 4 − 2·JSD = {view.d_loss_at_optimum:.3f}.")


def describe(change: Change) -> str:
    """A change as the history's tooltip says it: ``step 2,000: lr G 0.0001 → 0.001``."""
    action = change.action
    if action is not None:
        name, n = action
        network = "D" if name == "train_d" else "G"
        what = f"{network} trained alone{f' ×{n}' if n > 1 else ''}"
    else:
        what = ", ".join(f"{PARAMS[name].label} {spell(name, change.before[name])} → "
                         f"{spell(name, value)}" for name, value in change.settings.items())
    return f"step {change.step:,}: {what}"


def _latent_explorer(trainer: Trainer) -> None:
    st.markdown("##### Latent explorer")
    a, b, _ = st.columns([1, 1, 2])
    dim = a.selectbox("Latent direction", range(trainer.config.latent_dim),
                      format_func=lambda i: f"z[{i}]", key=LATENT_DIM,
                      help="Which input of G to move; the others stay fixed.")
    low, high = inference.LATENT_RANGE
    pos = b.slider("Position", low, high, 0.0, 0.25, key=LATENT_POSITION,
                   help="Value of the chosen input; its curve is drawn bold.")
    target = trainer.config.target
    chart(ch.latent_spec(target),
          ch.latent_data(inference.latent_sweep(trainer, dim, pos), target), "latent")

"""The slower panels of the live view: the run's history with its changes, the discriminator
map and the latent explorer."""

from __future__ import annotations

import streamlit as st

from gan_core import Trainer, inference
from gan_core import charts as ch
from gan_core.schedule import Change, spell

from . import moment
from .chart import chart
from .run import session
from .settings import PARAMS

LATENT_DIM, LATENT_POSITION = "latent_dim_view", "latent_pos"


def panels() -> None:
    run = session()
    with run.lock:
        trainer = moment.shown()
        target = trainer.config.target
        ghost = trainer.ghost.history if trainer.ghost is not None else None
        changes = [ch.Mark(c.step, c.step, describe(c)) for c in trainer.changes]
        for col, panel in zip(st.columns(4), ch.HISTORY_PANELS, strict=True):
            with col:
                data = ch.history_data(trainer.history, panel, changes, ghost=ghost)
                if len(data[panel]["step"]):
                    spec = ch.history_spec(panel, trainer.config.loss, ghost=ghost is not None,
                                           changes=bool(changes))
                    chart(spec, data, f"history_{panel}")
                else:  # an empty dataset has no extent for Vega to scale
                    st.caption(f"**{ch.HISTORY_PANELS[panel].title}** fills in as it trains.")
        left, right = st.columns(2)
        with left:
            st.markdown("##### Discriminator map")
            dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120,
                                             n_real=40)
            chart(ch.discriminator_spec(target), ch.discriminator_data(dmap), "dmap")
        with right:
            _latent_explorer(trainer)


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
    a, b = st.columns(2)
    dim = a.selectbox("Latent direction", range(trainer.config.latent_dim),
                      format_func=lambda i: f"z[{i}]", key=LATENT_DIM,
                      help="Which input of G to move; the others stay fixed.")
    low, high = inference.LATENT_RANGE
    pos = b.slider("Position", low, high, 0.0, 0.25, key=LATENT_POSITION,
                   help="Value of the chosen input; its curve is drawn bold.")
    target = trainer.config.target
    chart(ch.latent_spec(target),
          ch.latent_data(inference.latent_sweep(trainer, dim, pos), target), "latent")

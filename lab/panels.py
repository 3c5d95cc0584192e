"""The slower panels of the live view: the run's history with its changes and events, the
optimal discriminator beside the learned one, the discriminator map and the latent explorer.

They are computed before any is drawn (``prepare``, then ``draw``) and drawn as one element by
the player (``lab/player.py``, ``lab/blocks.py``): the browser re-renders the page for each
batch of elements that reaches it, and redraws Streamlit's charts through Vega's expression
interpreter. Only the latent explorer's two widgets are Streamlit's, outside the live view's
fragment (``latent_controls``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from gan_core import Trainer, detect_events
from gan_core.gan.schedule import Change, spell
from gan_core.measure.events import Event
from gan_core.measure.theory import TheoryView
from gan_core.views import charts as ch
from gan_core.views import inference
from gan_core.views.inference import LatentSweep

from . import moment, player
from .blocks import Block, Caption, Chart, Columns, Heading
from .run import session
from .settings import PARAMS

LATENT_DIM, LATENT_POSITION = "latent_dim_view", "latent_pos"
EVENT_TITLES = {"mode_collapse": "Mode collapse", "d_overpowers": "D overpowers G",
                "oscillation": "Oscillation"}


@dataclass
class Panels:
    """The panels of one moment of the run, computed and ready to draw."""

    trainer: Trainer
    history: list[tuple[str, ch.Spec | None, ch.Datasets]]
    """Each history panel: its name, spec (None: nothing to draw yet) and data."""
    events: list[Event]
    dmap: ch.Datasets
    theory: TheoryView
    latent: LatentSweep
    step: int
    """The step of the run they show."""

    def blocks(self) -> list[Block]:
        """Six history panels in two rows, each marked with the run's changes and events; the
        events; the discriminator map beside the optimal D."""
        target = self.trainer.config.target
        history: list[Block] = [
            Chart(f"history_{panel}", spec, data) if spec is not None else
            # An empty dataset has no extent for Vega to scale.
            Caption(f"**{ch.HISTORY_PANELS[panel].title}** fills in as it trains.")
            for panel, spec, data in self.history]
        return [
            Columns([[b] for b in history[:3]]),
            Columns([[b] for b in history[3:]]),
            *(Caption(f":orange[**{EVENT_TITLES[e.kind]}**], steps {e.first_step:,}–"
                      f"{e.last_step:,}: {e.explanation}") for e in self.events),
            Columns([[Heading("Discriminator map"),
                      Chart("dmap", ch.discriminator_spec(target), self.dmap)],
                     [Heading("What D should be, and what it is"),
                      Chart("theory", ch.theory_spec(target), ch.theory_data(self.theory)),
                      Caption(_theory_caption(self.theory))]]),
            Heading("Latent explorer"),
            Chart("latent", ch.latent_spec(target), ch.latent_data(self.latent, target)),
        ]


def draw(shots: list[tuple[float, Panels]]) -> None:
    """Panels taken in one run, each with the seconds after the run's frames start at which it
    is shown, in order."""
    player.panels([(at, shot.step, shot.blocks()) for at, shot in shots])


def prepare() -> Panels:
    run = session()
    with run.lock:
        trainer = moment.shown()
        history, events = _history(trainer)
        dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120,
                                         n_real=40)
        return Panels(trainer, history, events, ch.discriminator_data(dmap), trainer.theory(),
                      inference.latent_sweep(trainer, *_latent_choice(trainer)), trainer.step)


def _history(trainer: Trainer) -> tuple[list[tuple[str, ch.Spec | None, ch.Datasets]],
                                        list[Event]]:
    config = trainer.config
    ghost = trainer.ghost.history if trainer.ghost is not None else None
    changes = [ch.Mark(c.step, c.step, describe(c)) for c in trainer.changes]
    events = detect_events(trainer.history)
    marks = [ch.Mark(e.first_step, e.last_step, f"{EVENT_TITLES[e.kind]}: {e.explanation}")
             for e in events]
    panels = []
    for panel in ch.history_panels(config.target):
        data = ch.history_data(trainer.history, panel, changes, marks, ghost=ghost)
        spec = ch.history_spec(panel, config.loss, ghost=ghost is not None,
                               changes=bool(changes), events=bool(marks),
                               target_name=config.target) if _has_values(data[panel]) else None
        panels.append((panel, spec, data))
    return panels, events


def _nats(value: float) -> str:
    """Three decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def _has_values(columns: dict) -> bool:
    """Has the panel a line to draw: two rows with a value? One point has no extent for its
    axes (a fresh run's first evaluation); a run loaded from an older file has gaps."""
    rows = [np.isfinite(values) for name, values in columns.items() if name != "step"]
    return bool(rows) and int(np.logical_or.reduce(rows).sum()) >= 2


def _theory_caption(view: TheoryView) -> str:
    reads = (f"; read off D's loss: {_nats(view.jsd_d)}" if view.d_reads_jsd else
             " (this loss's D does not estimate it)")
    return (f"Along {view.label}. The optimal D for this G is p_data / (p_data + p_g): where G "
            f"paints too many curves D should say fake, too few real. Their Jensen–Shannon "
            f"divergence is {view.jsd:.3f} nats (a perfect G reads {view.jsd_floor:.3f})"
            f"{reads}; at the optimum, D's minimax loss would be log 4 − 2·JSD = "
            f"{view.d_loss_at_optimum:.3f}.")


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


def latent_controls() -> None:
    """The latent explorer's two widgets, under its chart. Outside the live view's fragment:
    they change only when the visitor moves them (a run of the page), while the chart above
    them follows the run with the other panels."""
    trainer = session().trainer
    a, b, _ = st.columns([1, 1, 2])
    a.selectbox("Latent direction", range(trainer.config.latent_dim),
                format_func=lambda i: f"z[{i}]", key=LATENT_DIM,
                help="Which input of G to move; the others stay fixed.")
    low, high = inference.LATENT_RANGE
    b.slider("Position", low, high, 0.0, 0.25, key=LATENT_POSITION,
             help="Value of the chosen input; its curve is drawn bold.")


def _latent_choice(trainer: Trainer) -> tuple[int, float]:
    """The direction and position the widgets hold (their defaults before they exist, and a
    direction the model has, after a change of its latent size)."""
    dim = st.session_state.get(LATENT_DIM, 0)
    pos = st.session_state.get(LATENT_POSITION, 0.0)
    low, high = inference.LATENT_RANGE
    dim = dim if isinstance(dim, int) and 0 <= dim < trainer.config.latent_dim else 0
    pos = min(max(float(pos), low), high) if isinstance(pos, int | float) else 0.0
    return dim, pos

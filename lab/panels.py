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
from gan_core.gan.schedule import Change, spans_of, spell
from gan_core.measure.events import Event
from gan_core.measure.theory import TheoryView
from gan_core.views import charts as ch
from gan_core.views import inference
from gan_core.views.inference import LatentSweep

from . import classes, moment, player
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
    critic: bool
    """D is a wasserstein critic: the map shows its scores about their midpoint."""
    theory: TheoryView | None
    """None where the target's data are too few for a density (``target.theory_reason``)."""
    latent: LatentSweep
    step: int
    """The step of the run they show."""
    focus: int | None = None
    """A conditional run's class looked at: the D map and the optimal D are of it."""
    label: str = ""
    """A conditional run's label in the latent explorer, in words."""

    def blocks(self) -> list[Block]:
        """Six history panels in two rows, each marked with the run's changes and events; the
        events; the discriminator map beside the optimal D."""
        target, conditional = self.trainer.target.name, self.trainer.config.conditional
        of_class = ("" if self.focus is None
                    else f" · class {self.trainer.target.class_names[self.focus]}")
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
            Columns([[Heading(f"Discriminator map{of_class}"),
                      Chart("dmap", ch.discriminator_spec(target), self.dmap),
                      *_map_caption(self.trainer),
                      *([Caption("A critic scores, it has no probability: red where its score "
                                 "is above the midpoint of its mean scores on real and on "
                                 "generated curves, blue below (its level is free).")]
                        if self.critic else [])],
                     [Heading(f"What D should be, and what it is{of_class}"),
                      *([Chart("theory", ch.theory_spec(target), ch.theory_data(self.theory)),
                         Caption(_theory_caption(self.theory))] if self.theory is not None
                        else [Caption(str(self.trainer.target.theory_reason))])]]),
            Heading("Latent explorer" + (f" · {self.label}" if self.label else "")),
            Chart("latent", ch.latent_spec(target, conditional),
                  ch.latent_data(self.latent, target, self.focus)),
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
        focus = classes.focus(trainer)
        dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120,
                                         n_real=40, label=focus)
        theory = (trainer.theory(label=focus) if trainer.target.theory_reason is None
                  else None)
        sweep = inference.latent_sweep(trainer, *_latent_choice(trainer),
                                       label=classes.label(trainer))
        return Panels(trainer, history, events, ch.discriminator_data(dmap), dmap.critic,
                      theory, sweep, trainer.step, focus,
                      classes.label_text(trainer) if focus is not None else "")


def _history(trainer: Trainer) -> tuple[list[tuple[str, ch.Spec | None, ch.Datasets]],
                                        list[Event]]:
    config = trainer.config
    ghost = trainer.ghost.history if trainer.ghost is not None else None
    changes = [ch.Mark(c.step, c.step, describe(c)) for c in trainer.changes]
    critic_spans = spans_of(trainer.start_config, trainer.changes, "loss", "wasserstein",
                            trainer.step)
    events = detect_events(trainer.history, critic_spans)
    marks = [ch.Mark(e.first_step, e.last_step, f"{EVENT_TITLES[e.kind]}: {e.explanation}")
             for e in events]
    panels = []
    for panel in ch.history_panels(trainer.target.name, config.conditional):
        data = ch.history_data(trainer.history, panel, changes, marks, ghost=ghost)
        spec = ch.history_spec(panel, config.loss, ghost=ghost is not None,
                               changes=bool(changes), events=bool(marks),
                               target_name=trainer.target.name, real_label=config.real_label
                               ) if _has_values(data[panel]) else None
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


def _map_caption(trainer: Trainer) -> list[Block]:
    """For your data: what the map's plane is."""
    if trainer.data is None:
        return []
    return [Caption("The plane of your curves' first two principal components, around their "
                    "mean curve: each curve is a point at its two scores (in the curves' own "
                    "units), and D is shown on the curves of the plane.")]


def _theory_caption(view: TheoryView) -> str:
    if not view.d_star_applies:
        return (f"Along {view.label}. A wasserstein critic has no optimal D* = p_data / "
                "(p_data + p_g) to compare with: its best score is a transport potential, "
                "with no probability and a free level, so only the densities are drawn. Their "
                f"Jensen–Shannon divergence is {view.jsd:.3f} nats (a perfect G reads "
                f"{view.jsd_floor:.3f}); a critic's loss does not estimate it.")
    if view.d_reads_jsd:
        reads = f"; read off D's loss: {_nats(view.jsd_d)}"
    elif view.real_label != 1.0:
        reads = (f" (D aims at {view.real_label:g} × D* with its smoothed real label, so its "
                 "loss does not estimate it)")
    else:
        reads = " (this loss's D does not estimate it)"
    optimum = ("p_data / (p_data + p_g)" if view.real_label == 1.0 else
               f"{view.real_label:g} · p_data / (p_data + p_g), with its real label")
    return (f"Along {view.label}. The optimal D for this G is {optimum}: where G "
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
    """The latent explorer's widgets, under its chart: a direction and a position, and in a
    conditional run the class looked at and the label G reads (``lab/classes.py``). Outside
    the live view's fragment: they change only when the visitor moves them (a run of the
    page), while the chart above them follows the run with the other panels."""
    trainer = session().trainer
    conditional = bool(classes.names(trainer))
    a, b, *more = st.columns([1, 1, 1, 1] if conditional else [1, 1, 2])
    a.selectbox("Latent direction", range(trainer.config.latent_dim),
                format_func=lambda i: f"z[{i}]", key=LATENT_DIM,
                help="Which input of G to move; the others stay fixed.")
    low, high = inference.LATENT_RANGE
    b.slider("Position", low, high, 0.0, 0.25, key=LATENT_POSITION,
             help="Value of the chosen input; its curve is drawn bold.")
    if conditional:
        classes.controls(trainer, *more)


def _latent_choice(trainer: Trainer) -> tuple[int, float]:
    """The direction and position the widgets hold (their defaults before they exist, and a
    direction the model has, after a change of its latent size)."""
    dim = st.session_state.get(LATENT_DIM, 0)
    pos = st.session_state.get(LATENT_POSITION, 0.0)
    low, high = inference.LATENT_RANGE
    dim = dim if isinstance(dim, int) and 0 <= dim < trainer.config.latent_dim else 0
    pos = min(max(float(pos), low), high) if isinstance(pos, int | float) else 0.0
    return dim, pos

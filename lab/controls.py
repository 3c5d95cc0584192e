"""The controls: play and step the run, train one network alone, keep a ghost; and the status
line that says what the run is doing."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gan_core import GANConfig, Trainer
from gan_core.serve.session import LabSession

from . import phases, player
from .frames import Frame, Readout, readouts
from .run import GHOST, notices, session
from .state import holder

TRAIN_D, TRAIN_G, DROP_GHOST = "train_d", "train_g", "drop_ghost"
FORCES, SLOW = "forces", "slow_motion"
"""Keys of the toggles that draw D's push on the curves and train a step at a time."""


@dataclass
class ControlsState:
    clicks: int = 0
    """Clicks acted on so far. A click is acted on once: while the page plays, Streamlit can
    deliver the same click again with the next live tick, and Step, Reset, Train D and Train G
    must not run twice for it."""


def _once(action: Callable[[], object]) -> tuple[Callable[[int], None], tuple[int]]:
    """A callback (and its args) that runs ``action`` for a click seen when the button was
    drawn, and ignores that click if it is delivered again."""
    drawn = holder("controls", ControlsState).clicks

    def act(seen: int) -> None:
        state = holder("controls", ControlsState)
        if seen == state.clicks:
            state.clicks += 1
            action()

    return act, (drawn,)


def forces_on() -> bool:
    return bool(st.session_state.get(FORCES))


def slow_on() -> bool:
    return bool(st.session_state.get(SLOW))


def controls() -> None:
    run = session()
    buttons = [  # key, label, icon, callback, disabled, help
        ("play", "Play", "play_arrow", run.play, run.playing,
         "Train continuously, a tick at a time."),
        ("pause", "Pause", "pause", run.pause, not run.playing,
         "Stop training; everything on screen stays."),
        ("step", "Step", "skip_next", _step, False,
         "Train one tick's steps and stop (in slow motion: a single step)."),
        ("reset", "Reset", "restart_alt", _reset, False,
         "Start a fresh model from the current settings and seed."),
        (TRAIN_D, "Train D", "gavel", lambda: _alone("d"), False,
         "One update of the discriminator alone, on a fresh batch: watch D's push on the "
         "curves change while G stays put."),
        (TRAIN_G, "Train G", "brush", lambda: _alone("g"), False,
         "One update of the generator alone, through D as it is: the curves move along D's "
         "push while D stays put."),
    ]
    # A row that wraps rather than stacks: on a phone the buttons stay together, in reach.
    with st.container(horizontal=True, vertical_alignment="center", key="controls"):
        for key, label, icon, action, disabled, help_text in buttons:
            callback, args = _once(action)
            st.button(label, icon=f":material/{icon}:", key=key, on_click=callback, args=args,
                      disabled=disabled, help=help_text,
                      type="primary" if key == "play" else "secondary")
        st.toggle("Forces", key=FORCES,
                  help="Draw D's push on every point of G's curves: a short line in the "
                  "direction G's loss would move it, as long as its size (one scale for the "
                  "chart, stated below it).")
        st.toggle("Slow motion", key=SLOW,
                  help="One training step per tick, shown in its two halves: G's update through "
                  "D as it was, then D's update on the new curves.")
        st.toggle("Ghost", key=GHOST,
                  help="On a live change of a setting, keep a ghost: the run as it would have "
                  "gone on without the change, trained beside it on the same batches and drawn "
                  "dashed.")
        if run.trainer.ghost is not None:
            st.button("Dismiss ghost", icon=":material/close:", key=DROP_GHOST,
                      on_click=run.drop_ghost, type="tertiary")
    if player.plays():
        player.status()  # the player writes the status line of each frame it shows
    else:
        holder("status", Status).line = st.empty()


@dataclass
class Status:
    line: DeltaGenerator | None = None
    """Where the status line is drawn where the player cannot run (``lab/live.py``)."""


def show_status(frame: Frame) -> None:
    """The status line and note of ``frame``, where Streamlit's own elements draw the frames
    (``player.plays()`` is false); the player shows them itself."""
    line = holder("status", Status).line
    if line is not None:
        with line.container():
            st.caption(frame.status)
            if frame.note:
                st.caption(frame.note)


def status_line(run: LabSession, shown: Trainer, slow: bool) -> str:
    """What the run is doing at the moment ``shown`` (the live run, or an earlier moment
    looked back at), with the settings it has there."""
    config = shown.config
    looking_back = shown is not run.trainer
    head = (f"Paused · looking back at step {shown.step:,}" if looking_back
            else "Playing" if run.playing else "Paused")
    steps = 1 if slow else run.steps_per_tick
    shared = (" (slowed down: other visitors are playing on this server)"
              if run.slowed else "")
    planned = () if looking_back else shown.planned
    plan = (f" · following the link's changes, next at step {planned[0].step:,}"
            if planned else "")
    stabilizers = stabilizers_of(config)
    stable = f" · stabilizers: {', '.join(stabilizers)}" if stabilizers else ""
    return (f"{head} · {steps:,} step{'' if steps == 1 else 's'} every {run.period:g} s"
            f"{shared} · target: {shown.target.title}"
            f"{', conditional' if config.conditional else ''} · loss: "
            f"{config.loss.replace('_', ' ')} · lr G {config.lr_g:g} / D {config.lr_d:g}"
            f"{stable}{plan}")


def stabilizers_of(config: GANConfig) -> list[str]:
    """The stabilizers on, in a few words each: what the status line says the run uses."""
    on = [f"R1 γ {config.r1:g}" if config.r1 else "", f"R2 γ {config.r2:g}" if config.r2 else "",
          f"gradient penalty λ {config.gp:g}" if config.gp else "",
          "spectral normalisation" if config.spectral_norm else ""]
    if config.instance_noise:
        anneal = (f" → 0 by step {config.instance_noise_steps:,}"
                  if config.instance_noise_steps else "")
        on.append(f"instance noise σ {config.instance_noise:g}{anneal}")
    if config.real_label != 1.0:
        on.append(f"real label {config.real_label:g}")
    return [text for text in on if text]


def alone_note(trainer: Trainer, within: int) -> str:
    """The updates of one network alone at the step of the run's last change, if that change
    was one and the run is at most ``within`` steps past it: the step readout does not show
    them."""
    changes = trainer.changes
    if not changes or changes[-1].action is None or trainer.step - changes[-1].step > within:
        return ""
    at = changes[-1].step
    counts: dict[str, int] = {}
    for change in reversed(changes):
        if change.step != at or change.action is None:
            break
        name, n = change.action
        counts[name] = counts.get(name, 0) + n
    done = " and ".join(f"{'D' if name == 'train_d' else 'G'} updated alone ×{n}"
                        for name, n in sorted(counts.items()))
    return (f"{done} at step {at:,}: an update of one network adds no step; the history "
            "marks it with a dotted line.")


def _reset() -> None:
    session().reset()
    notices().info = None
    phases.forget()


def _step() -> None:
    if slow_on():
        phases.one_step(session())
    else:
        session().advance(budget=math.inf)


@dataclass
class Alone:
    """The readouts just before the first of a run of one-network updates at one step: the
    frames at that step show how far each moved since (``frames.with_deltas``)."""

    step: int | None = None
    changes: int = 0
    """How many changes the run had recorded before that first update."""
    readouts: list[Readout] = field(default_factory=list)


def alone_baseline(trainer: Trainer) -> list[Readout] | None:
    """The readouts before this step's updates of one network alone, if the run's changes
    since are all such updates at this step."""
    kept = holder("alone", Alone)
    changes = trainer.changes
    if kept.step != trainer.step or len(changes) <= kept.changes:
        return None
    if any(c.action is None or c.step != kept.step for c in changes[kept.changes:]):
        return None
    return kept.readouts


def _alone(network: str) -> None:
    run = session()
    with run.lock:
        if alone_baseline(run.trainer) is None:  # the first of this step's updates alone
            kept = holder("alone", Alone)
            kept.step, kept.changes = run.trainer.step, len(run.trainer.changes)
            kept.readouts = readouts(run.trainer)
        phases.one_network(run, network)

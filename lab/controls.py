"""The controls: play and step the run, train one network alone, keep a ghost; and the status
line that says what the run is doing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gan_core.session import LabSession

from . import moment
from .run import GHOST, notices, session
from .state import holder

TRAIN_D, TRAIN_G, DROP_GHOST = "train_d", "train_g", "drop_ghost"


def controls() -> None:
    run = session()
    buttons = [  # key, label, icon, callback, disabled, help
        ("play", "Play", "play_arrow", run.play, run.playing,
         "Train continuously, a tick at a time."),
        ("pause", "Pause", "pause", run.pause, not run.playing,
         "Stop training; everything on screen stays."),
        ("step", "Step", "skip_next", lambda: run.advance(budget=math.inf), False,
         "Train one tick's steps and stop."),
        ("reset", "Reset", "restart_alt", _reset, False,
         "Start a fresh model from the current settings and seed."),
        (TRAIN_D, "Train D", "gavel", lambda: run.train_alone("d"), False,
         "One update of the discriminator alone, on a fresh batch: watch D's push on the "
         "curves change while G stays put."),
        (TRAIN_G, "Train G", "brush", lambda: run.train_alone("g"), False,
         "One update of the generator alone, through D as it is: the curves move along D's "
         "push while D stays put."),
    ]
    # A row that wraps rather than stacks: on a phone the buttons stay together, in reach.
    with st.container(horizontal=True, vertical_alignment="center", key="controls"):
        for key, label, icon, callback, disabled, help_text in buttons:
            st.button(label, icon=f":material/{icon}:", key=key, on_click=callback,
                      disabled=disabled, help=help_text,
                      type="primary" if key == "play" else "secondary")
        st.toggle("Ghost", key=GHOST,
                  help="On a live change of a setting, keep a ghost: the run as it would have "
                  "gone on without the change, trained beside it on the same batches and drawn "
                  "dashed.")
        if run.trainer.ghost is not None:
            st.button("Dismiss ghost", icon=":material/close:", key=DROP_GHOST,
                      on_click=run.drop_ghost, type="tertiary")
    holder("status", Status).line = st.empty()
    show_status(run)
    moment.look_back()


@dataclass
class Status:
    line: DeltaGenerator | None = None
    """Where the status line is drawn: the live view's tick redraws it (``lab/live.py``)."""


def show_status(run: LabSession) -> None:
    line = holder("status", Status).line
    if line is not None:
        line.caption(status_line(run))


def status_line(run: LabSession) -> str:
    config = run.config
    shared = (" (slowed down: other visitors are playing on this server)"
              if run.slowed else "")
    planned = run.trainer.planned
    plan = (f" · following the link's changes, next at step {planned[0].step:,}"
            if planned else "")
    return (f"{'Playing' if run.playing else 'Paused'} · {run.steps_per_tick} steps every "
            f"{run.period:g} s{shared} · target: {run.trainer.target.title} · loss: "
            f"{config.loss.replace('_', ' ')} · lr G {config.lr_g:g} / D {config.lr_d:g}{plan}")


def _reset() -> None:
    session().reset()
    notices().info = None

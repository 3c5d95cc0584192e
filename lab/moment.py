"""Looking back: while paused, a slider over the run's snapshots shows any earlier moment, and
*Resume from here* makes it the live run.

The slider sits under the live view's charts, as a video's scrubber sits under the picture: it
comes when the run pauses and goes when it plays, and moves nothing above it. It is part of the
live view's fragment, so moving it redraws the live view alone; resuming, which changes the
run, redraws the page."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from gan_core import Trainer
from gan_core.serve.session import LabSession

from . import settings
from .run import notices, session
from .slot import slot
from .state import holder

SLIDER, RESUME = "look_back", "resume_here"


@dataclass
class MomentState:
    step: int | None = None
    """The step looked at (None: the live run)."""
    view: Trainer | None = None
    """The run as it was at ``step``, kept while it is looked at (``Trainer.at`` replays)."""
    redraw_page: bool = False
    """The run was resumed from a moment: the whole page shows it (its notice, the sidebar)."""


def state() -> MomentState:
    return holder("moment", MomentState)


def shown() -> Trainer:
    """What the live view draws: the moment looked at, or the live run."""
    looked = state()
    run = session()
    if looked.step is None or run.playing or looked.step >= run.trainer.step:
        return run.trainer
    if looked.view is None or looked.view.step != looked.step:
        looked.view = run.moment(looked.step)
    return looked.view


def resumed() -> bool:
    """Was the run resumed from a moment since this was last asked? The page then reruns."""
    looked = state()
    if not looked.redraw_page:
        return False
    looked.redraw_page = False
    return True


def look_back() -> None:
    """The slider, while paused and there is an earlier moment to show; in one slot, so that
    what follows it keeps its place among its siblings as the run plays and pauses."""
    run = session()
    looked = state()
    steps = [s for s in run.trainer.snapshots if s < run.trainer.step]
    shown = not run.playing and bool(steps)
    if not shown:
        looked.step, looked.view = None, None
    with slot(shown):
        if shown:
            _slider(run, looked, steps)


def _slider(run: LabSession, looked: MomentState, steps: list[int]) -> None:
    now = run.trainer.step
    if looked.step not in steps:
        looked.step = None
    # The slider shows the moment looked at; "now" moves on with every step trained.
    st.session_state[SLIDER] = now if looked.step is None else looked.step
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.select_slider(
        "Look back", options=[*steps, now], key=SLIDER, on_change=_move,
        format_func=lambda s: f"step {s:,}" + (" (now)" if s == now else ""),
        help="The run as it was at each kept moment: curves, readouts and D map. Resume from "
        "there to take another way; what came after is dropped.")
    right.button("Resume from here", icon=":material/history:", key=RESUME, width="stretch",
                 disabled=looked.step is None, on_click=_resume,
                 help="Make this moment the live run: later moments and changes are dropped.")


def _move() -> None:
    step = st.session_state[SLIDER]
    state().step = None if step == session().trainer.step else step


def _resume() -> None:
    looked = state()
    if looked.step is None:
        return
    step = looked.step
    session().rewind(step)
    settings.show(session().config)  # the sidebar shows the settings the run has there
    looked.step, looked.view = None, None
    looked.redraw_page = True
    notices().info = f"Resumed from step {step:,}: the run goes on from there."

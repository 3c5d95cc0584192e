"""The live view: the run shown tick by tick while it plays.

What the browser pays for is the page's runs, not the ticks: every run of a fragment re-renders
the whole page, whatever it changed. So one fragment holds the whole live view and reruns about
every two seconds while the run plays (a whole number of periods: ``pacing.ticks_per_rerun``).
Each run trains the ticks whose time has come, one ``LabSession.tick`` at a time as runs of a
tick each would have, and records a frame after each (``lab/frames.py``); the player
(``lab/player.py``) shows them in the browser one a period, about a run behind the server. The
slower panels (``lab/panels.py``) are taken in the same run about once a second
(``pacing.panel_ticks``), computed before anything is sent, and each is shown with the frame it
was taken with.

What the page says of the run is one moment, the frame on show: each frame carries its own
status line. Where the run changes its own settings (a link's schedule), the sidebar can only
follow in a run of the whole page; so the run stops training at that frame, and the page reruns
when the browser shows it (the player says so), or after ``HOLD_SECONDS`` if it never does.
The sidebar's value and the change's toast then come with the frame of the change, not seconds
before it.

A run that follows a full run of the page (a click, a setting, a pause) hands the player its
frames to show at once: the run changed, and the frames still waiting show what it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import streamlit as st

from gan_core.serve.pacing import RERUN_SECONDS, TickClock, panel_ticks, ticks_per_rerun
from gan_core.serve.session import LabSession

from . import classes, controls, moment, panels, phases, player, timers
from .controls import forces_on, slow_on
from .frames import Frame, record, timed, with_deltas
from .run import moved_on, session
from .state import holder

HOLD_SECONDS = 2 * RERUN_SECONDS + 2.0
"""How long the run waits for the browser to show the frame where it changed its own
settings before the page follows anyway (a hidden tab plays late, or not at all)."""


@dataclass(frozen=True)
class Hold:
    """The run changed its own settings at frame ``serial`` and trains no more until the page
    follows it."""

    serial: int
    since: float


@dataclass
class LiveState:
    period: float | None = None
    """The period the fragment's timer was started with (None: paused)."""
    last_tick: tuple[int, float] = (0, 0.0)
    """Steps trained and server seconds taken by the last tick."""
    rerun_asked: bool = False
    """The last run asked for a rerun of the page (which then trains nothing more)."""
    clock: TickClock = field(default_factory=TickClock)
    full_run: bool = True
    """A full run of the page came since the fragment last ran."""
    pending: list[Frame] = field(default_factory=list)
    """Frames recorded by a run that a rerun of the page cut short: the next run shows them."""
    last: Frame | None = None
    """The newest frame handed to the player."""
    frames: int = 0
    batches: int = 0
    hold: Hold | None = None
    shown: int = 0
    """The serial of the last frame the browser said it showed (frames marked ``sync``)."""


def live() -> LiveState:
    return holder("live", LiveState)


def per_rerun(period: float) -> int:
    """Ticks a run of the live view trains: a run's worth (``RERUN_SECONDS``) where the player
    plays them, one where Streamlit's own elements draw each run (``player.plays``)."""
    return ticks_per_rerun(period) if player.plays() else 1


def fragments() -> None:
    """The live view's fragment, on a timer of whole periods while the run plays."""
    run, state = session(), live()
    state.full_run = True
    state.period = run.period if run.playing else None
    every = state.period and state.period * per_rerun(state.period)
    st.fragment(run_every=every)(_live)()


def _live() -> None:
    run, state = session(), live()
    if moment.resumed():
        st.rerun()  # the run went back to a moment: the page shows it, notice and all
    frames, state.pending = state.pending, []
    if not run.playing:
        state.clock.stop()
    if state.hold is not None:
        if state.full_run:
            state.hold = None  # the sidebar follows the run in this run of the page
            state.clock.stop()  # and the run goes on from now
        elif state.shown >= state.hold.serial or time.monotonic() - state.hold.since > \
                HOLD_SECONDS:
            st.rerun()  # the browser shows the change: the whole page follows it now
    if state.rerun_asked or not run.playing or state.hold is not None:
        ticks = 0  # a run that asked for the page's rerun trained already: this one does not
    elif player.plays():
        ticks = state.clock.due(run.period, per_rerun(run.period))
    else:
        ticks = 1
    state.rerun_asked = False
    # A run after a full run of the page shows the run as it stands, panels included, at once:
    # panels taken along the way would not be shown.
    taken = [] if state.full_run else panel_ticks(ticks, run.period)
    shots: list[tuple[int, panels.Panels]] = []  # (frames before it, panels)
    for tick in range(1, ticks + 1):
        frames.append(_tick(run, state))
        if tick in taken:
            shots.append((len(frames), panels.prepare()))
        if run.playing and moved_on() and player.plays():
            # The run changed a setting by its schedule: the sidebar follows when the browser
            # shows this frame, and the run waits for it there.
            frames[-1].sync = True
            state.hold = Hold(frames[-1].serial, time.monotonic())
            if tick not in taken:
                shots.append((len(frames), panels.prepare()))
            break
        state.rerun_asked = (
            not run.playing  # divergence paused training: redraw the controls
            or moved_on())  # the run changed a setting by its schedule: the sidebar follows
        if state.rerun_asked:
            state.pending = frames
            st.rerun()
    if run.playing and run.period != state.period:  # the crowd changed the period
        _restart_timer(state, run.period)
    replace = state.full_run or not run.playing
    if not run.playing or (replace and not frames):
        frames = [_still()]  # the run as it stands: paused, or changed by the visitor
    elif not frames:
        frames = [state.last or _still()]  # nothing due yet: the player has it already
    controls.show_status(frames[-1])
    state.full_run = False
    state.last = frames[-1]
    state.batches += 1
    every = run.period * per_rerun(run.period) if run.playing else 0.0
    if replace or not shots:
        shots = [(len(frames), panels.prepare())]  # the run as it stands, shown at once
    # The panels are computed first: the run's elements then reach the page together. Each is
    # shown when the frame it was taken with is, as the player plays them from the first.
    player.show(frames, replace=replace, period=run.period, every=every, batch=state.batches,
                on_shown=_shown)
    moment.look_back()
    with run.lock:
        phases.strip(moment.shown())
    panels.draw([(0.0 if replace else (n - 1) * run.period, shot) for n, shot in shots])


def _shown() -> None:
    """The browser showed a frame marked ``sync``: the next run of the live view (this one's
    own) makes the page follow."""
    value = player.shown_serial()
    if value is not None:
        live().shown = max(live().shown, value)


def _restart_timer(state: LiveState, period: float) -> None:
    """The crowd changed the run's period: the fragment's timer follows it, and the status
    line says so, without a full run of the page (``lab/timers.py``)."""
    fragment = timers.running_fragment()
    if fragment is not None:
        timers.restart(fragment, period * per_rerun(period))
    state.period = period


def _tick(run: LabSession, state: LiveState) -> Frame:
    """One tick of training and the frame it leads to."""
    started = time.perf_counter()
    if slow_on():
        steps = phases.tick_slowly(run)
    else:
        steps = run.tick()
        if steps:
            phases.forget()  # the run moved on at full speed: no phase to show
    return _recorded(run, state, steps, started)


def _still() -> Frame:
    run, state = session(), live()
    return _recorded(run, state, 0, time.perf_counter())


def _recorded(run: LabSession, state: LiveState, steps: int, started: float) -> Frame:
    slow = slow_on()
    with run.lock:
        shown = moment.shown()
        frame = record(shown, forces_on(), classes.focus(shown))
        frame.status = controls.status_line(run, shown, slow)
        if shown is run.trainer:
            frame.note = controls.alone_note(
                shown, within=run.steps_per_tick * per_rerun(run.period))
            before = controls.alone_baseline(shown)
            if frame.note and before is not None:
                frame.readouts = with_deltas(frame.readouts, before)
    elapsed = time.perf_counter() - started
    state.last_tick = (steps, elapsed)
    state.frames += 1
    frame.serial = state.frames
    return timed(frame, steps, elapsed)

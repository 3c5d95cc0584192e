"""The live view: the run redrawn every tick while it plays.

Two fragments rerun on their own timers: the fast one (a tick of training, the readouts, the
curves and the fitted-parameter histogram) every period, the panels (``lab/panels.py``) at most
once a second; their redraw is most of a page's work, and losses and maps read fine at one
frame a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from gan_core import Trainer, inference
from gan_core import charts as ch
from gan_core.losses import equilibrium_point
from gan_core.metrics import EVAL_SAMPLES, noise_floors

from . import controls, moment, panels, phases, timers
from .chart import chart
from .controls import forces_on, slow_on
from .run import moved_on, session
from .state import holder

PANEL_SECONDS = 1.0
"""The panels redraw at most this often."""


@dataclass
class LiveState:
    period: float | None = None
    """The period the fragments' timers were started with (None: paused)."""
    last_tick: tuple[int, float] = (0, 0.0)
    """Steps trained and server seconds taken by the last fast tick."""
    rerun_asked: bool = False
    """The last tick asked for a rerun of the page (which then trains nothing more)."""
    panels_fragment: str | None = None
    """The panels fragment's id, so that the fast one can restart its timer too."""


def live() -> LiveState:
    return holder("live", LiveState)


def fragments() -> None:
    """Start both fragments, with timers at the run's period while it plays."""
    run = session()
    period = live().period = run.period if run.playing else None
    st.fragment(run_every=period)(_fast)()
    st.fragment(run_every=period and _panel_seconds(period))(_panels)()


def _panel_seconds(period: float) -> float:
    return max(PANEL_SECONDS, 2 * period)


def _panels() -> None:
    live().panels_fragment = timers.running_fragment()
    panels.panels()


def _restart_timers(state: LiveState, period: float) -> None:
    """The crowd changed the run's period: both fragments' timers follow it, and the status
    line says so, without a full run of the page (``lab/timers.py``)."""
    fast = timers.running_fragment()
    if fast is not None:
        timers.restart(fast, period)
    if state.panels_fragment is not None:
        timers.restart(state.panels_fragment, _panel_seconds(period))
    state.period = period


def _fast() -> None:
    started = time.perf_counter()
    run, state = session(), live()
    was_playing = run.playing
    # A tick that asked for the page's rerun has trained already: the rerun's does not.
    if state.rerun_asked:
        steps = 0
    elif slow_on() and run.playing:
        steps = phases.tick_slowly(run)
    else:
        steps = run.tick()
        if steps:
            phases.forget()  # the run moved on at full speed: no phase to show
    state.rerun_asked = (
        (was_playing and not run.playing)  # divergence paused training: redraw the controls
        or moved_on())  # the run changed a setting by its schedule: the sidebar follows
    if state.rerun_asked:
        st.rerun()
    if run.playing and run.period != state.period:  # the crowd changed the period
        _restart_timers(state, run.period)
    controls.show_status(run)
    with run.lock:
        trainer = moment.shown()
        _readouts(trainer)
        timing = st.empty()
        left, right = st.columns([3, 2])
        with left:
            st.markdown("##### The generator's curves inside the bounds")
            _curves(trainer)
        with right:
            target = trainer.config.target
            chart(ch.distribution_spec(target),
                  ch.distribution_data(inference.fitted_parameter(trainer), target),
                  "distribution")
        phases.strip(trainer)
    elapsed = time.perf_counter() - started
    state.last_tick = (steps, elapsed)
    timing.caption(f"Last refresh: {steps} training steps, readouts and curves in "
                   f"{1000 * elapsed:.0f} ms on the server.")


def _curves(trainer: Trainer) -> None:
    target = trainer.config.target
    view = inference.curves_view(trainer)
    ghost = inference.ghost_curves(trainer)
    pushes = trainer.forces(inference.latent(trainer, inference.CURVES, len(view.generated))) \
        if forces_on() else None
    scale = ch.force_scale(pushes) if pushes is not None else 1.0
    chart(ch.curves_spec(target, ghost=ghost is not None, forces=pushes is not None),
          ch.curves_data(view, target, ghost=ghost, forces=pushes, scale=scale), "curves")
    if pushes is not None:
        st.caption(f"Forces: each line is D's push on a point of G's curves (minus the "
                   f"gradient of G's loss there), drawn at {scale:g} × its size; the largest "
                   f"is {float(abs(pushes).max()):.2g}.")
    if ghost is not None:
        kept = ", ".join(f"{name} {value}" for name, value in trainer.ghost.kept.items())
        st.caption(f"Dashed: the ghost, the run as it would have gone on with {kept}, "
                   f"forked at step {trainer.ghost.forked_at:,}.")


def _readouts(trainer: Trainer) -> None:
    m = trainer.readouts()
    config = trainer.config
    eq = equilibrium_point(config.loss)
    floors = noise_floors(config.target, config.n_points, EVAL_SAMPLES)
    # A row that wraps on a narrow screen instead of stacking the readouts.
    row = st.container(horizontal=True, gap="medium", key="readouts")
    row.metric("Step", f"{trainer.step:,}", help="Training steps so far: each updates G, "
               "then D (Train D and Train G update one network alone and add no step).")
    row.metric("D accuracy", f"{m.d_real:.3f}",
               help=f"Mean D(real): D's probability that a real curve is real (the tutorial's "
               f"'D accuracy'). Target {eq.d_real:.3f} for this loss, where D can no longer "
               "tell" + (": least squares' undecided D outputs 1/2 before the sigmoid."
                         if config.loss == "least_squares" else "."))
    row.metric("D score", f"{m.d_score:.3f}",
               help=f"-D_loss (the tutorial's 'D score'). Target {eq.d_score:.3f} for this "
               "loss, where D is reduced to guessing (-log 4 = -1.386 for minimax).")
    row.metric("In band", f"{100 * m.in_band:.1f}%",
               help="Share of generated points inside the target's envelope (±0.05). Target "
               "100%; the tutorial reaches ~94% after 10,000 steps. A curve of the wrong "
               "shape can lie inside the band: see Shape error.")
    if m.joint_w1 is not None:
        row.metric("W1, joint", f"{m.joint_w1:.3f}",
                   help="Wasserstein-1 distance (sliced) between the joint law of amplitude "
                   "and phase fitted to 1,000 generated curves and that of as many real ones: "
                   f"wrong pairings count too. Sampling noise alone reads {floors.joint_w1:.3f}.")
    else:
        row.metric("W1", f"{m.w1:.3f}",
                   help="Wasserstein-1 distance between the fitted parameter of 1,000 "
                   "generated curves and its true law. 0 is perfect; sampling noise alone "
                   "gives ~0.01. The tutorial reaches ~0.05 after 10,000 steps.")
    row.metric("Shape error", f"{m.fit_residual:.3f}",
               help="Mean RMS distance of a generated curve from the nearest curve of the "
               f"target family: 0 for a curve of the right shape (real curves read "
               f"{floors.fit_residual:.1g}, float rounding). In band can be high while this "
               "says the curves are the wrong shape.")

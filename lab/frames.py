"""A frame: what the live view shows of the run after one tick, recorded on the server.

A run of the live view trains several ticks and records a frame after each: the readouts, the
curves chart's and the histogram's datasets, the notes under the curves and the "Last tick"
line. The browser plays the frames one a period (``lab/player.py``), so every tick the visitor
sees is a state the run really went through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from gan_core import Trainer
from gan_core.gan.losses import equilibrium_point
from gan_core.measure.metrics import EVAL_SAMPLES, noise_floors
from gan_core.views import charts as ch
from gan_core.views import inference


@dataclass(frozen=True)
class Readout:
    label: str
    value: str
    help: str
    number: float = float("nan")
    """The value as a number (a percentage as its fraction), for ``with_deltas``."""
    delta: str = ""
    """How far the value moved since a baseline, as the value is spelled ("+0.012")."""


@dataclass(frozen=True)
class Chart:
    """A chart's spec (the same object while its look stays: ``gan_core.views.charts`` caches
    them) and its datasets at one tick."""

    spec: ch.Spec
    data: ch.Datasets


@dataclass
class Frame:
    step: int
    readouts: list[Readout]
    curves: Chart
    distribution: Chart
    notes: list[str]
    """Captions under the curves: the forces' scale, the ghost."""
    tick: str = ""
    """The "Last tick" line: steps trained and server time of the tick that led here."""
    serial: int = field(default=0)
    """Frames of one visitor are numbered in the order they were recorded."""
    status: str = ""
    """The status line at this frame: playing or paused, pace, target, loss, learning rates
    (``lab/controls.py``). It travels with the frame, so it says what the run was doing when
    the frame shown was recorded, not what the server is doing ahead of it."""
    note: str = ""
    """What the controls did that the step does not show (a network trained alone)."""
    sync: bool = False
    """The run changed its own settings by its schedule at this frame: the page's sidebar
    follows once the browser shows it (``lab/live.py``)."""


def record(trainer: Trainer, forces: bool) -> Frame:
    """The live view of ``trainer`` now (its "Last tick" line is written by ``timed``)."""
    target = trainer.config.target
    curves, notes = _curves(trainer, forces)
    hist = Chart(ch.distribution_spec(target),
                 ch.distribution_data(inference.fitted_parameter(trainer), target))
    return Frame(trainer.step, readouts(trainer), curves, hist, notes)


def timed(frame: Frame, steps: int, seconds: float) -> Frame:
    frame.tick = (f"Last tick: {steps} training steps, readouts and curves in "
                  f"{1000 * seconds:.0f} ms on the server.")
    return frame


def _curves(trainer: Trainer, forces: bool) -> tuple[Chart, list[str]]:
    target = trainer.config.target
    view = inference.curves_view(trainer)
    ghost = inference.ghost_curves(trainer)
    pushes = trainer.forces(inference.latent(trainer, inference.CURVES, len(view.generated))) \
        if forces else None
    scale = ch.force_scale(pushes) if pushes is not None else 1.0
    chart = Chart(ch.curves_spec(target, ghost=ghost is not None, forces=pushes is not None),
                  ch.curves_data(view, target, ghost=ghost, forces=pushes, scale=scale))
    notes = []
    if pushes is not None:
        notes.append(f"Forces: each line is D's push on a point of G's curves (minus the "
                     f"gradient of G's loss there), drawn at {scale:g} × its size; the largest "
                     f"is {float(np.abs(pushes).max()):.2g}.")
    if ghost is not None:
        kept = ", ".join(f"{name} {value}" for name, value in trainer.ghost.kept.items())
        notes.append(f"Dashed: the ghost, the run as it would have gone on with {kept}, "
                     f"forked at step {trainer.ghost.forked_at:,}.")
    return chart, notes


def readouts(trainer: Trainer) -> list[Readout]:
    m = trainer.readouts()
    config = trainer.config
    eq = equilibrium_point(config.loss)
    floors = noise_floors(config.target, config.n_points, EVAL_SAMPLES)
    shown = [
        Readout("Step", f"{trainer.step:,}", "Training steps so far: each updates G, then D "
                "(Train D and Train G update one network alone and add no step).",
                float(trainer.step)),
        Readout("D accuracy", f"{m.d_real:.3f}",
                f"Mean D(real): D's probability that a real curve is real (the tutorial's "
                f"'D accuracy'). Target {eq.d_real:.3f} for this loss, where D can no longer "
                "tell" + (": least squares' undecided D outputs 1/2 before the sigmoid."
                          if config.loss == "least_squares" else "."), m.d_real),
        Readout("D score", f"{m.d_score:.3f}",
                f"-D_loss (the tutorial's 'D score'). Target {eq.d_score:.3f} for this loss, "
                "where D is reduced to guessing (-log 4 = -1.386 for minimax).", m.d_score),
        Readout("In band", f"{100 * m.in_band:.1f}%",
                "Share of generated points inside the target's envelope (±0.05). Target "
                "100%; the tutorial reaches ~94% after 10,000 steps. A curve of the wrong "
                "shape can lie inside the band: see Shape error.", m.in_band),
    ]
    if m.joint_w1 is not None:
        shown.append(Readout(
            "W1, joint", f"{m.joint_w1:.3f}",
            "Wasserstein-1 distance (sliced) between the joint law of amplitude and phase "
            "fitted to 1,000 generated curves and that of as many real ones: wrong pairings "
            f"count too. Sampling noise alone reads {floors.joint_w1:.3f}.", m.joint_w1))
    else:
        shown.append(Readout(
            "W1", f"{m.w1:.3f}",
            "Wasserstein-1 distance between the fitted parameter of 1,000 generated curves "
            "and its true law. 0 is perfect; sampling noise alone gives ~0.01. The tutorial "
            "reaches ~0.05 after 10,000 steps.", m.w1))
    shown.append(Readout(
        "Shape error", f"{m.fit_residual:.3f}",
        "Mean RMS distance of a generated curve from the nearest curve of the target family: "
        f"0 for a curve of the right shape (real curves read {floors.fit_residual:.1g}, float "
        "rounding). In band can be high while this says the curves are the wrong shape.",
        m.fit_residual))
    return shown


def with_deltas(now: list[Readout], before: list[Readout]) -> list[Readout]:
    """``now``, each readout that moved since ``before`` (the same readouts, earlier) saying
    by how much, spelled as its value is; the step, which one network's update never moves,
    says nothing."""
    was = {r.label: r.number for r in before}
    out = []
    for r in now:
        old = was.get(r.label)
        moved = (r.label != "Step" and old is not None and np.isfinite(old)
                 and np.isfinite(r.number) and _spelled(r, r.number) != _spelled(r, old))
        out.append(replace(r, delta=_signed(r, r.number - old)) if moved else r)
    return out


def _spelled(readout: Readout, number: float) -> str:
    return f"{100 * number:.1f}%" if readout.value.endswith("%") else f"{number:.3f}"


def _signed(readout: Readout, change: float) -> str:
    text = _spelled(readout, abs(change))
    return ("+" if change > 0 else "−") + text

"""A frame: what the live view shows of the run after one tick, recorded on the server.

A run of the live view trains several ticks and records a frame after each: the readouts, the
curves chart's and the histogram's datasets, the notes under the curves and the "Last tick"
line. The browser plays the frames one a period (``lab/player.py``), so every tick the visitor
sees is a state the run really went through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gan_core import Trainer
from gan_core.gan.losses import equilibrium_point
from gan_core.gan.targets import CLASS_MARK
from gan_core.measure.metrics import EVAL_SAMPLES, Readouts, noise_floors
from gan_core.views import charts as ch
from gan_core.views import inference


@dataclass(frozen=True)
class Readout:
    label: str
    value: str
    help: str


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


def record(trainer: Trainer, forces: bool, focus: int | None = None) -> Frame:
    """The live view of ``trainer`` now (its "Last tick" line is written by ``timed``); a
    conditional run's with the class ``focus`` looked at."""
    target, conditional = trainer.config.target, trainer.config.conditional
    curves, notes = _curves(trainer, forces, focus or 0)
    hist = Chart(ch.distribution_spec(target, conditional),
                 ch.distribution_data(inference.fitted_parameter(trainer), target,
                                      labels=inference.histogram_labels(trainer)))
    return Frame(trainer.step, readouts(trainer), curves, hist, notes)


def timed(frame: Frame, steps: int, seconds: float) -> Frame:
    frame.tick = (f"Last tick: {steps} training steps, readouts and curves in "
                  f"{1000 * seconds:.0f} ms on the server.")
    return frame


def _curves(trainer: Trainer, forces: bool, focus: int) -> tuple[Chart, list[str]]:
    target, conditional = trainer.config.target, trainer.config.conditional
    view = inference.curves_view(trainer, focus=focus)
    ghost = inference.ghost_curves(trainer, labels=view.labels)
    pushes = inference.curve_forces(trainer, view) if forces else None
    scale = ch.force_scale(pushes) if pushes is not None else 1.0
    chart = Chart(ch.curves_spec(target, ghost=ghost is not None, forces=pushes is not None,
                                 conditional=conditional),
                  ch.curves_data(view, target, ghost=ghost, forces=pushes, scale=scale))
    notes = []
    if conditional:
        names = trainer.target.class_names
        ghostly = " (the ghost's dashed)" if ghost is not None else ""
        notes.append(f"Conditional: each of G's curves in the colour of the class it was asked "
                     f"for{ghostly}; "
                     f"the {names[focus]} class's band drawn full, the other"
                     f"{'s' if len(names) > 2 else ''} faded (Class, under the latent "
                     "explorer).")
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
                "(Train D and Train G update one network alone and add no step)."),
        Readout("D accuracy", f"{m.d_real:.3f}",
                f"Mean D(real): D's probability that a real curve is real (the tutorial's "
                f"'D accuracy'). Target {eq.d_real:.3f} for this loss, where D can no longer "
                "tell" + (": least squares' undecided D outputs 1/2 before the sigmoid."
                          if config.loss == "least_squares" else ".")),
        Readout("D score", f"{m.d_score:.3f}",
                f"-D_loss (the tutorial's 'D score'). Target {eq.d_score:.3f} for this loss, "
                "where D is reduced to guessing (-log 4 = -1.386 for minimax)."),
        Readout("In band", f"{100 * m.in_band:.1f}%",
                "Share of generated points inside the target's envelope (±0.05). Target "
                "100%; the tutorial reaches ~94% after 10,000 steps. A curve of the wrong "
                "shape can lie inside the band: see Shape error."),
    ]
    if m.joint_w1 is not None:
        shown.append(Readout(
            "W1, joint", f"{m.joint_w1:.3f}",
            "Wasserstein-1 distance (sliced) between the joint law of amplitude and phase "
            "fitted to 1,000 generated curves and that of as many real ones: wrong pairings "
            f"count too. Sampling noise alone reads {floors.joint_w1:.3f}."))
    else:
        shown.append(Readout(
            "W1", f"{m.w1:.3f}",
            "Wasserstein-1 distance between the fitted parameter of 1,000 generated curves "
            "and its true law. 0 is perfect; sampling noise alone gives ~0.01. The tutorial "
            "reaches ~0.05 after 10,000 steps."))
    if m.class_accuracy is not None:
        shown = shown[:3] + _class_readouts(trainer, m)
    shown.append(Readout(
        "Shape error", f"{m.fit_residual:.3f}",
        "Mean RMS distance of a generated curve from the nearest curve of the target family: "
        f"0 for a curve of the right shape (real curves read {floors.fit_residual:.1g}, float "
        "rounding). In band can be high while this says the curves are the wrong shape."))
    return shown


CONDITIONAL_REACHES = 0.95
"""Class accuracy of ``406_conditional_GAN.py``'s own run after 10,000 steps, the mean over
seeds 0-2 (``benchmarks/conditional.py``, docs/conditional.md)."""


def _class_readouts(trainer: Trainer, m: Readouts) -> list[Readout]:
    """A conditional run's readouts: class accuracy, then each class's in band and W1 (or,
    for a family of two parameters, joint W1) against that class's own band and law."""
    config, target = trainer.config, trainer.target
    joint = len(target.param_names) > 1
    shown = [Readout(
        "Class accuracy", f"{100 * m.class_accuracy:.1f}%",
        "Share of G's curves that land in the band of the class they were asked for: what a "
        "conditional GAN exists for. Target 100%; a G that ignores its label reads about 50%. "
        "On the tutorial's parabolas, 406_conditional_GAN.py reaches about "
        f"{100 * CONDITIONAL_REACHES:.0f}% after 10,000 steps. Classes: {target.class_rule}.")]
    for c in m.classes:
        shown.append(Readout(
            f"In band, {c.name}", f"{100 * c.in_band:.1f}%",
            f"Share of the points of the curves asked for {c.name} that lie inside the "
            f"{c.name} class's own band (±0.05). Target 100%; on the tutorial's parabolas, "
            "406_conditional_GAN.py reaches about 95% for each class after 10,000 steps."))
    for c in m.classes:
        if joint:
            floor = noise_floors(f"{config.target}{CLASS_MARK}{m.classes.index(c)}",
                                 config.n_points, EVAL_SAMPLES // len(m.classes)).joint_w1
            shown.append(Readout(
                f"W1 joint, {c.name}", f"{c.joint_w1:.3f}",
                f"Sliced Wasserstein-1 distance between amplitude and phase fitted to the "
                f"curves asked for {c.name} and those of as many real {c.name} curves. "
                f"Sampling noise alone reads about {floor:.3f}."))
        else:
            shown.append(Readout(
                f"W1, {c.name}", f"{c.w1:.3f}",
                f"Wasserstein-1 distance between the parameter fitted to the curves asked for "
                f"{c.name} and the {c.name} class's own law. 0 is perfect; on the tutorial's "
                "parabolas, 406_conditional_GAN.py reaches 0.03 to 0.05 after 10,000 steps."))
    return shown

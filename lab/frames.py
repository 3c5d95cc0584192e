"""A frame: what the live view shows of the run after one tick, recorded on the server.

A run of the live view trains several ticks and records a frame after each: the readouts, the
curves chart's and the histogram's datasets, the notes under the curves and the "Last tick"
line. The browser plays the frames one a period (``lab/player.py``), so every tick the visitor
sees is a state the run really went through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from gan_core import GANConfig, Trainer
from gan_core.gan.losses import equilibrium_point
from gan_core.gan.targets import CLASS_MARK
from gan_core.measure.metrics import (
    EVAL_SAMPLES,
    DataReadouts,
    Readouts,
    data_floors,
    noise_floors,
)
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


def record(trainer: Trainer, forces: bool, focus: int | None = None) -> Frame:
    """The live view of ``trainer`` now (its "Last tick" line is written by ``timed``); a
    conditional run's with the class ``focus`` looked at."""
    target, conditional = trainer.target.name, trainer.config.conditional
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
    target, conditional = trainer.target.name, trainer.config.conditional
    view = inference.curves_view(trainer, focus=focus)
    ghost = inference.ghost_curves(trainer, labels=view.labels)
    pushes = inference.curve_forces(trainer, view) if forces else None
    scale = ch.force_scale(pushes, ch.force_reach(target)) if pushes is not None else 1.0
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


def _judge(config: GANConfig, m: Readouts | DataReadouts) -> list[Readout]:
    """What D's own readouts are for this loss: the tutorial's D accuracy and D score, or,
    for a critic, which has no probability, its gap and its slope."""
    if config.loss == "wasserstein":
        return [
            Readout("Critic gap", f"{m.d_score:.3f}",
                    "A critic gives scores, not probabilities, so there is no 'D accuracy': "
                    "shown instead is its mean score on real curves minus on generated ones "
                    "(-D_loss), its estimate of how far apart they are (Wasserstein-1, as far "
                    "as its slope is held near 1). Target 0.", m.d_score),
            Readout("Critic slope", f"{m.slope:.3f}",
                    "Mean length of the critic's gradient over the real and generated curves: "
                    "the gradient penalty (WGAN-GP) holds it near 1, spectral normalisation "
                    "below it; with neither it grows without bound. Target 1.",
                    m.slope if m.slope is not None else float("nan")),
        ]
    eq = equilibrium_point(config.loss, config.real_label)
    smoothed = eq.d_real != equilibrium_point(config.loss).d_real
    return [
        Readout("D accuracy", f"{m.d_real:.3f}",
                f"Mean D(real): D's probability that a real curve is real (the tutorial's "
                f"'D accuracy'). Target {eq.d_real:.3f} for this loss, where D can no longer "
                "tell" + (": least squares' undecided D outputs 1/2 before the sigmoid"
                          if config.loss == "least_squares" else "")
                + (f", with real label {config.real_label:g}" if smoothed else "") + ".",
                m.d_real),
        Readout("D score", f"{m.d_score:.3f}",
                f"-D_loss (the tutorial's 'D score'), without any penalty. Target "
                f"{eq.d_score:.3f} for this loss, where D is reduced to guessing (-log 4 = "
                "-1.386 for minimax).", m.d_score),
    ]


def readouts(trainer: Trainer) -> list[Readout]:
    m = trainer.readouts()
    if isinstance(m, DataReadouts):
        return _step_and_d(trainer, m) + data_readouts(trainer, m)
    config = trainer.config
    floors = noise_floors(config.target, config.n_points, EVAL_SAMPLES)
    shown = _step_and_d(trainer, m)
    if m.class_accuracy is None:
        shown += _band_and_w1(m, floors.joint_w1)
    else:  # the class readouts stand in for the overall in band and W1
        shown += _class_readouts(trainer, m)
    shown.append(Readout(
        "Shape error", f"{m.fit_residual:.3f}",
        "Mean RMS distance of a generated curve from the nearest curve of the target family: "
        f"0 for a curve of the right shape (real curves read {floors.fit_residual:.1g}, float "
        "rounding). In band can be high while this says the curves are the wrong shape.",
        m.fit_residual))
    return shown


def _band_and_w1(m: Readouts, joint_floor: float) -> list[Readout]:
    """In band and W1 (joint W1 for a family of two parameters) over all of G's curves."""
    band = Readout("In band", f"{100 * m.in_band:.1f}%",
                   "Share of generated points inside the target's envelope (±0.05). Target "
                   "100%; the tutorial reaches ~94% after 10,000 steps. A curve of the wrong "
                   "shape can lie inside the band: see Shape error.", m.in_band)
    if m.joint_w1 is not None:
        return [band, Readout(
            "W1, joint", f"{m.joint_w1:.3f}",
            "Wasserstein-1 distance (sliced) between the joint law of amplitude and phase "
            "fitted to 1,000 generated curves and that of as many real ones: wrong pairings "
            f"count too. Sampling noise alone reads {joint_floor:.3f}.", m.joint_w1)]
    return [band, Readout(
        "W1", f"{m.w1:.3f}",
        "Wasserstein-1 distance between the fitted parameter of 1,000 generated curves "
        "and its true law. 0 is perfect; sampling noise alone gives ~0.01. The tutorial "
        "reaches ~0.05 after 10,000 steps.", m.w1)]


def _step_and_d(trainer: Trainer, m: Readouts | DataReadouts) -> list[Readout]:
    """Step and D's own readouts (``_judge``): the readouts of every target."""
    return [
        Readout("Step", f"{trainer.step:,}", "Training steps so far: each updates G, then D "
                "(Train D and Train G update one network alone and add no step).",
                float(trainer.step)),
        *_judge(trainer.config, m),
    ]


def data_readouts(trainer: Trainer, m: DataReadouts) -> list[Readout]:
    """In band, sliced W1, precision, recall and the nearest real curve of a run of your data,
    each with its target and what a perfect generator reads (``DataMetrics``)."""
    floors = data_floors(trainer.target.name, EVAL_SAMPLES)
    unit = " (in the curves' own units)" if trainer.target.unit != 1 else ""
    shown = [
        Readout("In band", f"{100 * m.in_band:.1f}%",
                "Share of generated points inside your data's envelope (per point, the lowest "
                "and highest real value), with a tolerance of "
                f"{trainer.target.tolerance * trainer.target.unit:.3g}: the tutorial's 0.05 in "
                "proportion to the envelope's width. Target 100%; real curves read "
                f"{100 * floors.in_band:.1f}%. A curve of the wrong shape can lie inside.",
                m.in_band),
        Readout("Sliced W1", f"{m.sliced_w1:.3g}",
                "Wasserstein-1 distance between 1,000 generated and 1,000 real curves in curve "
                "space, averaged over 64 fixed directions" + unit + ". 0 is perfect; sampling "
                f"noise alone (two samples of the real curves) reads {floors.sliced_w1:.3g}.",
                m.sliced_w1),
        Readout("Precision", f"{m.precision:.2f}",
                "Are G's curves realistic? The share of 500 generated curves inside the real "
                "curves' manifold (k-nearest-neighbour balls, k = 3, Kynkäänniemi et al. 2019; "
                "each ball at least the in-band tolerance wide). Target 1; a perfect generator "
                f"reads {floors.precision:.2f}.", m.precision),
        Readout("Recall", f"{m.recall:.2f}",
                "Is all of your data covered? The share of real curves inside the generated "
                "curves' manifold. A G that paints only part of a mixture reads low recall "
                f"(mode collapse). Target 1; a perfect generator reads {floors.recall:.2f}.",
                m.recall),
        Readout("Nearest real", f"{m.nearest_real:.3g}",
                "Mean RMS distance from a generated curve to its nearest real curve" + unit
                + f". Real curves lie {floors.real_spacing:.3g} from their nearest other one: "
                "far below that, G copies curves of your data; far above, it paints curves "
                "unlike any.", m.nearest_real),
    ]
    if m.class_accuracy is None:
        return shown
    # A conditional run's class readouts follow the overall in band and sliced W1.
    after = next(i for i, r in enumerate(shown) if r.label == "Sliced W1") + 1
    return shown[:after] + _data_class_readouts(trainer, m, unit) + shown[after:]


def _data_class_readouts(trainer: Trainer, m: DataReadouts, unit: str) -> list[Readout]:
    """A conditional run of your data's readouts: class accuracy, then each class's in band
    and sliced W1 against that class's own curves (the rows of its label)."""
    target = trainer.target
    chance = float(np.sum(target.class_shares() ** 2))
    shown = [Readout(
        "Class accuracy", f"{100 * m.class_accuracy:.1f}%",
        "Share of G's curves that land in the class they were asked for: what a conditional "
        "GAN exists for. A curve lands in the class of its nearest real curve, if it lies within "
        "two in-band tolerances of it (RMS over the points, with the noise's width for curves "
        "with noise; farther, in no class). Target 100%; real curves read 100%, and a G that "
        "ignores its "
        f"label about {100 * chance:.0f}%. Classes: your file's labels.", m.class_accuracy)]
    for c in m.classes:
        shown.append(Readout(
            f"In band, {c.name}", f"{100 * c.in_band:.1f}%",
            f"Share of the points of the curves asked for {c.name} inside the band of your "
            f"{c.name} curves (their envelope, with the in-band tolerance). Target 100%.",
            c.in_band))
    for k, c in enumerate(m.classes):
        floor = data_floors(f"{target.name}{CLASS_MARK}{k}",
                            max(1, round(EVAL_SAMPLES * target.class_shares()[k]))).sliced_w1
        shown.append(Readout(
            f"Sliced W1, {c.name}", f"{c.w1:.3g}",
            f"Wasserstein-1 distance, in curve space as Sliced W1, between the curves asked "
            f"for {c.name} and as many real {c.name} curves{unit}. 0 is perfect; sampling "
            f"noise alone reads about {floor:.3g}.", c.w1))
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
        f"{100 * CONDITIONAL_REACHES:.0f}% after 10,000 steps. Classes: {target.class_rule}.",
        m.class_accuracy)]
    for c in m.classes:
        shown.append(Readout(
            f"In band, {c.name}", f"{100 * c.in_band:.1f}%",
            f"Share of the points of the curves asked for {c.name} that lie inside the "
            f"{c.name} class's own band (±0.05). Target 100%; on the tutorial's parabolas, "
            "406_conditional_GAN.py reaches about 95% for each class after 10,000 steps.",
            c.in_band))
    for c in m.classes:
        if joint:
            floor = noise_floors(f"{config.target}{CLASS_MARK}{m.classes.index(c)}",
                                 config.n_points, EVAL_SAMPLES // len(m.classes)).joint_w1
            shown.append(Readout(
                f"W1 joint, {c.name}", f"{c.joint_w1:.3f}",
                f"Sliced Wasserstein-1 distance between amplitude and phase fitted to the "
                f"curves asked for {c.name} and those of as many real {c.name} curves. "
                f"Sampling noise alone reads about {floor:.3f}.", c.joint_w1))
        else:
            shown.append(Readout(
                f"W1, {c.name}", f"{c.w1:.3f}",
                f"Wasserstein-1 distance between the parameter fitted to the curves asked for "
                f"{c.name} and the {c.name} class's own law. 0 is perfect; on the tutorial's "
                "parabolas, 406_conditional_GAN.py reaches 0.03 to 0.05 after 10,000 steps.",
                c.w1))
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

"""What the page shows of a run, as arrays: the one step between a trainer and the charts.

Every random number drawn here comes from the streams of ``gan_core.gan.streams``. In a
conditional run every generated curve is asked for a class: the curves chart's take the
classes in turn from the one looked at (``focus``), so both are always on show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gan.streams import CURVES, HISTOGRAM, LATENT, stream
from ..training.trainer import Trainer

LATENT_RANGE = (-2.5, 2.5)
"""The latent explorer moves one input of G over this range (±2.5 standard deviations)."""
CURVE_LIMIT = 1e3
"""Generated values are clipped to this for drawing: a diverging G must not break a chart."""


def latent(trainer: Trainer, which: int, n: int) -> np.ndarray:
    """``n`` latent vectors from stream ``which``: the same ones at every step of a run."""
    return stream(trainer.config.seed, which).standard_normal(
        (n, trainer.config.latent_dim), dtype=np.float32)


def n_classes(trainer: Trainer) -> int:
    """Classes a run's G is asked for: 0 unless it is conditional."""
    return len(trainer.target.class_names) if trainer.config.conditional else 0


def curve_labels(trainer: Trainer, n: int, focus: int = 0) -> np.ndarray | None:
    """The classes the curves chart's ``n`` curves are asked for in a conditional run: every
    class in turn, from ``focus`` (so the bold first curve is of the class looked at); None
    without classes."""
    k = n_classes(trainer)
    return None if k == 0 else (focus + np.arange(n)) % k


@dataclass(frozen=True)
class CurvesView:
    """Curves to draw at one step: a fixed set of real ones and G's curves for fixed noise.
    The first generated curve is the one drawn bold."""

    x: np.ndarray  # (n_points,)
    real: np.ndarray  # (n_real, n_points)
    generated: np.ndarray  # (n_generated, n_points)
    labels: np.ndarray | None = None
    """A conditional run's class asked for each generated curve ``(n_generated,)``."""
    focus: int = 0
    """The class looked at (a conditional run's): its band drawn full, the others faded."""


def curves_view(trainer: Trainer, n_generated: int = 16, n_real: int = 8,
                focus: int = 0) -> CurvesView:
    labels = curve_labels(trainer, n_generated, focus)
    generated = np.clip(trainer.generate(latent(trainer, CURVES, n_generated), labels),
                        -CURVE_LIMIT, CURVE_LIMIT)
    return CurvesView(trainer.x, trainer.real_samples(n_real), generated, labels, focus)


def curve_forces(trainer: Trainer, view: CurvesView) -> np.ndarray:
    """D's push on each point of the view's generated curves (``Trainer.forces``), through
    D told the class each was asked for."""
    return trainer.forces(latent(trainer, CURVES, len(view.generated)), labels=view.labels)


def ghost_curves(trainer: Trainer, n_generated: int = 16,
                 labels: np.ndarray | None = None) -> np.ndarray | None:
    """The ghost's curves for the curve chart's latent vectors (and classes, ``labels``)
    (None without a ghost): what the run would paint had the last forked change not been
    made."""
    if trainer.ghost is None:
        return None
    return np.clip(trainer.ghost.generate(latent(trainer, CURVES, n_generated), labels),
                   -CURVE_LIMIT, CURVE_LIMIT)


def fitted_parameter(trainer: Trainer, n: int = 500) -> np.ndarray:
    """The target's first parameter fitted to ``n`` generated curves ``(n,)``: what the
    histogram compares with its true law (your data's first principal component's score). A
    conditional run's curves are asked for each class in turn (``histogram_labels``)."""
    target = trainer.target
    with np.errstate(all="ignore"):
        curves = target.trained(trainer.generate(latent(trainer, HISTOGRAM, n),
                                                 histogram_labels(trainer, n)))
        params, _ = target.fit(curves, trainer.x)
    return params[:, 0]


def histogram_labels(trainer: Trainer, n: int = 500) -> np.ndarray | None:
    """The classes the histogram's ``n`` curves are asked for: each in turn (None without
    classes)."""
    return curve_labels(trainer, n)


@dataclass(frozen=True)
class LatentSweep:
    """G's curves along one latent direction through a fixed base point."""

    x: np.ndarray  # (n_points,)
    positions: np.ndarray  # (k,) values of the moved input, ascending
    curves: np.ndarray  # (k, n_points)
    current: float  # the position the learner chose, one of ``positions``
    label: np.ndarray | None = None
    """A conditional run's label columns G was given for every curve (a class, or a blend
    of two)."""


def latent_sweep(trainer: Trainer, dim: int, position: float, n: int = 9,
                 label: np.ndarray | None = None) -> LatentSweep:
    """G's curves along input ``dim`` through the explorer's base point; a conditional run's
    G given the label columns ``label`` (``gan_core.gan.labels.blend``) for all of them."""
    base = latent(trainer, LATENT, 1)[0]
    positions = np.unique(np.append(np.linspace(*LATENT_RANGE, n), position)).astype(np.float32)
    z = np.repeat(base[None], len(positions), axis=0)
    z[:, dim] = positions
    labels = None if label is None else np.repeat(np.asarray(label)[None], len(z), axis=0)
    curves = np.clip(trainer.generate(z, labels), -CURVE_LIMIT, CURVE_LIMIT).astype(np.float32)
    return LatentSweep(trainer.x, positions, curves, float(np.float32(position)), label)

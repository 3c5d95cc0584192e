"""What the page shows of a run, as arrays: the one step between a trainer and the charts.

Every random number drawn here comes from the streams of ``gan_core.gan.streams``.
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


@dataclass(frozen=True)
class CurvesView:
    """Curves to draw at one step: a fixed set of real ones and G's curves for fixed noise.
    The first generated curve is the one drawn bold."""

    x: np.ndarray  # (n_points,)
    real: np.ndarray  # (n_real, n_points)
    generated: np.ndarray  # (n_generated, n_points)


def curves_view(trainer: Trainer, n_generated: int = 16, n_real: int = 8) -> CurvesView:
    generated = np.clip(trainer.generate(latent(trainer, CURVES, n_generated)),
                        -CURVE_LIMIT, CURVE_LIMIT)
    return CurvesView(trainer.x, trainer.real_samples(n_real), generated)


def ghost_curves(trainer: Trainer, n_generated: int = 16) -> np.ndarray | None:
    """The ghost's curves for the curve chart's latent vectors (None without a ghost): what
    the run would paint had the last forked change not been made."""
    if trainer.ghost is None:
        return None
    return np.clip(trainer.ghost.generate(latent(trainer, CURVES, n_generated)),
                   -CURVE_LIMIT, CURVE_LIMIT)


def fitted_parameter(trainer: Trainer, n: int = 500) -> np.ndarray:
    """The target's first parameter fitted to ``n`` generated curves ``(n,)``: what the
    histogram compares with its true law (your data's first principal component's score)."""
    target = trainer.target
    with np.errstate(all="ignore"):
        curves = target.trained(trainer.generate(latent(trainer, HISTOGRAM, n)))
        params, _ = target.fit(curves, trainer.x)
    return params[:, 0]


@dataclass(frozen=True)
class LatentSweep:
    """G's curves along one latent direction through a fixed base point."""

    x: np.ndarray  # (n_points,)
    positions: np.ndarray  # (k,) values of the moved input, ascending
    curves: np.ndarray  # (k, n_points)
    current: float  # the position the learner chose, one of ``positions``


def latent_sweep(trainer: Trainer, dim: int, position: float, n: int = 9) -> LatentSweep:
    base = latent(trainer, LATENT, 1)[0]
    positions = np.unique(np.append(np.linspace(*LATENT_RANGE, n), position)).astype(np.float32)
    z = np.repeat(base[None], len(positions), axis=0)
    z[:, dim] = positions
    curves = np.clip(trainer.generate(z), -CURVE_LIMIT, CURVE_LIMIT).astype(np.float32)
    return LatentSweep(trainer.x, positions, curves, float(np.float32(position)))

"""How good a generator is, measured against its target family."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .config import GANConfig
from .engine import GANStack
from .losses import loss_values, sigmoid
from .streams import EVALUATION, stream
from .targets import Target, Uniforms

IN_BAND_TOLERANCE = 0.05
EVAL_SAMPLES = 1000


@dataclass(frozen=True)
class Metrics:
    """One evaluation of a trainer on fresh samples.

    ``d_real`` is the tutorial's "D accuracy" (0.5 at equilibrium); ``d_score`` is the tutorial's
    "D score", ``-d_loss`` (``-log 4 = -1.386`` at equilibrium for the minimax loss).
    """

    in_band: float
    w1: float
    fit_residual: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    d_score: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def in_band_fraction(curves: np.ndarray, target: Target, x: np.ndarray,
                     tolerance: float = IN_BAND_TOLERANCE) -> float:
    """Fraction of points inside the target's envelope, widened by ``tolerance``."""
    lower, upper = target.envelope(x)
    inside = (curves >= lower - tolerance) & (curves <= upper + tolerance)
    return float(inside.mean())


def w1_to_law(samples: np.ndarray, law: Uniforms) -> float:
    """Exact Wasserstein-1 distance between an empirical sample and a mixture of uniforms.

    ``W1 = integral over u in [0, 1] of |Q_n(u) - Q(u)|``, with ``Q_n`` the sample's step quantile
    function and ``Q`` the law's piecewise-linear one. Between consecutive break points ``Q_n`` is
    constant and ``Q`` linear, so each piece integrates in closed form.
    """
    s = np.sort(np.asarray(samples, np.float64).ravel())
    n = s.size
    edges = np.union1d(np.linspace(0.0, 1.0, n + 1), law.knots()[0])
    left, right = edges[:-1], edges[1:]
    width = right - left
    mid = (left + right) / 2
    c = s[np.minimum((mid * n).astype(np.int64), n - 1)]
    k = len(law.ranges)
    seg = np.minimum((mid * k).astype(np.int64), k - 1)
    slope = np.array([hi - lo for lo, hi in law.ranges])[seg] * k
    q_mid = law.quantile(mid)
    d_left = c - (q_mid - slope * (mid - left))
    d_right = c - (q_mid + slope * (right - mid))
    same_side = d_left * d_right >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(same_side, 0.0, d_left / (d_left - d_right))
    crossing = 0.5 * (t * np.abs(d_left) + (1 - t) * np.abs(d_right))
    area = np.where(same_side, np.abs(d_left + d_right) / 2, crossing) * width
    return float(area.sum())


def parameter_w1(curves: np.ndarray, target: Target, x: np.ndarray) -> tuple[float, float]:
    """Mean W1 of the fitted parameters against their laws, and the mean fit residual."""
    params, residual = target.fit(curves, x)
    laws = target.param_laws()
    w1 = np.mean([w1_to_law(params[:, i], law) for i, law in enumerate(laws)])
    return float(w1), float(residual.mean())


def _generated(stack: GANStack, member: int, config: GANConfig, step: int,
               n: int) -> tuple[np.random.Generator, np.ndarray]:
    """``n`` curves of one member from the evaluation stream of ``step``, not the training
    stream: evaluating never changes a run, and a step always gives the same numbers.
    Returns the generator too, for the real curves that follow."""
    rng = stream(config.seed, EVALUATION, step)
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    return rng, stack.generate(z, member)


def _quality(fake: np.ndarray, stack: GANStack) -> tuple[float, float, float]:
    with np.errstate(all="ignore"):
        w1, residual = parameter_w1(fake, stack.target, stack.x)
    return in_band_fraction(fake, stack.target, stack.x), w1, residual


def quality_member(stack: GANStack, member: int, config: GANConfig, step: int,
                   n: int = EVAL_SAMPLES) -> tuple[float, float, float]:
    """``(in_band, w1, fit_residual)`` exactly as :func:`evaluate_member` gives them, without
    D's passes over real and generated curves: what the training history records."""
    return _quality(_generated(stack, member, config, step, n)[1], stack)


def evaluate_member(stack: GANStack, member: int, config: GANConfig, step: int,
                    n: int = EVAL_SAMPLES) -> Metrics:
    """Metrics of one member of a stack on ``n`` generated and ``n`` real curves."""
    rng, fake = _generated(stack, member, config, step, n)
    real = stack.target.sample(rng, n, stack.x)
    in_band, w1, residual = _quality(fake, stack)
    with np.errstate(all="ignore"):
        l_real = stack.discriminate(real, member).reshape(1, n, 1)
        l_fake = stack.discriminate(fake, member).reshape(1, n, 1)
        d_loss, g_loss = loss_values(config.loss, l_real, l_fake)
    return Metrics(
        in_band=in_band,
        w1=w1,
        fit_residual=residual,
        d_real=float(sigmoid(l_real).mean()),
        d_fake=float(sigmoid(l_fake).mean()),
        d_loss=float(d_loss[0]),
        g_loss=float(g_loss[0]),
        d_score=-float(d_loss[0]),
    )

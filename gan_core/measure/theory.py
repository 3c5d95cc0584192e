"""Theory beside practice: the optimal discriminator for the current generator, and the
Jensen–Shannon divergence it implies, next to what D actually learned.

For a fixed generator law ``p_g`` the D minimising the cross-entropy D loss (minimax and
non-saturating) is ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, and D's loss there is
``log 4 - 2 JSD(p_data, p_g)`` (Goodfellow et al., 2014). Taken literally in curve space this
teaches nothing: real curves fill a one- or two-dimensional family inside 15-dimensional space and
generated curves almost never lie exactly on it, so the two laws barely overlap and their JSD is
``log 2`` for nearly any G. The theory here is therefore on the family's parameter: every curve
is mapped to its least-squares parameter (``Target.fit``) and ``D*`` and the JSD are those of the
laws of that parameter. Mapping curves to parameters can only lose information, so this JSD is at
most the curve-space one; it reads 0 when G paints the right mix of parameters whatever the
curves' shapes, which is what the fit residual and ``joint_w1`` of
:mod:`gan_core.measure.metrics` show.

Densities are Gaussian kernel density estimates on a grid (linear binning, then a product with
the kernel matrix). The target's density goes through the same estimator, fed the law's exact
quantiles (a noise-free sample), so both densities are seen through the same kernel: a perfect
generator reads ``D* = 1/2`` and a JSD of sampling noise only (``jsd_floor``), not the blur of
the law's sharp edges. Blurring both laws by one kernel can only lower their JSD (it is a
divergence: processing both sides alike never separates them more), so what sampling noise does
not add the kernel takes away: the estimate errs low by an amount that shrinks with the width.

The width per parameter is ``h = c_d min(std, IQR / 1.34) n^(-1/(d + 1))`` for ``n`` curves and
``d`` parameters, the spread being the target law's. Silverman's ``n^(-1/5)`` is tuned to smooth
densities; the laws here are uniform, with jumps at their edges, and for those the squared error
of a kernel estimate is smallest at ``h ~ n^(-1/(d + 1))``. As ``n`` grows ``h`` shrinks while
``n h^d`` grows, so the estimates converge. ``c_1 = 1``, ``c_2 = 2``: at 1,000 curves a perfect
generator then reads a JSD under 0.005 nats, and the two-parameter grid stays small enough for
every tick (``benchmarks/theory.py`` prints both, and what known laws read against their exact
JSD).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..gan.losses import SMOOTHED_LOSSES, sigmoid, softplus
from ..gan.streams import NOISE_FLOOR, stream
from ..gan.targets import Target, Uniforms, get_target

BANDWIDTH_SCALE = {1: 1.0, 2: 2.0}
"""``c_d`` of the kernel width rule, by the number of parameters (see the module's docstring)."""
CELLS_PER_BANDWIDTH = 2
"""Grid cells per kernel width: binning then moves no sample by more than a quarter of ``h``
(three cells per width read the same to 1% and cost three times as much in two dimensions)."""
GRID_CELLS = {1: (64, 1024), 2: (64, 256)}
"""Fewest and most cells per parameter, by the number of parameters: past the most, the kernel
widens instead (the cost of a two-parameter estimate grows as the cube of its cells)."""
REFERENCE_SIZE = 4096
"""Quantiles of the target law fed to the estimator as its noise-free sample."""
FLOOR_DRAWS = 16
"""Samples of the true law averaged for ``jsd_floor``."""
VIEW_PHASES = 16
"""Real values of a second parameter over which the learned D is averaged in the 1-D view."""
NO_MASS = 1e-3
"""D* is undefined (NaN) where both densities are below this fraction of the target's peak."""
LOG2 = math.log(2.0)
BCE_LOSSES = ("minimax", "non_saturating")
"""Losses whose D minimises the cross-entropy, so that D's own loss reads the JSD."""


def reads_jsd(loss: str, real_label: float = 1.0) -> bool:
    """Does D's loss under ``loss`` estimate the JSD? For minimax and non-saturating D is
    trained on the cross-entropy whose optimum is ``log 4 - 2 JSD``; for least squares and hinge
    ``jsd_d`` is still a lower bound (it holds for any D) but D does not aim to make it tight,
    nor does a D trained towards a smoothed real label (its optimum is ``s D*``)."""
    return loss in BCE_LOSSES and real_label == 1.0


def d_star_applies(loss: str) -> bool:
    """Is there an optimal D of the form ``p_data / (p_data + p_g)`` to compare D with? Not
    for the wasserstein critic: its optimum is a transport potential, a score with no
    probability and a free level."""
    return loss != "wasserstein"


def bandwidth(law: Uniforms, n: int, dims: int) -> float:
    """The kernel width for one of ``dims`` parameters at ``n`` curves:
    ``c_d min(std, IQR / 1.34) n^(-1/(d + 1))`` with the law's spread. A law of fewer distinct
    values than ``n`` (your data's rows, ``law.size``) counts as that many: its density is no
    sharper than they allow."""
    spread = min(law.std, law.iqr / 1.34)
    n = min(n, law.size)
    return BANDWIDTH_SCALE[dims] * spread * n ** (-1.0 / (dims + 1))


@dataclass(frozen=True)
class _Axis:
    """One parameter's grid: cell centers, spacing, period (angles wrap) and kernel matrix."""

    centers: np.ndarray
    step: float
    period: float | None
    kernel: np.ndarray  # (g, g): the Gaussian density of c_i - c_j at the bandwidth

    @classmethod
    def build(cls, law: Uniforms, period: float | None, h: float,
              dims: int) -> tuple[_Axis, float]:
        """The axis for a kernel of width ``h``, and the width used: never narrower than
        ``CELLS_PER_BANDWIDTH`` cells of the finest grid allowed."""
        lo, hi = law.bounds
        fewest, most = GRID_CELLS[dims]
        span = 2 * (hi - lo) if period is None else period
        h = max(h, span * CELLS_PER_BANDWIDTH / most)
        cells = int(np.clip(math.ceil(span * CELLS_PER_BANDWIDTH / h), fewest, most))
        if period is None:  # half the law's range on either side: room to see G miss it
            centers = np.linspace(lo - (hi - lo) / 2, hi + (hi - lo) / 2, cells)
            step = span / (cells - 1)
            diff = centers[:, None] - centers[None, :]
        else:  # the whole circle, the law in its middle
            step = period / cells
            centers = (lo + hi) / 2 - period / 2 + step * np.arange(cells)
            diff = (centers[:, None] - centers[None, :] + period / 2) % period - period / 2
        kernel = np.exp(-0.5 * (diff / h) ** 2) / (h * math.sqrt(2 * math.pi))
        return cls(centers, step, period, kernel), h

    def bins(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear binning: each value's two neighbouring cells ``(n, 2)`` and weights ``(n, 2)``.
        Values off a non-periodic grid, and non-finite ones, get weight 0 (they are mass the
        grid does not hold)."""
        g = len(self.centers)
        with np.errstate(invalid="ignore"):
            t = (np.asarray(v, np.float64) - self.centers[0]) / self.step
            if self.period is not None:
                t = t % g
            finite = np.isfinite(t)
            t = np.where(finite, t, -2.0)
            j = np.floor(t).astype(np.int64)
        f = t - j
        idx = np.stack([j, j + 1], axis=1)
        w = np.stack([1 - f, f], axis=1) * finite[:, None]
        if self.period is not None:
            idx %= g
        else:
            w = np.where((idx >= 0) & (idx < g), w, 0.0)
            idx = np.clip(idx, 0, g - 1)
        return idx, w


class ParameterDensity:
    """Kernel density estimates of a target's parameters from ``n`` curves, and the target's own
    density through the same estimator. One or two parameters."""

    def __init__(self, target: Target, n: int) -> None:
        laws = target.param_laws()
        if len(laws) > 2:
            raise ValueError(f"{target.name}: densities of more than two parameters")
        # The name, not the target: estimators are cached, and must not keep your data alive.
        self.target_name, self.n = target.name, n
        built = [_Axis.build(law, period, bandwidth(law, n, len(laws)), len(laws))
                 for law, period in zip(laws, target.param_periods, strict=True)]
        self.axes = tuple(axis for axis, _ in built)
        self.bandwidths = tuple(h for _, h in built)
        self.cell = float(np.prod([a.step for a in self.axes]))
        levels = (np.arange(REFERENCE_SIZE) + 0.5) / REFERENCE_SIZE
        # The parameters of every family here are independent, so the law's bin weights are the
        # product of each parameter's.
        weights = [self._bin_1d(axis, law.quantile(levels))
                   for axis, law in zip(self.axes, laws, strict=True)]
        joint = weights[0] if len(weights) == 1 else np.outer(weights[0], weights[1])
        self.p_data = self._smooth(joint)

    @staticmethod
    def _bin_1d(axis: _Axis, v: np.ndarray) -> np.ndarray:
        idx, w = axis.bins(v)
        return np.bincount(idx.ravel(), w.ravel(), minlength=len(axis.centers)) / len(v)

    def _smooth(self, weights: np.ndarray) -> np.ndarray:
        if len(self.axes) == 1:
            return self.axes[0].kernel @ weights
        return self.axes[0].kernel @ weights @ self.axes[1].kernel  # kernels are symmetric

    def density(self, params: np.ndarray) -> np.ndarray:
        """The estimated density of ``params`` ``(m, d)`` on the grid: ``(g,)`` or ``(g1, g2)``.
        Its integral falls short of 1 by the mass beyond a non-periodic grid."""
        params = np.asarray(params, np.float64)
        if params.ndim != 2 or params.shape[1] != len(self.axes) or not len(params):
            raise ValueError(f"params have shape {params.shape}; expected (m, {len(self.axes)}) "
                             "with m >= 1")
        if len(self.axes) == 1:
            return self._smooth(self._bin_1d(self.axes[0], params[:, 0]))
        (i0, w0), (i1, w1) = (axis.bins(params[:, k]) for k, axis in enumerate(self.axes))
        g1 = len(self.axes[1].centers)
        flat = (i0[:, :, None] * g1 + i1[:, None, :]).ravel()
        weights = (w0[:, :, None] * w1[:, None, :]).ravel()
        binned = np.bincount(flat, weights, minlength=len(self.axes[0].centers) * g1)
        return self._smooth(binned.reshape(-1, g1) / len(params))

    def jsd(self, p_g: np.ndarray) -> float:
        """``JSD(p_data, p_g)`` in nats (0 to log 2) by a sum over the grid. Generated mass
        beyond the grid, where the target has none, adds ``log 2 / 2`` per unit: a parameter
        that far out is told apart with certainty."""
        return jensen_shannon(self.p_data, p_g, self.cell)

    def marginal(self, density: np.ndarray) -> np.ndarray:
        """The density of the first parameter alone ``(g1,)``."""
        return density if density.ndim == 1 else density.sum(axis=1) * self.axes[1].step


def jensen_shannon(p: np.ndarray, q: np.ndarray, cell: float) -> float:
    """JSD in nats of two densities on the same grid of cells of size ``cell``. The mass each
    lacks on the grid counts as one more cell (all we know of it): mass of one law only, as of
    a generator painting far beyond the target, adds ``log 2 / 2`` per unit."""
    beyond_p, beyond_q = (max(0.0, 1 - a.sum() * cell) for a in (p, q))
    # Kernel tails underflow to subnormals, where half their sum rounds to 0: drop them.
    p, q = (np.where(a > 1e-200, a * cell, 0.0) for a in (p, q))
    p, q = np.append(p.ravel(), beyond_p), np.append(q.ravel(), beyond_q)
    total = p + q
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (np.where(p > 0, p * np.log(2 * p / total), 0.0)
                 + np.where(q > 0, q * np.log(2 * q / total), 0.0))
    return float(np.clip(0.5 * terms.sum(), 0.0, LOG2))


@lru_cache(maxsize=32)
def parameter_density(target_name: str, n: int) -> ParameterDensity:
    """The estimator for ``n`` curves of a target (grids and kernels depend on ``n`` only)."""
    return ParameterDensity(get_target(target_name), n)


def parameter_jsd(target: Target, params: np.ndarray) -> float:
    """JSD between the law of fitted ``params`` ``(n, d)`` and the target's parameter law."""
    estimator = parameter_density(target.name, len(params))
    return estimator.jsd(estimator.density(params))


@lru_cache(maxsize=32)
def jsd_floor(target_name: str, n: int) -> float:
    """What :func:`parameter_jsd` reads for a perfect generator at ``n`` curves: its mean over
    ``FLOOR_DRAWS`` samples of the true law (the same for every run)."""
    target = get_target(target_name)
    rng = stream(0, NOISE_FLOOR, n)
    draws = [np.concatenate([law.sample(rng, n) for law in target.param_laws()], axis=1)
             for _ in range(FLOOR_DRAWS)]
    return float(np.mean([parameter_jsd(target, d) for d in draws]))


def jsd_from_d(l_real: np.ndarray, l_fake: np.ndarray) -> float:
    """``(log 4 - BCE) / 2``: the JSD read off D's cross-entropy on real and generated curves
    (its logits). For any D this is at most the JSD of the curve laws (up to sampling noise);
    it equals it when D is optimal. Negative when D does worse than always saying 1/2."""
    bce = softplus(-np.asarray(l_real, np.float64)).mean() + softplus(
        np.asarray(l_fake, np.float64)).mean()
    return float((2 * LOG2 - bce) / 2)


@dataclass(frozen=True)
class TheoryView:
    """The optimal D beside the learned one, along one parameter of the target.

    ``label`` says which view this is. For one-parameter families it is that parameter. For the
    sine it is the amplitude with the phase marginalised: ``p_data``, ``p_g`` and ``d_optimal``
    are the amplitude's (``d_optimal`` is the best D that sees only the amplitude), and
    ``d_learned`` is D's output on real sine waves of that amplitude averaged over
    ``VIEW_PHASES`` phases evenly spread over the true phase law; the JSD is that of the joint
    law of amplitude and phase.
    """

    param: str
    label: str
    grid: np.ndarray  # (g,) values of the parameter, a margin beyond the law's range each side
    p_data: np.ndarray  # (g,) the target's density of it, through the same kernel as p_g
    p_g: np.ndarray  # (g,) density of the fitted parameter of generated curves
    d_optimal: np.ndarray  # (g,) D* = p_data / (p_data + p_g); NaN where neither has mass
    d_learned: np.ndarray  # (g,) sigmoid of D's logit on the target's exact curve(s) there
    jsd: float  # JSD(p_data, p_g) of the parameter law (joint for two parameters), nats
    jsd_floor: float  # what jsd reads for a perfect generator at n curves
    jsd_d: float  # (log 4 - D's cross-entropy) / 2 on n real and n generated curves
    loss: str  # the run's loss; jsd_d estimates the JSD when reads_jsd(loss)
    bandwidth: tuple[float, ...]  # kernel width per parameter
    n: int
    real_label: float = 1.0  # D's target for real curves: D* is s p_data / (p_data + p_g)

    @property
    def d_reads_jsd(self) -> bool:
        """Does ``jsd_d`` estimate the JSD under this run's loss (:func:`reads_jsd`)?"""
        return reads_jsd(self.loss, self.real_label)

    @property
    def d_star_applies(self) -> bool:
        """Is there a D* to compare D with (:func:`d_star_applies`)? Without one, ``d_optimal``,
        ``d_learned`` and ``jsd_d`` are NaN; the densities and ``jsd`` still hold."""
        return d_star_applies(self.loss)

    @property
    def d_loss_at_optimum(self) -> float:
        """D's cross-entropy loss if D were ``D*``: ``log 4 - 2 JSD`` (minimax, non-saturating)."""
        return 2 * LOG2 - 2 * self.jsd


def theory_view(target: Target, x: np.ndarray, fake_params: np.ndarray, l_real: np.ndarray,
                l_fake: np.ndarray, logits_of: Callable[[np.ndarray], np.ndarray],
                loss: str, real_label: float = 1.0) -> TheoryView:
    """The :class:`TheoryView` for generated curves with fitted parameters ``fake_params``,
    D's logits ``l_real`` and ``l_fake`` on as many real and generated curves, and
    ``logits_of(curves)`` giving D's logits on any curves. With one-sided label smoothing
    (``real_label`` ``s`` under a loss that has targets) the optimal D is ``s p_data / (p_data
    + p_g)``."""
    n = len(fake_params)
    estimator = parameter_density(target.name, n)
    p_g_full = estimator.density(fake_params)
    p_data, p_g = estimator.marginal(estimator.p_data), estimator.marginal(p_g_full)
    total = p_data + p_g
    s = real_label if loss in SMOOTHED_LOSSES else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        d_optimal = np.where(total >= NO_MASS * p_data.max(), s * p_data / total, np.nan)
    grid = estimator.axes[0].centers
    laws = target.param_laws()
    name = target.param_names[0]
    if len(laws) == 1:
        params = grid[:, None]
        label = (f"{name}: generated vs target density, the optimal D* and the learned D on "
                 f"the target's curve at each {name}")
        if target.data is not None:  # your data: along their first principal component
            label = ("the first principal component (PC1 score): generated vs real density, "
                     "the optimal D* for a D that sees only this score, and the learned D on "
                     "the mean curve moved along the component to each score")
    else:
        others = laws[1].quantile((np.arange(VIEW_PHASES) + 0.5) / VIEW_PHASES)
        params = np.stack([np.repeat(grid, VIEW_PHASES), np.tile(others, len(grid))], axis=1)
        label = (f"{name}, {target.param_names[1]} marginalised: D* from the {name} laws "
                 f"alone, the learned D averaged over {VIEW_PHASES} real "
                 f"{target.param_names[1]}s, the JSD of the joint law")
    with np.errstate(all="ignore"):
        d = sigmoid(np.asarray(logits_of(target.curves(params, x)), np.float64))
    d_learned = d.reshape(len(grid), -1).mean(axis=1)
    jsd_d = jsd_from_d(l_real, l_fake)
    if not d_star_applies(loss):
        d_optimal, d_learned, jsd_d = (np.full_like(p_data, np.nan), np.full_like(p_data, np.nan),
                                       float("nan"))
    return TheoryView(
        param=name, label=label, grid=grid, p_data=p_data, p_g=p_g, d_optimal=d_optimal,
        d_learned=d_learned, jsd=estimator.jsd(p_g_full), jsd_floor=jsd_floor(target.name, n),
        jsd_d=jsd_d, loss=loss, bandwidth=estimator.bandwidths, n=n, real_label=s)

"""How good a generator is, measured against its target family: by the family's parameter
(:class:`Metrics`), or for your data, whose curves have none, in curve space
(:class:`DataMetrics`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import GANStack
from ..gan.history import History
from ..gan.losses import loss_values, sigmoid
from ..gan.streams import EVALUATION, NOISE_FLOOR, stream
from ..gan.targets import (
    IN_BAND_TOLERANCE,  # noqa: F401  (the families' tolerance, read here)
    DataFamily,
    Target,
    Uniforms,
    curve_grid,
    get_target,
)
from . import curve_space
from .forces import input_gradients
from .theory import FLOOR_DRAWS, d_star_applies, jsd_floor, jsd_from_d, parameter_jsd

CLASS_TOLERANCE = 0.025
"""How far, in a parameter's own units, a fitted parameter may lie beyond its class's ranges and
the curve still land in the class's band: a parabola of the family 0.025 past its class's
``a`` lies 0.025 to 0.05 outside the class's band, what the in-band test tolerates."""
EVAL_SAMPLES = 1000
SLICES = 16
"""Directions of the sliced W1 in two dimensions."""


@dataclass(frozen=True)
class Metrics:
    """One evaluation of a trainer on fresh samples.

    ``d_real`` is the tutorial's "D accuracy"; ``d_score`` is the tutorial's "D score",
    ``-d_loss``. Where they settle depends on the loss: ``losses.equilibrium_point``. Under
    the wasserstein loss there is no probability: ``d_real`` and ``d_fake`` are the critic's
    mean scores, and ``d_score`` their gap, the critic's estimate of how far apart the laws are.
    ``slope`` is the mean length of D's input gradient ``||d logit / d x||`` on the real and
    generated curves: what R1 and R2 shrink, and what WGAN-GP holds near 1.

    How close G is, from three sides, each with what a perfect generator would read at the same
    sample size (its noise floor, :class:`NoiseFloors`):

    - ``in_band``: share of points inside the target's envelope. A curve of the wrong shape can
      lie inside it, so this alone flatters.
    - ``fit_residual``: mean RMS distance of a generated curve from the nearest curve of the
      family: the shape error. Real curves read float32 rounding only (``fit_residual_floor``).
    - ``w1``: mean over parameters of the W1 distance between a fitted parameter's law and its
      true law, each parameter on its own. ``joint_w1``: the sliced W1 between the joint law of
      fitted parameters of generated and of as many real curves (``Target.joint_coords``), which
      also sees wrong pairings of amplitude and phase. ``jsd``: the Jensen–Shannon divergence of
      the parameter laws (:mod:`gan_core.measure.theory`); ``jsd_d`` the same read off D's
      cross-entropy.
    - ``spread``: how varied G's curves are: the interquartile range of each fitted parameter
      over its true law's, the smallest over parameters (1 for the target, near 0 when every
      curve is the same).
    """

    in_band: float
    w1: float
    fit_residual: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    d_score: float
    joint_w1: float
    spread: float
    jsd: float
    jsd_d: float
    fit_residual_floor: float
    joint_w1_floor: float
    jsd_floor: float
    slope: float = float("nan")
    class_accuracy: float | None = None
    """A conditional run's share of curves that land in the band of the class G was asked for
    (None for a run without classes). The curves are asked for the classes of as many real
    curves, so the metrics above compare the same mixture of classes; ``spread`` is then the
    smallest over the classes, so that one curve per class still reads as a collapse."""
    classes: tuple[ClassMetrics, ...] = ()
    """A conditional run's metrics of each class, class 0 first (empty without classes)."""

    def as_dict(self) -> dict[str, float]:
        """Every metric as a number by name; a conditional run's ``class_accuracy`` too, and
        each class's as ``<class>.<metric>`` (``upper.w1``), a run without classes neither."""
        plain = asdict(self)
        plain.pop("classes")
        if self.class_accuracy is None:
            plain.pop("class_accuracy")
        for c in self.classes:
            plain.update({f"{c.name}.{key}": value for key, value in asdict(c).items()
                          if key != "name"})
        return plain


@dataclass(frozen=True)
class ClassMetrics:
    """How G paints one class: the curves it was asked for that class, against that class's
    own law and band (``Target.class_target``)."""

    name: str
    accuracy: float
    """Share of the curves asked for this class that land in its band."""
    in_band: float
    """Share of their points inside the class's band (its envelope, widened as ``in_band``)."""
    w1: float
    """Mean over parameters of the W1 distance to the class's law; for your data, which have
    no parameter, the sliced W1 in curve space against as many real curves of the class, in
    the curves' own units (as ``DataMetrics.sliced_w1``)."""
    joint_w1: float
    """Sliced W1 between their fitted parameters and those of as many real curves of the
    class: only drawn for a family of two parameters, as ``Metrics.joint_w1``."""
    spread: float
    """Interquartile range of the fitted parameters over the class law's (``spread_ratio``)."""
    n: int
    """Curves asked for this class."""


@dataclass(frozen=True)
class NoiseFloors:
    """What a perfect generator reads at ``n`` samples, for the metrics that are not 0 for it.

    ``fit_residual``: real curves lie exactly on their family, so their residual is float32
    rounding alone; the floor is their mean plus three standard errors of the mean at ``n``
    curves, the largest mean residual ``n`` real curves plausibly give. ``joint_w1``: the mean
    over ``FLOOR_DRAWS`` pairs of the sliced W1 between two independent ``n``-samples of the
    true law (generated curves are compared with ``n`` real ones, so this is its noise alone).
    ``jsd``: :func:`gan_core.measure.theory.jsd_floor`.
    """

    fit_residual: float
    joint_w1: float
    jsd: float


def in_band_fraction(curves: np.ndarray, target: Target, x: np.ndarray,
                     tolerance: float | None = None) -> float:
    """Fraction of points inside the target's envelope, widened by ``tolerance`` (default the
    target's: 0.05 for the families, in proportion to the envelope's width for your data)."""
    tolerance = target.tolerance if tolerance is None else tolerance
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
    return _mean_w1(params, target), float(residual.mean())


def _mean_w1(params: np.ndarray, target: Target) -> float:
    laws = target.param_laws()
    return float(np.mean([w1_to_law(params[:, i], law) for i, law in enumerate(laws)]))


def sliced_w1(a: np.ndarray, b: np.ndarray) -> float:
    """Sliced Wasserstein-1 distance between two equal-size samples ``(n, d)``, d = 1 or 2.

    The mean over directions ``u`` of the W1 distance between the projections ``a u`` and
    ``b u``, each the mean gap between the sorted projections. In two dimensions the
    ``SLICES`` directions are evenly spaced over the half circle, a quadrature of the average
    over all directions; in one it is the plain W1 between the samples.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] not in (1, 2) or not len(a):
        raise ValueError(f"samples have shapes {a.shape} and {b.shape}; expected the same "
                         "(n, 1) or (n, 2) with n >= 1")
    if a.shape[1] == 1:
        directions = np.ones((1, 1))
    else:
        angles = np.pi * np.arange(SLICES) / SLICES
        directions = np.stack([np.cos(angles), np.sin(angles)])
    # one row per direction: sorting contiguous rows is several times faster than columns
    gaps = np.sort(directions.T @ a.T, axis=1) - np.sort(directions.T @ b.T, axis=1)
    return float(np.abs(gaps).mean())


def spread_ratio(params: np.ndarray, target: Target) -> float:
    """The smallest over parameters of the fitted parameter's interquartile range over its true
    law's: 1 for a generator as varied as the target, near 0 when every curve is the same. The
    IQR, not the standard deviation, so a few wild curves cannot hide a collapse."""
    q1, q3 = np.percentile(params, [25, 75], axis=0)
    return float(min((q3 - q1) / np.array([law.iqr for law in target.param_laws()])))


@lru_cache(maxsize=64)
def noise_floors(target_name: str, n_points: int, n: int) -> NoiseFloors:
    """The :class:`NoiseFloors` of a target at ``n`` samples (the same for every run)."""
    target, x = get_target(target_name), curve_grid(n_points)
    rng = stream(0, NOISE_FLOOR, n)

    def law_sample() -> tuple[np.ndarray, np.ndarray]:
        params, residual = target.fit(target.sample(rng, n, x), x)
        return target.joint_coords(params), residual

    pairs = [(law_sample(), law_sample()) for _ in range(FLOOR_DRAWS)]
    residual = pairs[0][0][1]
    floor_residual = residual.mean() + 3 * residual.std() / np.sqrt(n)
    joint = np.mean([sliced_w1(a[0], b[0]) for a, b in pairs])
    return NoiseFloors(float(floor_residual), float(joint), jsd_floor(target_name, n))


@dataclass(frozen=True)
class EvaluationSample:
    """``n`` generated and ``n`` real curves drawn for one step's evaluation, what the metrics and
    the theory view read of them, and D's logits on both."""

    fake: np.ndarray  # (n, n_points)
    real: np.ndarray  # (n, n_points)
    fake_params: np.ndarray  # (n, n_params): fitted parameters
    fake_residual: np.ndarray  # (n,): RMS distance from the family
    real_params: np.ndarray  # (n, n_params)
    l_fake: np.ndarray  # (n,): D's logits
    l_real: np.ndarray  # (n,)
    slope: float = float("nan")  # mean ||d logit / d x|| on both, where it was asked for
    labels: np.ndarray | None = None
    """A conditional run's classes ``(n,)``: of each real curve, and the one G was asked for
    in the same row."""


def mean_slope(stack: GANStack, member: int, *curves: np.ndarray,
               labels: np.ndarray | None = None) -> float:
    """The mean length of D's input gradient (over the points) on all the curves given, each
    told ``labels`` in a conditional run."""
    with np.errstate(all="ignore"):
        grads = np.concatenate([input_gradients(stack, c, member, labels) for c in curves])
        return float(np.sqrt(np.einsum("ij,ij->i", grads, grads)).mean())


def _draw_sample(stack: GANStack, member: int, config: GANConfig, step: int,
                 n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``n`` generated and ``n`` real curves of the evaluation stream of ``step``, and in a
    conditional run the real curves' classes, which G is asked for: latent vectors first,
    then the real curves, from one stream, so every evaluation of a step sees the same."""
    rng = stream(config.seed, EVALUATION, step)
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    labels = None
    if stack.label_width:
        real, labels = stack.target.sample_labelled(rng, n, stack.x)
    else:
        real = stack.target.sample(rng, n, stack.x)
    return stack.generate(z, member, labels), real, labels


def evaluation_sample(stack: GANStack, member: int, config: GANConfig, step: int,
                      n: int = EVAL_SAMPLES, slope: bool = True) -> EvaluationSample:
    """``n`` curves of one member from the evaluation stream of ``step``, not the training
    stream: evaluating never changes a run, and a step always gives the same numbers. Then
    ``n`` real curves from the same stream; a conditional run's G is asked for their classes.
    ``slope``: also D's mean input gradient length (not needed for the history's rows, which
    leave it out)."""
    fake, real, labels = _draw_sample(stack, member, config, step, n)
    with np.errstate(all="ignore"):
        fake_params, fake_residual = stack.target.fit(fake, stack.x)
        real_params, _ = stack.target.fit(real, stack.x)
        l_fake = stack.discriminate(fake, member, labels)
        l_real = stack.discriminate(real, member, labels)
    return EvaluationSample(
        fake, real, fake_params, fake_residual, real_params, l_fake, l_real,
        slope=(mean_slope(stack, member, real, fake, labels=labels) if slope
               else float("nan")),
        labels=labels)


def class_sample(stack: GANStack, member: int, config: GANConfig, step: int, label: int,
                 n: int = EVAL_SAMPLES) -> EvaluationSample:
    """A conditional run's evaluation sample of one class: ``n`` curves G paints asked for
    ``label`` and ``n`` real curves of that class, from the evaluation stream of ``step`` and
    the class (what the theory of one class compares)."""
    if not 0 <= label < stack.n_classes:
        raise ValueError(f"label {label!r} is not a class of this run (0 to "
                         f"{stack.n_classes - 1})")
    rng = stream(config.seed, EVALUATION, step, label)
    target = stack.target.class_target(label)
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    real, labels = target.sample(rng, n, stack.x), np.full(n, label)
    fake = stack.generate(z, member, labels)
    with np.errstate(all="ignore"):
        fake_params, fake_residual = target.fit(fake, stack.x)
        real_params, _ = target.fit(real, stack.x)
        l_fake = stack.discriminate(fake, member, labels)
        l_real = stack.discriminate(real, member, labels)
    return EvaluationSample(fake, real, fake_params, fake_residual, real_params, l_fake, l_real,
                            labels=labels)


def class_tolerance(target: Target) -> float:
    """How far beyond a class's band a curve still lands in it: ``CLASS_TOLERANCE`` in a
    family's parameter, the in-band tolerance for your data (which have no parameter)."""
    return target.tolerance if isinstance(target, DataFamily) else CLASS_TOLERANCE


def class_metrics(fake: np.ndarray, fake_params: np.ndarray, real_params: np.ndarray | None,
                  labels: np.ndarray, target: Target, x: np.ndarray) -> tuple[ClassMetrics, ...]:
    """Each class's :class:`ClassMetrics` of generated curves ``fake`` asked for ``labels``,
    with their fitted parameters; ``real_params`` of real curves with the same ``labels`` (for
    the joint W1; None to leave it NaN)."""
    def measure(asked: np.ndarray, own: Target) -> tuple[float, float, float]:
        joint = float("nan") if real_params is None else sliced_w1(
            own.joint_coords(fake_params[asked]), own.joint_coords(real_params[asked]))
        return (_mean_w1(fake_params[asked], own), joint,
                spread_ratio(fake_params[asked], own))

    return _per_class(fake, labels, target, x, measure)


def _per_class(fake: np.ndarray, labels: np.ndarray, target: Target, x: np.ndarray,
               measure: Callable[[np.ndarray, Target], tuple[float, float, float]]
               ) -> tuple[ClassMetrics, ...]:
    """The loop both kinds of class metrics share: for each class, the generated curves asked
    for it (``asked``, a mask) land in its band or not and lie in it or not alike; ``measure``
    gives the rest (W1, joint W1, spread). A class no curve asked for reads NaN."""
    with np.errstate(all="ignore"):
        landed = target.landed_class(fake, x, class_tolerance(target))
        out = []
        for c, name in enumerate(target.class_names):
            asked = labels == c
            count = int(asked.sum())
            if not count:
                out.append(ClassMetrics(name, *[float("nan")] * 5, 0))
                continue
            own = target.class_target(c)
            w1, joint, spread = measure(asked, own)
            out.append(ClassMetrics(
                name, accuracy=float(np.mean(landed[asked] == c)),
                in_band=in_band_fraction(fake[asked], own, x), w1=w1, joint_w1=joint,
                spread=spread, n=count))
    return tuple(out)


def class_accuracy(fake: np.ndarray, labels: np.ndarray, target: Target, x: np.ndarray) -> float:
    """Share of generated curves ``fake`` that land in the band of the class they were asked
    for (``labels``): what a conditional GAN exists for. About 1/2 for a G that ignores its
    label on two equally likely classes."""
    with np.errstate(all="ignore"):
        return float(np.mean(target.landed_class(fake, x, class_tolerance(target)) == labels))


def data_class_metrics(fake: np.ndarray, real: np.ndarray, labels: np.ndarray,
                       target: DataFamily) -> tuple[ClassMetrics, ...]:
    """Each class's :class:`ClassMetrics` of a conditional run of your data: of generated
    curves ``fake`` asked for ``labels``, against real curves ``real`` of the same ``labels``
    (both in training units), in curve space: accuracy, in band of the class's envelope,
    sliced W1 (own units) and the spread of the first component's score."""
    x = target.data.x
    with np.errstate(all="ignore"):
        scores = target.fit(fake, x)[0]

    def measure(asked: np.ndarray, own: Target) -> tuple[float, float, float]:
        return (curve_space.sliced_w1(fake[asked], real[asked]) * target.data.scale,
                float("nan"), spread_ratio(scores[asked], own))

    return _per_class(fake, labels, target, x, measure)


def d_outputs(loss: str, logits: np.ndarray) -> float:
    """D's mean output on curves from its logits: the mean probability ``sigmoid(l)``, or a
    critic's mean score under the wasserstein loss."""
    return float(np.mean(logits) if loss == "wasserstein" else sigmoid(logits).mean())


def _losses(loss: str, l_real: np.ndarray, l_fake: np.ndarray,
            real_label: float) -> tuple[float, float]:
    """D's loss and G's on curves whose logits D gave, as one step of training counts them."""
    n = len(l_real)
    d_loss, g_loss = loss_values(loss, l_real.reshape(1, n, 1), l_fake.reshape(1, n, 1),
                                 real_label)
    return float(d_loss[0]), float(g_loss[0])


_ClassCount = Callable[[], tuple[ClassMetrics, ...]]
"""Each class's metrics of a conditional run, counted only where there are classes: the one
thing the families and your data count apart."""


def _conditional(fake: np.ndarray, labels: np.ndarray | None, target: Target, x: np.ndarray,
                 classes: _ClassCount) -> dict[str, Any]:
    """A conditional run's ``class_accuracy`` and ``classes`` as every evaluation names them;
    nothing for a run without classes, whose defaults say so."""
    if labels is None:
        return {}
    return {"class_accuracy": class_accuracy(fake, labels, target, x), "classes": classes()}


def _shared_metrics(sample: EvaluationSample, target: Target, x: np.ndarray, loss: str,
                    real_label: float, classes: _ClassCount) -> dict[str, Any]:
    """What :class:`Metrics` and :class:`DataMetrics` measure alike, by their names: D's outputs
    and losses, its JSD, the slope, the spread and a conditional run's class metrics."""
    with np.errstate(all="ignore"):
        d_loss, g_loss = _losses(loss, sample.l_real, sample.l_fake, real_label)
        conditional = _conditional(sample.fake, sample.labels, target, x, classes)
        by_class = conditional.get("classes")
        return {
            "d_real": d_outputs(loss, sample.l_real), "d_fake": d_outputs(loss, sample.l_fake),
            "d_loss": d_loss, "g_loss": g_loss, "d_score": -d_loss,
            "spread": (min(c.spread for c in by_class) if by_class
                       else spread_ratio(sample.fake_params, target)),
            "jsd_d": (jsd_from_d(sample.l_real, sample.l_fake) if d_star_applies(loss)
                      else math.nan),
            "slope": sample.slope, **conditional}


def _shared_readouts(stack: GANStack, member: int, config: GANConfig, fake: np.ndarray,
                real: np.ndarray, labels: np.ndarray | None,
                classes: _ClassCount) -> dict[str, Any]:
    """What :class:`Readouts` and :class:`DataReadouts` show alike, by their names: D's output
    on real curves, its score, a wasserstein critic's slope and a conditional run's class
    metrics, from D's passes on ``real`` and ``fake``."""
    with np.errstate(all="ignore"):
        l_fake = stack.discriminate(fake, member, labels)
        l_real = stack.discriminate(real, member, labels)
        d_loss, _ = _losses(config.loss, l_real, l_fake, config.real_label)
        return {"d_real": d_outputs(config.loss, l_real), "d_score": -d_loss,
                "slope": (mean_slope(stack, member, real, fake, labels=labels)
                          if config.loss == "wasserstein" else None),
                **_conditional(fake, labels, stack.target, stack.x, classes)}


def metrics_of(sample: EvaluationSample, target: Target, x: np.ndarray, loss: str,
               real_label: float = 1.0) -> Metrics:
    """The :class:`Metrics` of an evaluation sample under ``loss``."""
    floors = noise_floors(target.name, len(x), len(sample.fake))
    shared = _shared_metrics(
        sample, target, x, loss, real_label,
        lambda: class_metrics(sample.fake, sample.fake_params, sample.real_params,
                              sample.labels, target, x))
    with np.errstate(all="ignore"):
        return Metrics(
            in_band=in_band_fraction(sample.fake, target, x),
            w1=_mean_w1(sample.fake_params, target),
            fit_residual=float(sample.fake_residual.mean()),
            joint_w1=sliced_w1(target.joint_coords(sample.fake_params),
                               target.joint_coords(sample.real_params)),
            jsd=parameter_jsd(target, sample.fake_params),
            fit_residual_floor=floors.fit_residual,
            joint_w1_floor=floors.joint_w1,
            jsd_floor=floors.jsd,
            **shared,
        )


@dataclass(frozen=True)
class Readouts:
    """The numbers the live view shows every refresh, as :class:`Metrics` has them."""

    in_band: float
    w1: float
    fit_residual: float
    d_real: float
    d_score: float
    joint_w1: float | None
    """Only for a target of more than one parameter (None otherwise): it needs the real
    curves' fits, which nothing else shown does."""
    slope: float | None = None
    """Only for a wasserstein critic (None otherwise), whose slope WGAN-GP holds near 1."""
    class_accuracy: float | None = None
    classes: tuple[ClassMetrics, ...] = ()
    """A conditional run's, as :class:`Metrics` has them (``joint_w1`` of each class NaN for a
    one-parameter target)."""


def readouts_member(stack: GANStack, member: int, config: GANConfig, step: int,
                    n: int = EVAL_SAMPLES) -> Readouts | DataReadouts:
    """The :class:`Readouts` of one member exactly as :func:`evaluate_member` gives them, from
    the same curves, without what they do not show (the JSDs, the spread, and for a
    one-parameter target the real curves' fits): the live view reads them every refresh of
    every visitor. Your data's are :class:`DataReadouts`."""
    if isinstance(stack.target, DataFamily):
        return data_readouts_member(stack, member, config, step, n)
    fake, real, labels = _draw_sample(stack, member, config, step, n)
    target = stack.target
    with np.errstate(all="ignore"):
        params, residual = target.fit(fake, stack.x)
        joint, real_params = None, None
        if len(target.param_names) > 1:
            real_params = target.fit(real, stack.x)[0]
            joint = sliced_w1(target.joint_coords(params), target.joint_coords(real_params))
        return Readouts(in_band=in_band_fraction(fake, target, stack.x),
                        w1=_mean_w1(params, target), fit_residual=float(residual.mean()),
                        joint_w1=joint,
                        **_shared_readouts(stack, member, config, fake, real, labels,
                                      lambda: class_metrics(fake, params, real_params, labels,
                                                            target, stack.x)))


def band_and_w1(stack: GANStack, member: int, config: GANConfig, step: int,
                n: int = EVAL_SAMPLES) -> tuple[float, float]:
    """``(in_band, w1)`` exactly as :func:`evaluate_member` gives them, from the same curves,
    without D's passes or the other metrics: all a grid of many GANs scores its cells by.
    For your data the W1 is the sliced W1 in curve space (``DataMetrics.sliced_w1``)."""
    return grid_scores(stack, member, config, step, n)[:2]


def grid_scores(stack: GANStack, member: int, config: GANConfig, step: int,
                n: int = EVAL_SAMPLES) -> tuple[float, float, float]:
    """``(in_band, w1, class_accuracy)`` exactly as :func:`evaluate_member` gives them
    (``class_accuracy`` NaN for a run without classes), from the same curves, without D's
    passes or the other metrics: all a grid of many GANs scores its cells by."""
    fake, real, labels = _draw_sample(stack, member, config, step, n)
    accuracy = float("nan")
    if isinstance(stack.target, DataFamily):
        with np.errstate(all="ignore"):
            if labels is not None:
                accuracy = class_accuracy(fake, labels, stack.target, stack.x)
            return (in_band_fraction(fake, stack.target, stack.x),
                    curve_space.sliced_w1(fake, real) * stack.target.data.scale, accuracy)
    with np.errstate(all="ignore"):
        params, _ = stack.target.fit(fake, stack.x)
        accuracy = (float("nan") if labels is None
                    else class_accuracy(fake, labels, stack.target, stack.x))
        return (in_band_fraction(fake, stack.target, stack.x), _mean_w1(params, stack.target),
                accuracy)


def quality_member(stack: GANStack, member: int, config: GANConfig, step: int,
                   n: int = EVAL_SAMPLES) -> tuple[float, ...]:
    """The history's evaluation row (``History.eval_columns``) exactly as
    :func:`evaluate_member` gives those values."""
    metrics = evaluate_member(stack, member, config, step, n, slope=False)
    data = isinstance(metrics, DataMetrics)
    return tuple(getattr(metrics, column)
                 for column in History.eval_columns(bool(stack.label_width), data))


def evaluate_member(stack: GANStack, member: int, config: GANConfig, step: int,
                    n: int = EVAL_SAMPLES, slope: bool = True) -> Metrics | DataMetrics:
    """Metrics of one member of a stack on ``n`` generated and ``n`` real curves (``slope``:
    also D's mean input gradient length, which the history's rows leave out)."""
    sample = evaluation_sample(stack, member, config, step, n, slope)
    of = data_metrics_of if isinstance(stack.target, DataFamily) else metrics_of
    return of(sample, stack.target, stack.x, config.loss, config.real_label)


# -- your data: curve space ------------------------------------------------------------------

MANIFOLD_SAMPLES = 500
"""Generated and real curves whose k-nearest-neighbour manifolds give precision, recall and the
nearest real curve: a pair of 500 x 500 distance tables per readout (1,000 would be four times
the work, on every tick)."""
MANIFOLD_DRAWS = 4
"""Samples of the real law averaged for the precision and recall floors."""


@dataclass(frozen=True)
class DataMetrics:
    """One evaluation of a trainer of your data, on fresh samples, in the curves' own units.

    - ``in_band``: share of generated points inside the data's envelope (per point, the lowest
      and highest real value), widened by ``DataFamily.tolerance``, the tutorial's 0.05 in
      proportion to the envelope's width. ``in_band_floor``: what real curves read (1 for a
      table or a band; just under 1 for curves with noise, whose envelope is ±3 widths).
    - ``sliced_w1``: sliced W1 between generated and real curves in curve space
      (:func:`curve_space.sliced_w1`); ``sliced_w1_floor``: two samples of the real law.
    - ``precision``, ``recall``: k-NN manifolds (:func:`curve_space.precision_recall`) of
      ``MANIFOLD_SAMPLES`` generated curves against as many real ones (all the rows of a smaller
      table), each ball at least the in-band tolerance wide (:func:`least_radius`); the
      floors: a perfect generator's.
    - ``nearest_real``: mean RMS distance of a generated curve to its nearest real curve;
      ``real_spacing``: the same for each real curve to its nearest other one. Far below it, G
      copies curves of the data.
    - ``spread``: interquartile range of the first principal component's score of G's curves
      over the real curves' (mode collapse reads near 0).
    - ``jsd``: the Jensen–Shannon divergence of the first component's score
      (:mod:`gan_core.measure.theory`), NaN where the data are too few for a density
      (``DataFamily.theory_reason``); ``jsd_d`` as for the families.
    """

    in_band: float
    sliced_w1: float
    precision: float
    recall: float
    nearest_real: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    d_score: float
    spread: float
    jsd: float
    jsd_d: float
    in_band_floor: float
    sliced_w1_floor: float
    precision_floor: float
    recall_floor: float
    real_spacing: float
    jsd_floor: float
    slope: float = float("nan")
    class_accuracy: float | None = None
    """A conditional run's share of curves that land in the class they were asked for
    (``DataFamily.landed_class``); None for a run without classes. ``spread`` is then the
    smallest over the classes, as for the families."""
    classes: tuple[ClassMetrics, ...] = ()
    """A conditional run's metrics of each class (:func:`data_class_metrics`)."""

    as_dict = Metrics.as_dict


@dataclass(frozen=True)
class DataFloors:
    """What a perfect generator of your data reads (see :class:`DataMetrics`)."""

    in_band: float
    sliced_w1: float
    precision: float
    recall: float
    real_spacing: float
    jsd: float


@dataclass(frozen=True)
class DataReadouts:
    """The numbers the live view shows of a run of your data, as :class:`DataMetrics` has them."""

    in_band: float
    sliced_w1: float
    precision: float
    recall: float
    nearest_real: float
    d_real: float
    d_score: float
    slope: float | None = None
    """Only for a wasserstein critic (None otherwise), as :class:`Readouts` has it."""
    class_accuracy: float | None = None
    classes: tuple[ClassMetrics, ...] = ()
    """A conditional run's, as :class:`DataMetrics` has them."""


def least_radius(target: DataFamily) -> float:
    """The least radius of a ball of the k-NN manifolds (``curve_space``), in training units:
    the in-band tolerance at every point and, for curves with noise, the noise's width too (a
    curve that near a real one is as real as the noise makes any), as one distance between
    curves."""
    noise = target.data.noise / target.data.scale
    return math.hypot(target.tolerance, noise) * math.sqrt(target.data.n_points)


@lru_cache(maxsize=16)
def manifold_reference(target_name: str, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` real curves (training units) whose manifold generated curves are held to, and
    their squared k-NN radii: every row of a table that has at most ``m`` (a fixed choice of
    ``m`` otherwise), or ``m`` curves drawn from a band or curves with noise. The same for
    every run of these curves."""
    target = get_target(target_name)
    data = target.data
    rng = stream(0, NOISE_FLOOR, m, 2)
    if data.kind == "rows":
        rows = data.training
        reference = rows if len(rows) <= m else rows[np.sort(rng.choice(len(rows), m,
                                                                        replace=False))]
    else:
        reference = data.sample(rng, m)
    reference = np.array(reference, np.float32)
    radii = curve_space.knn_radii(reference, least=least_radius(target))
    reference.setflags(write=False)
    radii.setflags(write=False)
    return reference, radii


@lru_cache(maxsize=64)
def data_floors(target_name: str, n: int) -> DataFloors:
    """The :class:`DataFloors` of your data at ``n`` evaluation curves (the same for every run
    of them)."""
    target = get_target(target_name)
    if not isinstance(target, DataFamily):
        raise ValueError(f"{target_name!r} is a family, not your data: see noise_floors")
    data, x, m = target.data, target.grid(target.data.n_points), min(MANIFOLD_SAMPLES, n)
    rng = stream(0, NOISE_FLOOR, n, 1)
    draws = [data.sample(rng, n) for _ in range(2 * FLOOR_DRAWS)]
    reference, radii = manifold_reference(target_name, MANIFOLD_SAMPLES)
    manifolds = [curve_space.precision_recall(reference, radii, d[:m],
                                              least=least_radius(target))[:2]
                 for d in draws[:MANIFOLD_DRAWS]]
    pairs = zip(draws[::2], draws[1::2], strict=True)
    return DataFloors(
        in_band=float(np.mean([in_band_fraction(d, target, x) for d in draws[:MANIFOLD_DRAWS]])),
        sliced_w1=float(np.mean([curve_space.sliced_w1(a, b) for a, b in pairs])) * data.scale,
        precision=float(np.mean([p for p, _ in manifolds])),
        recall=float(np.mean([r for _, r in manifolds])),
        real_spacing=float(curve_space.leave_one_out_spacing(reference).mean()) * data.scale,
        jsd=jsd_floor(target_name, n) if target.theory_reason is None else math.nan)


def _curve_space(fake: np.ndarray, real: np.ndarray, target: DataFamily,
                 n: int) -> tuple[float, float, float, float, float]:
    """In band, sliced W1, precision, recall and the nearest real curve of ``fake`` against
    ``real`` (both ``n`` curves in training units)."""
    reference, radii = manifold_reference(target.name, MANIFOLD_SAMPLES)
    m, scale = min(MANIFOLD_SAMPLES, n), target.data.scale
    precision, recall, between = curve_space.precision_recall(reference, radii, fake[:m],
                                                              least=least_radius(target))
    nearest = curve_space.nearest_distances(between, fake.shape[1])
    return (in_band_fraction(fake, target, target.data.x),
            curve_space.sliced_w1(fake, real) * scale, precision, recall,
            float(np.mean(nearest)) * scale)


def data_metrics_of(sample: EvaluationSample, target: DataFamily, x: np.ndarray,
                    loss: str, real_label: float = 1.0) -> DataMetrics:
    """The :class:`DataMetrics` of an evaluation sample under ``loss``."""
    n = len(sample.fake)
    floors = data_floors(target.name, n)
    shared = _shared_metrics(
        sample, target, x, loss, real_label,
        lambda: data_class_metrics(sample.fake, sample.real, sample.labels, target))
    with np.errstate(all="ignore"):
        in_band, sliced, precision, recall, nearest = _curve_space(sample.fake, sample.real,
                                                                   target, n)
        return DataMetrics(
            in_band=in_band, sliced_w1=sliced, precision=precision, recall=recall,
            nearest_real=nearest,
            jsd=(parameter_jsd(target, sample.fake_params) if target.theory_reason is None
                 else math.nan),
            in_band_floor=floors.in_band, sliced_w1_floor=floors.sliced_w1,
            precision_floor=floors.precision, recall_floor=floors.recall,
            real_spacing=floors.real_spacing, jsd_floor=floors.jsd, **shared)


def data_readouts_member(stack: GANStack, member: int, config: GANConfig, step: int,
                         n: int = EVAL_SAMPLES) -> DataReadouts:
    """The :class:`DataReadouts` of one member exactly as :func:`evaluate_member` gives them,
    from the same curves, without the fits and the JSD they do not show."""
    fake, real, labels = _draw_sample(stack, member, config, step, n)
    target = stack.target
    with np.errstate(all="ignore"):
        in_band, sliced, precision, recall, nearest = _curve_space(fake, real, target, n)
    return DataReadouts(in_band=in_band, sliced_w1=sliced, precision=precision, recall=recall,
                        nearest_real=nearest,
                        **_shared_readouts(stack, member, config, fake, real, labels,
                                      lambda: data_class_metrics(fake, real, labels, target)))

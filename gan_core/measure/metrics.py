"""How good a generator is, measured against its target family."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import GANStack
from ..gan.history import History
from ..gan.losses import loss_values, sigmoid
from ..gan.streams import EVALUATION, NOISE_FLOOR, stream
from ..gan.targets import Target, Uniforms, curve_grid, get_target
from .theory import FLOOR_DRAWS, jsd_floor, jsd_from_d, parameter_jsd

IN_BAND_TOLERANCE = 0.05
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
    ``-d_loss``. Where they settle depends on the loss: ``losses.equilibrium_point``.

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
    """Mean over parameters of the W1 distance to the class's law."""
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
    labels: np.ndarray | None = None
    """A conditional run's classes ``(n,)``: of each real curve, and the one G was asked for
    in the same row."""


def _draw_sample(stack: GANStack, config: GANConfig, rng: np.random.Generator,
                 n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Latent vectors, then real curves (and in a conditional run their classes, which G is
    then asked for), from one stream."""
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    if stack.label_width:
        real, labels = stack.target.sample_labelled(rng, n, stack.x)
        return z, real, labels
    return z, stack.target.sample(rng, n, stack.x), None


def evaluation_sample(stack: GANStack, member: int, config: GANConfig, step: int,
                      n: int = EVAL_SAMPLES) -> EvaluationSample:
    """``n`` curves of one member from the evaluation stream of ``step``, not the training
    stream: evaluating never changes a run, and a step always gives the same numbers. Then
    ``n`` real curves from the same stream; a conditional run's G is asked for their classes."""
    rng = stream(config.seed, EVALUATION, step)
    z, real, labels = _draw_sample(stack, config, rng, n)
    fake = stack.generate(z, member, labels)
    with np.errstate(all="ignore"):
        fake_params, fake_residual = stack.target.fit(fake, stack.x)
        real_params, _ = stack.target.fit(real, stack.x)
        l_fake = stack.discriminate(fake, member, labels)
        l_real = stack.discriminate(real, member, labels)
    return EvaluationSample(fake, real, fake_params, fake_residual, real_params, l_fake, l_real,
                            labels)


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
                            labels)


def class_metrics(fake: np.ndarray, fake_params: np.ndarray, real_params: np.ndarray | None,
                  labels: np.ndarray, target: Target, x: np.ndarray) -> tuple[ClassMetrics, ...]:
    """Each class's :class:`ClassMetrics` of generated curves ``fake`` asked for ``labels``,
    with their fitted parameters; ``real_params`` of real curves with the same ``labels`` (for
    the joint W1; None to leave it NaN)."""
    with np.errstate(all="ignore"):
        landed = target.landed_class(fake, x, CLASS_TOLERANCE)
        out = []
        for c, name in enumerate(target.class_names):
            asked = labels == c
            count = int(asked.sum())
            if not count:
                out.append(ClassMetrics(name, *[float("nan")] * 5, 0))
                continue
            own = target.class_target(c)
            joint = float("nan") if real_params is None else sliced_w1(
                own.joint_coords(fake_params[asked]), own.joint_coords(real_params[asked]))
            out.append(ClassMetrics(
                name, accuracy=float(np.mean(landed[asked] == c)),
                in_band=in_band_fraction(fake[asked], own, x),
                w1=_mean_w1(fake_params[asked], own), joint_w1=joint,
                spread=spread_ratio(fake_params[asked], own), n=count))
    return tuple(out)


def class_accuracy(fake: np.ndarray, labels: np.ndarray, target: Target, x: np.ndarray) -> float:
    """Share of generated curves ``fake`` that land in the band of the class they were asked
    for (``labels``): what a conditional GAN exists for. About 1/2 for a G that ignores its
    label on two equally likely classes."""
    with np.errstate(all="ignore"):
        return float(np.mean(target.landed_class(fake, x, CLASS_TOLERANCE) == labels))


def metrics_of(sample: EvaluationSample, target: Target, x: np.ndarray, loss: str) -> Metrics:
    """The :class:`Metrics` of an evaluation sample under ``loss``."""
    n = len(sample.fake)
    floors = noise_floors(target.name, len(x), n)
    classes: tuple[ClassMetrics, ...] = ()
    accuracy = None
    if sample.labels is not None:
        classes = class_metrics(sample.fake, sample.fake_params, sample.real_params,
                                sample.labels, target, x)
        accuracy = class_accuracy(sample.fake, sample.labels, target, x)
    with np.errstate(all="ignore"):
        d_loss, g_loss = loss_values(loss, sample.l_real.reshape(1, n, 1),
                                     sample.l_fake.reshape(1, n, 1))
        spread = (min(c.spread for c in classes) if classes
                  else spread_ratio(sample.fake_params, target))
        return Metrics(
            in_band=in_band_fraction(sample.fake, target, x),
            w1=_mean_w1(sample.fake_params, target),
            fit_residual=float(sample.fake_residual.mean()),
            d_real=float(sigmoid(sample.l_real).mean()),
            d_fake=float(sigmoid(sample.l_fake).mean()),
            d_loss=float(d_loss[0]),
            g_loss=float(g_loss[0]),
            d_score=-float(d_loss[0]),
            joint_w1=sliced_w1(target.joint_coords(sample.fake_params),
                               target.joint_coords(sample.real_params)),
            spread=spread,
            jsd=parameter_jsd(target, sample.fake_params),
            jsd_d=jsd_from_d(sample.l_real, sample.l_fake),
            fit_residual_floor=floors.fit_residual,
            joint_w1_floor=floors.joint_w1,
            jsd_floor=floors.jsd,
            class_accuracy=accuracy,
            classes=classes,
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
    class_accuracy: float | None = None
    classes: tuple[ClassMetrics, ...] = ()
    """A conditional run's, as :class:`Metrics` has them (``joint_w1`` of each class NaN for a
    one-parameter target)."""


def readouts_member(stack: GANStack, member: int, config: GANConfig, step: int,
                    n: int = EVAL_SAMPLES) -> Readouts:
    """The :class:`Readouts` of one member exactly as :func:`evaluate_member` gives them, from
    the same curves, without what they do not show (the JSDs, the spread, and for a
    one-parameter target the real curves' fits): the live view reads them every refresh of
    every visitor."""
    rng = stream(config.seed, EVALUATION, step)
    z, real, labels = _draw_sample(stack, config, rng, n)
    fake = stack.generate(z, member, labels)
    target = stack.target
    with np.errstate(all="ignore"):
        params, residual = target.fit(fake, stack.x)
        joint, real_params = None, None
        if len(target.param_names) > 1:
            real_params = target.fit(real, stack.x)[0]
            joint = sliced_w1(target.joint_coords(params), target.joint_coords(real_params))
        l_fake = stack.discriminate(fake, member, labels)
        l_real = stack.discriminate(real, member, labels)
        d_loss, _ = loss_values(config.loss, l_real.reshape(1, n, 1), l_fake.reshape(1, n, 1))
        conditional = {}
        if labels is not None:
            conditional = {
                "class_accuracy": class_accuracy(fake, labels, target, stack.x),
                "classes": class_metrics(fake, params, real_params, labels, target, stack.x)}
        return Readouts(in_band=in_band_fraction(fake, target, stack.x),
                        w1=_mean_w1(params, target), fit_residual=float(residual.mean()),
                        d_real=float(sigmoid(l_real).mean()), d_score=-float(d_loss[0]),
                        joint_w1=joint, **conditional)


def band_and_w1(stack: GANStack, member: int, config: GANConfig, step: int,
                n: int = EVAL_SAMPLES) -> tuple[float, float]:
    """``(in_band, w1)`` exactly as :func:`evaluate_member` gives them, from the same curves,
    without D's passes or the other metrics: all a grid of many GANs scores its cells by."""
    return grid_scores(stack, member, config, step, n)[:2]


def grid_scores(stack: GANStack, member: int, config: GANConfig, step: int,
                n: int = EVAL_SAMPLES) -> tuple[float, float, float]:
    """``(in_band, w1, class_accuracy)`` exactly as :func:`evaluate_member` gives them
    (``class_accuracy`` NaN for a run without classes), from the same curves, without D's
    passes or the other metrics: all a grid of many GANs scores its cells by."""
    rng = stream(config.seed, EVALUATION, step)
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    labels = stack.target.sample_labelled(rng, n, stack.x)[1] if stack.label_width else None
    fake = stack.generate(z, member, labels)
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
    metrics = evaluate_member(stack, member, config, step, n)
    return tuple(getattr(metrics, column)
                 for column in History.eval_columns(bool(stack.label_width)))


def evaluate_member(stack: GANStack, member: int, config: GANConfig, step: int,
                    n: int = EVAL_SAMPLES) -> Metrics:
    """Metrics of one member of a stack on ``n`` generated and ``n`` real curves."""
    return metrics_of(evaluation_sample(stack, member, config, step, n), stack.target, stack.x,
                      config.loss)

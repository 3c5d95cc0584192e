"""Families of curves the generator learns to paint.

A target knows how to sample real curves, the envelope every real curve lies in, how to fit its
parameters to any curve (for the W1 metric), and a two-dimensional "plane" of curves
``origin + u * b1(x) + v * b2(x)`` on which the discriminator can be drawn as a heatmap.

The built-in families are named in :data:`TARGET_FAMILIES`. Your own curves
(``gan_core.data.Curves``) are a :class:`DataFamily`, made by :func:`data_target` and named by
a hash of the curves, so that everything that looks a target up by name (the charts, the noise
floors) finds it while a run holds it.

A family may also have classes, for a conditional run (``GANConfig.conditional``): each real
curve has one, read off it, and each class is a family of its own, the curves of that class
(``Target.class_target``). The families here split at a value of one parameter
(:class:`ParameterClasses`); your data with a label column read their classes off their labels
(:class:`DataFamily`, each class a :class:`DataClass`); any other target plugs in by
implementing the four methods of the hook (see ``Target.class_names``).
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..data.curves import Curves, curve_grid, tutorial_bounds
from .streams import NOISE_FLOOR, stream

IN_BAND_TOLERANCE = 0.05
"""How far outside the tutorial's envelope a point still counts as in band."""


@dataclass(frozen=True)
class Uniforms:
    """A mixture of equally weighted uniform ranges; its quantile function is piecewise linear."""

    ranges: tuple[tuple[float, float], ...]
    size = math.inf
    """Distinct values the law holds: a continuous law, any number."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.random((n, 1), dtype=np.float32)
        return self.quantile(u).astype(np.float32, copy=False)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        k = len(self.ranges)
        if k == 1:
            lo, hi = self.ranges[0]
            return lo + (hi - lo) * u
        idx = np.minimum((u * k).astype(np.int64), k - 1)
        lows = np.array([r[0] for r in self.ranges], dtype=u.dtype)[idx]
        widths = np.array([r[1] - r[0] for r in self.ranges], dtype=u.dtype)[idx]
        return lows + widths * (u * k - idx)

    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """Quantile levels and values at which the quantile function bends."""
        k = len(self.ranges)
        levels, values = [], []
        for i, (lo, hi) in enumerate(self.ranges):
            levels += [i / k, (i + 1) / k]
            values += [lo, hi]
        return np.array(levels), np.array(values)

    @property
    def bounds(self) -> tuple[float, float]:
        return min(r[0] for r in self.ranges), max(r[1] for r in self.ranges)

    def split(self, at: float) -> tuple[Uniforms, Uniforms]:
        """The law given a value at most ``at``, and given one above it. Each is again a
        mixture of equally weighted uniforms, so each range must keep the same share of its
        width on a side (a cut through one range, or between ranges)."""
        sides = []
        for keep in (lambda lo, hi: (lo, min(hi, at)), lambda lo, hi: (max(lo, at), hi)):
            kept = [keep(lo, hi) for lo, hi in self.ranges]
            shares = {round((b - a) / (hi - lo), 12)
                      for (a, b), (lo, hi) in zip(kept, self.ranges, strict=True) if b > a}
            if len(shares) != 1:
                raise ValueError(f"splitting {self.ranges} at {at:g} leaves unequal weights")
            sides.append(Uniforms(tuple((a, b) for a, b in kept if b > a)))
        return sides[0], sides[1]

    def density(self, v: np.ndarray) -> np.ndarray:
        """The law's probability density at ``v`` (zero outside every range)."""
        v = np.asarray(v, np.float64)
        k = len(self.ranges)
        return sum(((v >= lo) & (v <= hi)) / (k * (hi - lo)) for lo, hi in self.ranges)

    @property
    def std(self) -> float:
        """The law's standard deviation: each uniform's variance plus the spread of their means."""
        means = np.array([(lo + hi) / 2 for lo, hi in self.ranges])
        variances = np.array([(hi - lo) ** 2 / 12 for lo, hi in self.ranges])
        return float(np.sqrt(variances.mean() + means.var()))

    @property
    def iqr(self) -> float:
        """The law's interquartile range."""
        q1, q3 = self.quantile(np.array([0.25, 0.75]))
        return float(q3 - q1)


@dataclass(frozen=True)
class Plane:
    """Curves ``u * b1(x) + v * b2(x)`` over a box of (u, v), for the discriminator map."""

    u_label: str
    v_label: str
    u_range: tuple[float, float]
    v_range: tuple[float, float]


CLASS_MARK = ":"
"""Joins a family's name and a class: ``"parabola:1"`` is the parabolas of class 1."""


class Target:
    """Base of every target family; subclasses define the curve law.

    Every method works in training units, the values the networks see; ``shown`` and
    ``trained`` convert to and from the curves' own units, which differ only for your data
    trained on a normalised copy (:class:`DataFamily`).
    """

    name: str
    title: str
    formula: str
    lesson: str
    param_names: tuple[str, ...]
    param_periods: tuple[float | None, ...]
    """Per parameter, its period if it is an angle (the same curve every period), else None."""
    plane: Plane
    tolerance: float = IN_BAND_TOLERANCE
    """How far outside the envelope a point still counts as in band, in training units."""
    theory_reason: str | None = None
    """Why the optimal D and the JSD along the family's parameter cannot be computed, or None."""
    unit: float = 1.0
    """Own units per training unit (``shown`` multiplies distances by it)."""
    data: Curves | None = None
    """Your curves, for :class:`DataFamily`; None for the built-in families."""

    def grid(self, n_points: int) -> np.ndarray:
        """Where the points of a curve sit, float32 (the tutorial's grid for every family but
        your data, whose curves say)."""
        return curve_grid(n_points)

    def shown(self, curves: np.ndarray) -> np.ndarray:
        """Curves in training units, in the curves' own units."""
        return curves

    def trained(self, curves: np.ndarray) -> np.ndarray:
        """Curves in their own units, in training units (float32)."""
        return np.asarray(curves, np.float32)

    def band(self, n: int = 61) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The envelope as the charts draw it, in own units: x, lower and upper, float64."""
        x = np.linspace(-1, 1, n)
        lower, upper = self.envelope(x)
        return x, np.asarray(lower, np.float64), np.asarray(upper, np.float64)

    def plane_origin(self, x: np.ndarray) -> np.ndarray:
        """The curve at (0, 0) of the plane: none for the families, whose planes are spanned
        by their basis curves; the mean curve for your data."""
        return np.zeros(len(x))

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def envelope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def plane_basis(self, x: np.ndarray) -> np.ndarray:
        """``(2, n_points)``: the curves b1 and b2 spanning the plane."""
        raise NotImplementedError

    def fit(self, curves: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Least-squares parameters ``(n, len(param_names))`` and RMS residual ``(n,)``."""
        raise NotImplementedError

    def param_laws(self) -> tuple[Uniforms, ...]:
        raise NotImplementedError

    def curves(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The family's exact curves ``(n, n_points)`` for parameters ``(n, len(param_names))``,
        in float64: what :meth:`fit` recovers the parameters of."""
        raise NotImplementedError

    joint_label: str
    """What :meth:`joint_coords` measures distances in."""

    def joint_coords(self, params: np.ndarray) -> np.ndarray:
        """Coordinates ``(n, d)`` of fitted parameters in which the joint law is compared:
        the parameters themselves unless a family says otherwise."""
        return np.asarray(params, np.float64)

    def plane_coords(self, curves: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Least-squares position ``(n, 2)`` of each curve on the plane."""
        basis = self.plane_basis(x).astype(np.float64)
        centred = np.asarray(curves, np.float64) - self.plane_origin(x)
        coef, *_ = np.linalg.lstsq(basis.T, centred.T, rcond=None)
        return coef.T

    def real_plane_coords(self, n: int, seed: int = 0) -> np.ndarray:
        """Where real curves sit on the plane (exactly on it for every family here)."""
        raise NotImplementedError

    # -- classes: the hook a conditional run uses ---------------------------------------------

    class_names: tuple[str, ...] = ()
    """The classes a conditional run asks G for, class 0 first (short words for the page);
    empty for a family without classes. A target with classes implements the four methods
    below: ``sample_labelled``, ``class_shares``, ``class_target`` and ``landed_class``. Your
    data with a label column implement them from their rows: their curves and labels, each
    label's share, the rows of one label as a target of their own, and which class's curves a
    generated curve lies among."""
    class_rule: str = ""
    """How a real curve's class is decided, in words."""
    class_reason: str | None = None
    """Why a target has no classes, where that needs saying (your data without labels)."""

    def sample_labelled(self, rng: np.random.Generator, n: int,
                        x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real curves ``(n, n_points)`` and each one's class ``(n,)`` (int64). The curves are
        exactly what :meth:`sample` draws from the same stream: a conditional run trains on
        the real curves an unconditional run of its seed would see."""
        raise NotImplementedError

    def class_shares(self) -> np.ndarray:
        """Each class's share of the real curves ``(n_classes,)``."""
        raise NotImplementedError

    def class_target(self, c: int) -> Target:
        """The curves of class ``c`` as a family of their own: their law (W1 per class),
        their envelope (the class's band), their samples. Named ``"<family>:<c>"``, which
        :func:`get_target` resolves."""
        raise NotImplementedError

    def landed_class(self, curves: np.ndarray, x: np.ndarray, tolerance: float) -> np.ndarray:
        """Per curve ``(n,)``, the class whose band it lands in, or -1 for none: what class
        accuracy counts. ``tolerance`` widens the bands as the in-band test does."""
        raise NotImplementedError


def within(values: np.ndarray, law: Uniforms, period: float | None,
           tolerance: float) -> np.ndarray:
    """Is each value inside one of ``law``'s ranges widened by ``tolerance`` (an angle taken at
    its turn nearest the range)?"""
    values = np.asarray(values, np.float64)
    inside = np.zeros(values.shape, bool)
    for lo, hi in law.ranges:
        v = values
        if period is not None:
            middle = (lo + hi) / 2
            v = middle + (values - middle + period / 2) % period - period / 2
        with np.errstate(invalid="ignore"):
            inside |= (v >= lo - tolerance) & (v <= hi + tolerance)
    return inside


class ParameterClasses(Target):
    """Two classes split at a value of one parameter: class 1 where ``split_param`` is above
    ``split_at``, class 0 where it is not. A curve lands in class ``c``'s band when its fitted
    parameters are those of a real curve of class ``c``: the split puts it on ``c``'s side and
    every parameter lies in its class law's ranges, widened by the tolerance."""

    split_param: int
    split_at: float

    def _classes(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values) > self.split_at).astype(np.int64)

    def _with_laws(self, laws: tuple[Uniforms, ...], c: int) -> Target:
        """This family with other parameter laws: class ``c``'s."""
        raise NotImplementedError

    def class_shares(self) -> np.ndarray:
        law = self.param_laws()[self.split_param]
        below = law.split(self.split_at)[0]
        share = sum(b - a for a, b in below.ranges) / sum(b - a for a, b in law.ranges)
        return np.array([share, 1 - share])

    def class_target(self, c: int) -> Target:
        if c not in (0, 1):
            raise ValueError(f"class {c!r}: {self.name} has classes 0 and 1")
        cached = self.__dict__.setdefault("_class_targets", {})
        if c not in cached:
            laws = list(self.param_laws())
            laws[self.split_param] = laws[self.split_param].split(self.split_at)[c]
            cached[c] = self._with_laws(tuple(laws), c)
        return cached[c]

    def landed_class(self, curves: np.ndarray, x: np.ndarray, tolerance: float) -> np.ndarray:
        params, _ = self.fit(curves, x)
        side = self._classes(params[:, self.split_param])
        inside = np.ones(len(params), bool)
        for c in (0, 1):
            laws = self.class_target(c).param_laws()
            for i, (law, period) in enumerate(zip(laws, self.param_periods, strict=True)):
                inside &= (side != c) | within(params[:, i], law, period, tolerance)
        return np.where(inside, side, -1)


class QuadraticFamily(ParameterClasses):
    """``y = a * x^2 + (a - 1)`` with ``a`` drawn from a mixture of uniforms."""

    param_names = ("a",)
    param_periods = (None,)
    plane = Plane("c2 (x² coefficient)", "c0 (constant)", (0.5, 2.5), (-0.5, 1.5))
    split_param, split_at = 0, 1.5
    class_rule = "upper: (a − 1) > 0.5, the tutorial's label; lower: the rest"

    def __init__(self, name: str, title: str, law: Uniforms, lesson: str,
                 class_names: tuple[str, ...] = ("lower", "upper")) -> None:
        self.name, self.title, self.law, self.lesson = name, title, law, lesson
        self.class_names = class_names
        lo, hi = law.bounds
        self.formula = f"a·x² + (a − 1), a ∈ {' ∪ '.join(f'[{a:g}, {b:g}]' for a, b in law.ranges)}"
        self._a_bounds = (lo, hi)

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        a = self.law.sample(rng, n)
        return a * (x * x + 1) - 1

    def sample_labelled(self, rng: np.random.Generator, n: int,
                        x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self.law.sample(rng, n)
        return a * (x * x + 1) - 1, self._classes(a[:, 0])

    def _with_laws(self, laws: tuple[Uniforms, ...], c: int) -> Target:
        return QuadraticFamily(f"{self.name}{CLASS_MARK}{c}",
                               f"{self.title}, {self.class_names[c]} class", laws[0],
                               self.lesson, class_names=())

    def envelope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._a_bounds
        return lo * (x * x + 1) - 1, hi * (x * x + 1) - 1

    def plane_basis(self, x: np.ndarray) -> np.ndarray:
        return np.stack([x * x, np.ones_like(x)])

    def fit(self, curves: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        curves = np.asarray(curves, np.float64)
        s = np.asarray(x, np.float64) ** 2 + 1
        a = (curves + 1) @ s / (s @ s)
        residual = np.sqrt(np.mean((curves - (a[:, None] * s - 1)) ** 2, axis=1))
        return a[:, None], residual

    def param_laws(self) -> tuple[Uniforms, ...]:
        return (self.law,)

    joint_label = "a"

    def curves(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        a = np.asarray(params, np.float64)[:, :1]
        return a * (np.asarray(x, np.float64) ** 2 + 1) - 1

    def real_plane_coords(self, n: int, seed: int = 0) -> np.ndarray:
        a = self.law.quantile((np.arange(n) + 0.5) / n)
        return np.stack([a, a - 1], axis=1)


class SineFamily(ParameterClasses):
    """``y = A * sin(pi * x + phi)``: amplitude and phase both random."""

    name = "sine"
    title = "Sine waves"
    class_names = ("low", "high")
    class_rule = "high: amplitude above its median 1; low: the rest"
    split_param, split_at = 0, 1.0
    param_names = ("amplitude", "phase")
    param_periods = (None, 2 * math.pi)
    plane = Plane("A·cos φ (sin coefficient)", "A·sin φ (cos coefficient)",
                  (-0.2, 1.8), (-0.2, 1.8))
    lesson = ("Two parameters: G must spread its 5-d noise over a two-dimensional family of "
              "curves with a different shape at every x.")

    def __init__(self, amplitude: Uniforms | None = None) -> None:
        self.amplitude = amplitude or Uniforms(((0.5, 1.5),))
        self.phase = Uniforms(((0.0, math.pi / 2),))
        lo, hi = self.amplitude.bounds
        self.formula = f"A·sin(πx + φ), A ∈ [{lo:g}, {hi:g}], φ ∈ [0, π/2]"

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        amp = self.amplitude.sample(rng, n)
        phase = self.phase.sample(rng, n)
        return amp * np.sin(np.float32(math.pi) * x + phase)

    def sample_labelled(self, rng: np.random.Generator, n: int,
                        x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        amp = self.amplitude.sample(rng, n)
        phase = self.phase.sample(rng, n)
        return amp * np.sin(np.float32(math.pi) * x + phase), self._classes(amp[:, 0])

    def _with_laws(self, laws: tuple[Uniforms, ...], c: int) -> Target:
        family = SineFamily(laws[0])
        family.name = f"{self.name}{CLASS_MARK}{c}"
        family.title = f"{self.title}, {self.class_names[c]} amplitude"
        family.class_names = ()
        return family

    def envelope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a_lo, a_hi = self.amplitude.bounds
        p_lo, p_hi = self.phase.bounds
        theta_lo, theta_hi = math.pi * np.asarray(x, np.float64) + p_lo, math.pi * x + p_hi
        s_max = np.maximum(np.sin(theta_lo), np.sin(theta_hi))
        s_min = np.minimum(np.sin(theta_lo), np.sin(theta_hi))
        # sin peaks at pi/2 + 2k*pi and dips at -pi/2 + 2k*pi: include those inside the interval.
        peak = np.floor((theta_hi - math.pi / 2) / (2 * math.pi)) * 2 * math.pi + math.pi / 2
        dip = np.floor((theta_hi + math.pi / 2) / (2 * math.pi)) * 2 * math.pi - math.pi / 2
        s_max = np.where(peak >= theta_lo, 1.0, s_max)
        s_min = np.where(dip >= theta_lo, -1.0, s_min)
        upper = np.maximum(a_hi * s_max, a_lo * s_max)
        lower = np.minimum(a_hi * s_min, a_lo * s_min)
        return lower, upper

    def plane_basis(self, x: np.ndarray) -> np.ndarray:
        return np.stack([np.sin(math.pi * x), np.cos(math.pi * x)])

    def fit(self, curves: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        basis = self.plane_basis(np.asarray(x, np.float64))
        coef = self.plane_coords(curves, x)
        residual = np.sqrt(np.mean((curves - coef @ basis) ** 2, axis=1))
        amp = np.hypot(coef[:, 0], coef[:, 1])
        phase = np.arctan2(coef[:, 1], coef[:, 0])
        return np.stack([amp, phase], axis=1), residual

    def param_laws(self) -> tuple[Uniforms, ...]:
        return (self.amplitude, self.phase)

    joint_label = "(A·cos φ, A·sin φ)"

    def curves(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        params = np.asarray(params, np.float64)
        amp, phase = params[:, :1], params[:, 1:2]
        return amp * np.sin(math.pi * np.asarray(x, np.float64) + phase)

    def joint_coords(self, params: np.ndarray) -> np.ndarray:
        """The curve's coefficients on sin(πx) and cos(πx): its point on the plane. Distances
        there are distances between curves (both parameters in the curves' own units), with no
        wrap-around of the phase and no singular phase at amplitude 0."""
        params = np.asarray(params, np.float64)
        amp, phase = params[:, 0], params[:, 1]
        return np.stack([amp * np.cos(phase), amp * np.sin(phase)], axis=1)

    def real_plane_coords(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        amp = self.amplitude.sample(rng, n)[:, 0]
        phase = self.phase.sample(rng, n)[:, 0]
        return np.stack([amp * np.cos(phase), amp * np.sin(phase)], axis=1)


TARGET_FAMILIES: dict[str, Target] = {
    "parabola": QuadraticFamily(
        "parabola", "Parabolas (tutorial)", Uniforms(((1.0, 2.0),)),
        "The tutorial's family: one parameter a ~ U(1, 2). Every real curve lies between x² "
        "(a = 1) and 2x² + 1 (a = 2)."),
    "two_bands": QuadraticFamily(
        "two_bands", "Two bands (bimodal)", Uniforms(((1.0, 1.25), (1.75, 2.0))),
        "Half the curves have a in [1, 1.25], half in [1.75, 2]: nothing in between. A generator "
        "that paints only one band, or curves in the gap, shows mode collapse."),
    "sine": SineFamily(),
}


def get_target(name: str) -> Target:
    """A built-in family by name, your data's family by the name :func:`data_target` gave
    it (while something holds it), or ``"<family>:<c>"``, class ``c`` of a family."""
    family, mark, klass = name.partition(CLASS_MARK)
    if mark:
        if not klass.isdigit():
            raise KeyError(name)
        return get_target(family).class_target(int(klass))
    if name in TARGET_FAMILIES:
        return TARGET_FAMILIES[name]
    target = _DATA_TARGETS.get(name)
    if target is None:
        if name == "data":
            raise KeyError("target 'data' learns your curves: give them, as in "
                           "Trainer(GANConfig(target='data'), data=Curves.from_csv(...))")
        raise KeyError(f"no target family {name!r}")
    return target


# -- your data -----------------------------------------------------------------------------------

REFERENCE_CURVES = 4096
"""Real curves that stand for the law of your data where a sample is needed: its principal
components, the law of its first component's score, the D map's real points."""
LANDING_REACH = 2.0
"""A generated curve lands in its nearest real curve's class within this many in-band
tolerances of it (RMS over the points): a curve inside the in-band tolerance of a real curve at
every point is within one; a rough one of the same shape within two."""
MIN_DENSITY_CURVES = 30
"""A table of fewer distinct curves is too small for a density along its first component."""
TUTORIAL_WIDTH = float(np.mean(np.diff(tutorial_bounds(curve_grid(15)), axis=0)))
"""The mean width of the tutorial's band at its 15 points: your data's in-band tolerance is
``IN_BAND_TOLERANCE`` in this proportion to their own envelope's mean width."""


class EmpiricalLaw:
    """The law of a sample of values, each as likely: what the first principal component's
    score of your data follows. It offers what the theory and the histogram read of a
    :class:`Uniforms` law."""

    def __init__(self, values: np.ndarray, size: float | None = None) -> None:
        self.values = np.sort(np.asarray(values, np.float64).ravel())
        self.values.setflags(write=False)
        self.size = len(self.values) if size is None else size
        """Distinct values the law holds (a table's rows; a sample of a continuous law: its
        length). A kernel density of it is no sharper than this many values allow."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.values[rng.integers(len(self.values), size=(n, 1))].astype(np.float32)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        levels = (np.arange(len(self.values)) + 0.5) / len(self.values)
        return np.interp(np.asarray(u, np.float64), levels, self.values)

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.values[0]), float(self.values[-1])

    @property
    def std(self) -> float:
        return float(self.values.std())

    @property
    def iqr(self) -> float:
        q1, q3 = np.percentile(self.values, [25, 75])
        return float(q3 - q1)

    def histogram(self, edges: np.ndarray) -> np.ndarray:
        """The law's density on the bins between ``edges`` (mass beyond them left out)."""
        counts, _ = np.histogram(self.values, bins=edges)
        return counts / (len(self.values) * np.diff(edges))


class DataFamily(Target):
    """Your curves as a target: real curves drawn as :meth:`Curves.sample` draws them.

    Where a built-in family has a parameter, your data have their first principal component:
    ``fit`` gives a curve's score on it (in own units), the theory and the histogram read its
    law (:class:`EmpiricalLaw` of ``REFERENCE_CURVES`` real curves' scores), and the D map's
    plane is the mean curve plus the first two components. For the tutorial's band the score
    is the tutorial's ``a`` up to scale and shift, and the plane is the band's own line.

    With labels (2 to ``MAX_CLASSES`` of them, :attr:`Curves.classes`), the curves have
    classes for a conditional run: a real curve's class is its row's label, and class ``c``'s
    rows are a family of their own (:class:`DataClass`) in this family's training units. A
    generated curve lands in the class of its nearest real curve, if it lies near it
    (:meth:`landed_class`).
    """

    param_names = ("PC1 score",)
    param_periods = (None,)
    joint_label = "PC1 score"

    def __init__(self, name: str, data: Curves) -> None:
        self.name, self.data = name, data
        self.class_names = data.class_names
        self.class_reason = data.class_reason
        self.class_rule = ("each curve's class is its label (the first column of your file); "
                           "a generated curve lands in the class of its nearest real curve, if "
                           "it lies near it") if self.class_names else ""
        kinds = {"rows": f"{data.n_curves:,} curves", "between": "a band",
                 "around": f"{data.n_curves} curve{'s' if data.n_curves > 1 else ''} with noise"}
        self.title = f"Your data ({data.name})" if data.name else "Your data"
        self.formula = {
            "rows": f"one of {data.n_curves:,} curves of {data.n_points} points, each as likely",
            "between": "(1 − u)·lower + u·upper, u ~ U(0, 1)",
            "around": f"one of {data.n_curves} curves + N(0, {data.noise:g}²) at every point",
        }[data.kind]
        self.lesson = (f"Your own curves: {kinds[data.kind]}. G learns them from D alone, as it "
                       "learns the tutorial's.")
        lower, upper = data.envelope()
        width = float(np.mean(upper - lower)) / data.scale
        self.tolerance = IN_BAND_TOLERANCE * width / TUTORIAL_WIDTH
        distinct = data.n_curves if data.kind == "rows" else math.inf
        self.theory_reason = None if distinct >= MIN_DENSITY_CURVES else (
            f"Your data hold {data.n_curves} curves: too few for a density along their first "
            "component, so the optimal D* and the JSD are not computed here (they need about "
            f"{MIN_DENSITY_CURVES} or more). Precision, recall and the nearest real curve above "
            "still say how G does.")

    # -- the law -----------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        return self.data.sample(rng, n)

    def envelope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lower, upper = self.data.envelope()
        return self.trained(lower), self.trained(upper)

    @property
    def unit(self) -> float:  # type: ignore[override]
        return self.data.scale

    def grid(self, n_points: int) -> np.ndarray:
        if n_points != self.data.n_points:
            raise ValueError(f"your data have {self.data.n_points} points per curve, not "
                             f"{n_points}")
        return self.data.x.astype(np.float32)

    def shown(self, curves: np.ndarray) -> np.ndarray:
        return self.data.to_own(curves)

    def trained(self, curves: np.ndarray) -> np.ndarray:
        return self.data.to_training(curves)

    def band(self, n: int = 61) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lower, upper = self.data.envelope()
        return self.data.x, lower, upper

    @cached_property
    def reference(self) -> np.ndarray:
        """``REFERENCE_CURVES`` real curves in training units (every row of a smaller table),
        the same for every run of these curves."""
        data, rng = self.data, stream(0, NOISE_FLOOR, REFERENCE_CURVES)
        if data.kind == "rows":
            rows = data.training
            if len(rows) > REFERENCE_CURVES:
                rows = rows[np.sort(rng.choice(len(rows), REFERENCE_CURVES, replace=False))]
            return rows
        return data.sample(rng, REFERENCE_CURVES)

    @cached_property
    def _components(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mean real curve, the first two principal components ``(2, n)`` (unit length,
        each pointing up on average) and the share of the variance each holds."""
        reference = self.reference.astype(np.float64)
        mean = reference.mean(axis=0)
        _, singular, vt = np.linalg.svd(reference - mean, full_matrices=False)
        variance = singular**2
        shares = variance / variance.sum()
        pcs = vt[:2].copy()
        if len(singular) < 2 or singular[1] <= 1e-9 * singular[0]:
            # One direction only (a band's blends lie on a line): any unit curve at right
            # angles spans the plane's second axis; the flat curve reads most easily.
            flat = np.ones_like(mean) - (np.ones_like(mean) @ pcs[0]) * pcs[0]
            if np.linalg.norm(flat) < 1e-6:
                flat = np.linspace(-1, 1, len(mean)) - (np.linspace(-1, 1, len(mean))
                                                        @ pcs[0]) * pcs[0]
            pcs[1] = flat / np.linalg.norm(flat)
            shares = np.array([1.0, 0.0])
        pcs *= np.where(pcs.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
        return mean, pcs, shares[:2]

    def scores(self, curves: np.ndarray) -> np.ndarray:
        """Each curve's scores on the first two components ``(n, 2)``, in own units."""
        mean, pcs, _ = self._components
        return (np.asarray(curves, np.float64) - mean) @ pcs.T * self.data.scale

    @cached_property
    def _law(self) -> EmpiricalLaw:
        size = self.data.n_curves if self.data.kind == "rows" else math.inf
        return EmpiricalLaw(self.scores(self.reference)[:, 0], size)

    def param_laws(self) -> tuple[EmpiricalLaw, ...]:  # type: ignore[override]
        return (self._law,)

    def fit(self, curves: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first component's score ``(n, 1)`` and the RMS distance from the line of the
        mean curve along that component ``(n,)``, both in own units."""
        curves = np.asarray(curves, np.float64)
        score = self.scores(curves)[:, :1]
        residual = curves - self.curves(score, x)
        return score, np.sqrt(np.mean(residual**2, axis=1)) * self.data.scale

    def curves(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        mean, pcs, _ = self._components
        return mean + np.asarray(params, np.float64)[:, :1] / self.data.scale * pcs[0]

    # -- the plane of the D map -----------------------------------------------------------

    @cached_property
    def plane(self) -> Plane:  # type: ignore[override]
        _, _, shares = self._components
        real = self.scores(self.reference)
        ranges = []
        for k in range(2):
            lo, hi = float(real[:, k].min()), float(real[:, k].max())
            reach = max(hi - lo, 1e-12)
            ranges.append((lo - 0.3 * reach, hi + 0.3 * reach))
        if shares[1] < 1e-6:  # a flat second axis: as wide as the first, centred on the data
            centre, half = (ranges[1][0] + ranges[1][1]) / 2, (ranges[0][1] - ranges[0][0]) / 2
            ranges[1] = (centre - half, centre + half)
        return Plane(f"PC1 score ({_share(shares[0])} of the variance)",
                     f"PC2 score ({_share(shares[1])})", ranges[0], ranges[1])

    def plane_origin(self, x: np.ndarray) -> np.ndarray:
        return self._components[0]

    def plane_basis(self, x: np.ndarray) -> np.ndarray:
        return self._components[1] / self.data.scale

    def plane_coords(self, curves: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self.scores(curves)

    def real_plane_coords(self, n: int, seed: int = 0) -> np.ndarray:
        spread = np.linspace(0, len(self.reference) - 1, min(n, len(self.reference)))
        return self.scores(self.reference[spread.astype(np.int64)])

    # -- classes: the labels of your curves ------------------------------------------------

    def _no_classes(self) -> ValueError:
        return ValueError(f"conditional: {self.class_reason}")

    def sample_labelled(self, rng: np.random.Generator, n: int,
                        x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        classes = self.data.row_classes
        if classes is None:
            raise self._no_classes()
        curves, rows = self.data.sample_rows(rng, n)
        return curves, classes[rows]

    def class_shares(self) -> np.ndarray:
        classes = self.data.row_classes
        if classes is None:
            raise self._no_classes()
        return np.bincount(classes, minlength=len(self.class_names)) / len(classes)

    def class_target(self, c: int) -> Target:
        if not self.class_names:
            raise self._no_classes()
        if not (type(c) is int or isinstance(c, np.integer)) or not 0 <= c < len(
                self.class_names):
            raise ValueError(f"class {c!r}: your data have classes 0 to "
                             f"{len(self.class_names) - 1}")
        cached = self.__dict__.setdefault("_class_targets", {})
        with _DATA_LOCK:
            if c not in cached:
                cached[int(c)] = DataClass(self, int(c))
        return cached[int(c)]

    @cached_property
    def _labelled_reference(self) -> tuple[np.ndarray, np.ndarray]:
        """Real curves (training units) and their classes that a generated curve's nearest
        real curve is looked for among: every row of a table or every drawn curve, up to
        ``REFERENCE_CURVES`` of them (a fixed choice beyond)."""
        data, classes = self.data, self.data.row_classes
        rows = np.arange(data.n_curves)
        if len(rows) > REFERENCE_CURVES:
            rows = np.sort(stream(0, NOISE_FLOOR, REFERENCE_CURVES, 3).choice(
                len(rows), REFERENCE_CURVES, replace=False))
        curves = np.array(data.training[rows], np.float64)
        labels = np.array(classes[rows])
        curves.setflags(write=False)
        labels.setflags(write=False)
        return curves, labels

    def landed_class(self, curves: np.ndarray, x: np.ndarray, tolerance: float) -> np.ndarray:
        """The class of each curve's nearest real curve (RMS distance over the points, among
        the rows of a table or the drawn curves), if it lies within ``LANDING_REACH``
        tolerances of it (``tolerance`` in training units, the in-band test's is
        :attr:`tolerance`; for curves with noise, combined with the noise's width, as far as a
        real curve lies from the one it blurs); -1 otherwise. A curve of one class's shape
        lands in that class however well drawn (in band, precision and the nearest real curve
        say how well); a curve unlike every real one lands in none."""
        if not self.class_names:
            raise self._no_classes()
        reference, classes = self._labelled_reference
        curves = np.asarray(curves, np.float64)
        if not len(curves):
            return np.zeros(0, np.int64)
        squared = ((curves * curves).sum(axis=1)[:, None]
                   + (reference * reference).sum(axis=1)[None, :] - 2 * curves @ reference.T)
        nearest = np.argmin(squared, axis=1)
        rms = np.sqrt(np.maximum(squared[np.arange(len(curves)), nearest], 0) / curves.shape[1])
        reach = LANDING_REACH * math.hypot(tolerance, self.data.noise / self.data.scale)
        with np.errstate(invalid="ignore"):
            near = rms <= reach
        return np.where(near, classes[nearest], -1)


class DataClass(DataFamily):
    """The curves of one class of your data (the rows of one label) as a family of their own,
    in the whole data's training units: its envelope is the class's band, its samples the
    class's rows, its first principal component the whole data's (so a curve's score, and the
    D map's plane, are the same for a class as for all the curves). Named
    ``"<family>:<c>"``."""

    def __init__(self, parent: DataFamily, c: int) -> None:
        super().__init__(f"{parent.name}{CLASS_MARK}{c}", parent.data.of_class(c))
        self.parent = parent
        self.title = f"{parent.title}, {parent.class_names[c]}"
        self.tolerance = parent.tolerance  # the whole data's, as the in-band test's
        self.class_names, self.class_rule = (), ""
        self.class_reason = "one class of your data, with no classes of its own"

    @property
    def _components(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[override]
        return self.parent._components

    @property
    def plane(self) -> Plane:  # type: ignore[override]
        return self.parent.plane


def _share(share: float) -> str:
    """A share of the variance, to one decimal where whole percents would round to 0 or 100."""
    return f"{share:.0%}" if 0.005 <= share <= 0.995 or share in (0, 1) else f"{share:.1%}"


_DATA_TARGETS: weakref.WeakValueDictionary[str, DataFamily] = weakref.WeakValueDictionary()
_DATA_LOCK = threading.Lock()


def data_target(data: Curves) -> DataFamily:
    """Your curves' target family, named by their hash: the same curves give the same family
    (and its computed components) while any run holds it."""
    name = f"data-{data.digest[:16]}"
    with _DATA_LOCK:
        target = _DATA_TARGETS.get(name)
        if target is None:
            target = DataFamily(name, data)
            _DATA_TARGETS[name] = target
    return target

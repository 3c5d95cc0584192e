"""Families of curves the generator learns to paint.

A target knows how to sample real curves, the envelope every real curve lies in, how to fit its
parameters to any curve (for the W1 metric), and a two-dimensional "plane" of curves
``u * b1(x) + v * b2(x)`` on which the discriminator can be drawn as a heatmap.

A family may also have classes, for a conditional run (``GANConfig.conditional``): each real
curve has one, read off it, and each class is a family of its own, the curves of that class
(``Target.class_target``). The families here split at a value of one parameter
(:class:`ParameterClasses`); any other target, a data set with a label column, say, plugs in by
implementing the four methods of the hook (see ``Target.class_names``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Uniforms:
    """A mixture of equally weighted uniform ranges; its quantile function is piecewise linear."""

    ranges: tuple[tuple[float, float], ...]

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
    """Base of every target family; subclasses define the curve law."""

    name: str
    title: str
    formula: str
    lesson: str
    param_names: tuple[str, ...]
    param_periods: tuple[float | None, ...]
    """Per parameter, its period if it is an angle (the same curve every period), else None."""
    plane: Plane

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
        coef, *_ = np.linalg.lstsq(basis.T, np.asarray(curves, np.float64).T, rcond=None)
        return coef.T

    def real_plane_coords(self, n: int, seed: int = 0) -> np.ndarray:
        """Where real curves sit on the plane (exactly on it for every family here)."""
        raise NotImplementedError

    # -- classes: the hook a conditional run uses ---------------------------------------------

    class_names: tuple[str, ...] = ()
    """The classes a conditional run asks G for, class 0 first (short words for the page);
    empty for a family without classes. A target with classes implements the four methods
    below: ``sample_labelled``, ``class_shares``, ``class_target`` and ``landed_class``. A data
    set with a label column implements them from its rows: its curves and their labels, each
    label's share, the rows of one label as a target of their own, and which class's curves a
    generated curve lies among."""
    class_rule: str = ""
    """How a real curve's class is decided, in words."""

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
    """The target of that name: a family, or ``"<family>:<c>"``, class ``c`` of a family."""
    family, mark, klass = name.partition(CLASS_MARK)
    if mark:
        if not klass.isdigit():
            raise KeyError(name)
        return TARGET_FAMILIES[family].class_target(int(klass))
    return TARGET_FAMILIES[name]


def curve_grid(n_points: int) -> np.ndarray:
    """The x positions every curve is sampled at: ``n_points`` evenly on [-1, 1]."""
    return np.linspace(-1, 1, n_points, dtype=np.float32)

"""Families of curves the generator learns to paint.

A target knows how to sample real curves, the envelope every real curve lies in, how to fit its
parameters to any curve (for the W1 metric), and a two-dimensional "plane" of curves
``u * b1(x) + v * b2(x)`` on which the discriminator can be drawn as a heatmap.
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


class QuadraticFamily(Target):
    """``y = a * x^2 + (a - 1)`` with ``a`` drawn from a mixture of uniforms."""

    param_names = ("a",)
    param_periods = (None,)
    plane = Plane("c2 (x² coefficient)", "c0 (constant)", (0.5, 2.5), (-0.5, 1.5))

    def __init__(self, name: str, title: str, law: Uniforms, lesson: str) -> None:
        self.name, self.title, self.law, self.lesson = name, title, law, lesson
        lo, hi = law.bounds
        self.formula = f"a·x² + (a − 1), a ∈ {' ∪ '.join(f'[{a:g}, {b:g}]' for a, b in law.ranges)}"
        self._a_bounds = (lo, hi)

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        a = self.law.sample(rng, n)
        return a * (x * x + 1) - 1

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


class SineFamily(Target):
    """``y = A * sin(pi * x + phi)``: amplitude and phase both random."""

    name = "sine"
    title = "Sine waves"
    param_names = ("amplitude", "phase")
    param_periods = (None, 2 * math.pi)
    plane = Plane("A·cos φ (sin coefficient)", "A·sin φ (cos coefficient)",
                  (-0.2, 1.8), (-0.2, 1.8))
    lesson = ("Two parameters: G must spread its 5-d noise over a two-dimensional family of "
              "curves with a different shape at every x.")

    def __init__(self) -> None:
        self.amplitude = Uniforms(((0.5, 1.5),))
        self.phase = Uniforms(((0.0, math.pi / 2),))
        self.formula = "A·sin(πx + φ), A ∈ [0.5, 1.5], φ ∈ [0, π/2]"

    def sample(self, rng: np.random.Generator, n: int, x: np.ndarray) -> np.ndarray:
        amp = self.amplitude.sample(rng, n)
        phase = self.phase.sample(rng, n)
        return amp * np.sin(np.float32(math.pi) * x + phase)

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
    return TARGET_FAMILIES[name]


def curve_grid(n_points: int) -> np.ndarray:
    """The x positions every curve is sampled at: ``n_points`` evenly on [-1, 1]."""
    return np.linspace(-1, 1, n_points, dtype=np.float32)

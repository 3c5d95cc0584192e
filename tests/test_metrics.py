"""Metrics: a perfect generator scores ~0, a collapsed one its exact distance, and the W1
formula agrees with a brute-force integral."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gan_core import get_target
from gan_core.config import TARGETS
from gan_core.metrics import IN_BAND_TOLERANCE, in_band_fraction, parameter_w1, w1_to_law
from gan_core.targets import Uniforms, curve_grid

N = 1000  # the trainer's evaluation size


def sample_real(family: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = curve_grid(15)
    return get_target(family).sample(np.random.default_rng(seed), n, x), x


def parabolas(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)[:, None]
    return a * x**2 + (a - 1)


def expected_w1_of_empirical_uniform(n: int) -> float:
    """E W1 between n draws of U(0, 1) and U(0, 1), for large n: the integral of
    E|F_n - F| ~ sqrt(2 F (1 - F) / (pi n)) over [0, 1] = sqrt(pi / (32 n))."""
    return math.sqrt(math.pi / (32 * n))


@pytest.mark.parametrize("family", TARGETS)
def test_real_curves_score_as_a_perfect_generator(family: str) -> None:
    """Every real point is in band; W1 is only the sampling noise of 1000 draws: ~0.010 per
    unit of a parameter's range (the widest range here is pi/2), against 0.25 for a collapse."""
    curves, x = sample_real(family, N)
    assert in_band_fraction(curves, get_target(family), x) == 1.0
    w1, residual = parameter_w1(curves, get_target(family), x)
    assert 0 < w1 < 2 * (math.pi / 2) * expected_w1_of_empirical_uniform(N)
    assert residual < 1e-5


def test_w1_of_real_parabolas_is_the_sampling_noise_of_n_draws() -> None:
    """Averaged over 50 seeds (standard error ~6%), W1 of n real draws matches its large-n
    expectation."""
    target = get_target("parabola")
    x = curve_grid(15)
    for n in (250, 1000, 4000):
        w1s = [parameter_w1(target.sample(np.random.default_rng(s), n, x), target, x)[0]
               for s in range(50)]
        assert np.mean(w1s) == pytest.approx(expected_w1_of_empirical_uniform(n), rel=0.15)


@pytest.mark.parametrize(("family", "expected"), [
    ("parabola", 0.25),  # E|a - 1.5| for a ~ U(1, 2)
    ("two_bands", 0.375),  # every a is 0.25 to 0.5 away from 1.5
])
def test_a_collapsed_generator_scores_its_exact_distance(family: str, expected: float) -> None:
    """All curves at a = 1.5 are in band and perfect parabolas; only W1 shows the collapse."""
    x = curve_grid(15)
    curves = parabolas(np.full(N, 1.5), x)
    target = get_target(family)
    w1, residual = parameter_w1(curves, target, x)
    assert w1 == pytest.approx(expected, abs=1e-6)
    assert residual < 1e-6
    if family == "parabola":
        assert in_band_fraction(curves, target, x) == 1.0


def test_in_band_counts_points_within_the_tolerance_of_the_envelope() -> None:
    target = get_target("parabola")
    x = curve_grid(15)
    lower, upper = target.envelope(x)
    near = np.stack([upper + 0.8 * IN_BAND_TOLERANCE, lower - 0.8 * IN_BAND_TOLERANCE])
    far = np.stack([upper + 1.2 * IN_BAND_TOLERANCE, lower - 1.2 * IN_BAND_TOLERANCE])
    assert in_band_fraction(near, target, x) == 1.0
    assert in_band_fraction(far, target, x) == 0.0
    half = np.stack([upper + 1.2 * IN_BAND_TOLERANCE, upper])
    assert in_band_fraction(half, target, x) == 0.5


def test_in_band_is_the_fraction_of_points_not_of_curves() -> None:
    target = get_target("parabola")
    x = curve_grid(15)
    straddling = np.full((1, 15), 1.5)  # inside where 2x^2 + 1 >= 1.5 >= x^2
    inside = (1.5 >= x**2 - IN_BAND_TOLERANCE) & (1.5 <= 2 * x**2 + 1 + IN_BAND_TOLERANCE)
    assert 0 < inside.mean() < 1
    assert in_band_fraction(straddling, target, x) == pytest.approx(inside.mean())


# -- W1 against a brute-force integral -----------------------------------------------------


def brute_force_w1(samples: np.ndarray, ranges: tuple[tuple[float, float], ...],
                   grid: int = 400_000) -> float:
    """W1 = integral over the real line of |F_n(t) - F(t)|, by the midpoint rule."""
    s = np.sort(np.asarray(samples, np.float64).ravel())
    lo = min(s[0], min(r[0] for r in ranges)) - 0.1
    hi = max(s[-1], max(r[1] for r in ranges)) + 0.1
    t = lo + (np.arange(grid) + 0.5) * (hi - lo) / grid
    empirical = np.searchsorted(s, t, side="right") / s.size
    law = np.mean([np.clip((t - a) / (b - a), 0, 1) for a, b in ranges], axis=0)
    return float(np.abs(empirical - law).sum() * (hi - lo) / grid)


LAWS = [((1.0, 2.0),), ((1.0, 1.25), (1.75, 2.0)), ((0.0, math.pi / 2),), ((-1.0, 0.0), (0.5, 3.0))]


@pytest.mark.parametrize("ranges", LAWS)
def test_w1_of_single_points_is_their_mean_distance_to_the_law(
        ranges: tuple[tuple[float, float], ...]) -> None:
    law = Uniforms(ranges)
    for point in (-2.0, 0.3, 1.5, 1.9, 4.0):
        # E|X - p| for X uniform on [a, b], averaged over the ranges
        expected = np.mean([((b - point) ** 2 + (a - point) ** 2) / (2 * (b - a))
                            if a <= point <= b else abs((a + b) / 2 - point) for a, b in ranges])
        assert w1_to_law(np.array([point]), law) == pytest.approx(expected, abs=1e-12)


def test_w1_of_an_exact_quantile_sample_vanishes_as_it_grows() -> None:
    law = Uniforms(((1.0, 1.25), (1.75, 2.0)))
    for n in (10, 100, 1000):
        levels = (np.arange(n) + 0.5) / n
        grid_sample = law.quantile(levels)
        # Q is linear with slope 0.5 on each of the n bins: each bin adds slope / (4 n^2).
        assert w1_to_law(grid_sample, law) == pytest.approx(0.5 / (4 * n), rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    ranges=st.sampled_from(LAWS),
    samples=arrays(np.float64, st.integers(1, 40),
                   elements=st.floats(-1.0, 4.0, allow_nan=False)),
)
def test_w1_matches_a_brute_force_integral(ranges: tuple[tuple[float, float], ...],
                                           samples: np.ndarray) -> None:
    """Ties, single points, points outside the support and gaps between bands included."""
    exact = w1_to_law(samples, Uniforms(ranges))
    assert exact == pytest.approx(brute_force_w1(samples, ranges), abs=5e-5)

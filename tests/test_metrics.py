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
from gan_core.gan.config import TARGETS
from gan_core.gan.targets import Uniforms, curve_grid
from gan_core.measure.metrics import (
    IN_BAND_TOLERANCE,
    in_band_fraction,
    noise_floors,
    parameter_w1,
    sliced_w1,
    spread_ratio,
    w1_to_law,
)

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


# -- what the learner sees: shape, joint law, spread and their noise floors --------------------


def wrong_shapes_in_the_sine_band(n: int, seed: int = 0) -> np.ndarray:
    """Curves that stay inside the sine family's envelope but are not sine waves: each sits at
    one random fraction of the way from the envelope's bottom to its top (with a little
    wobble), so it takes the envelope's shape."""
    x = curve_grid(15)
    lower, upper = get_target("sine").envelope(x)
    rng = np.random.default_rng(seed)
    fraction = np.clip(rng.random((n, 1)) + rng.normal(0, 0.05, (n, 15)), 0.05, 0.95)
    return lower + (upper - lower) * fraction


def joint_distance(curves: np.ndarray, family: str, seed: int = 1) -> float:
    """``joint_w1`` as the evaluation computes it: against as many real curves."""
    target, x = get_target(family), curve_grid(15)
    real = target.sample(np.random.default_rng(seed), len(curves), x)
    return sliced_w1(target.joint_coords(target.fit(curves, x)[0]),
                     target.joint_coords(target.fit(real, x)[0]))


def test_wrong_shaped_curves_inside_the_band_score_in_band_but_fail_shape_and_joint_law() -> None:
    """The sine readout that flattered: almost every point in band, yet no curve is a sine
    wave. The fit residual and the joint law of (amplitude, phase) both say so, far above what
    real curves read at the same sample size."""
    target, x = get_target("sine"), curve_grid(15)
    fake = wrong_shapes_in_the_sine_band(N)
    floors = noise_floors("sine", 15, N)
    assert in_band_fraction(fake, target, x) > 0.95
    residual = target.fit(fake, x)[1].mean()
    assert residual > 0.1 and residual > 1e5 * floors.fit_residual
    assert joint_distance(fake, "sine") > 10 * floors.joint_w1


@pytest.mark.parametrize("family", TARGETS)
def test_real_curves_read_the_noise_floors(family: str) -> None:
    """The residual floor is float32 rounding (real curves lie on the family); the joint
    distance of n real curves to n others is the floor, give or take its sampling spread."""
    target, x = get_target(family), curve_grid(15)
    floors = noise_floors(family, 15, N)
    real = target.sample(np.random.default_rng(5), N, x)
    assert 0 < floors.fit_residual < 1e-6
    assert target.fit(real, x)[1].mean() <= floors.fit_residual
    readings = [joint_distance(target.sample(np.random.default_rng(s), N, x), family, seed=s + 50)
                for s in range(6)]
    assert np.mean(readings) == pytest.approx(floors.joint_w1, rel=0.3)
    assert floors.joint_w1 < 0.05


def test_the_joint_distance_sees_a_wrong_pairing_that_each_parameter_alone_does_not() -> None:
    """Amplitude and phase each with the right law, but tied together (big waves always late):
    the per-parameter W1 reads only noise, the joint law does not."""
    target, x = get_target("sine"), curve_grid(15)
    u = (np.arange(N) + 0.5) / N  # exact quantiles of each law
    params = np.stack([0.5 + u, u * np.pi / 2], axis=1)
    tied = target.curves(params, x)
    floors = noise_floors("sine", 15, N)
    w1, _ = parameter_w1(tied, target, x)
    assert w1 < 1e-3
    assert joint_distance(tied, "sine") > 5 * floors.joint_w1


def test_sliced_w1_is_a_distance_that_reads_a_shift_in_its_own_units() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 2))
    assert sliced_w1(a, a) == 0
    shifted = a + np.array([0.3, 0.0])
    # projected on direction t the shift is 0.3 |cos t|; its mean over the half circle is
    # 0.3 * 2 / pi (up to the quadrature over SLICES directions)
    assert sliced_w1(a, shifted) == pytest.approx(0.3 * 2 / math.pi, rel=0.02)
    assert sliced_w1(a[:, :1], a[:, :1] + 0.3) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="same"):
        sliced_w1(a, a[:10])


def test_spread_reads_one_for_the_target_and_near_zero_for_a_collapse() -> None:
    target, x = get_target("two_bands"), curve_grid(15)
    real = target.sample(np.random.default_rng(0), N, x)
    assert spread_ratio(target.fit(real, x)[0], target) == pytest.approx(1, abs=0.1)
    one_band = parabolas(np.random.default_rng(0).uniform(1, 1.25, N), x)
    assert spread_ratio(target.fit(one_band, x)[0], target) == pytest.approx(1 / 6, abs=0.03)
    assert spread_ratio(target.fit(parabolas(np.full(N, 1.1), x), x)[0], target) < 1e-6
    # a few wild curves do not hide that the rest are all the same
    wild = parabolas(np.r_[np.full(N - 20, 1.1), np.linspace(-50, 50, 20)], x)
    assert spread_ratio(target.fit(wild, x)[0], target) < 1e-6


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "hinge"])
@pytest.mark.parametrize("target", TARGETS)
def test_the_live_readouts_are_exactly_what_a_full_evaluation_says(loss: str,
                                                                   target: str) -> None:
    from gan_core import GANConfig, Trainer

    trainer = Trainer(GANConfig(loss=loss, target=target, seed=5))
    trainer.train(40)
    full, shown = trainer.evaluate(), trainer.readouts()
    assert (shown.in_band, shown.w1, shown.fit_residual, shown.d_real, shown.d_score) == (
        full.in_band, full.w1, full.fit_residual, full.d_real, full.d_score)
    two_parameters = len(trainer.target.param_names) > 1
    assert shown.joint_w1 == (full.joint_w1 if two_parameters else None)
    assert trainer.readouts(200) != shown  # a size of its own, as evaluate(n) has

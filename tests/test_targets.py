"""Target families: real curves follow the stated law, stay in their envelope, and fit back.

The laws below are restated from each family's description (not read from its code), so a
sampler, an envelope or a fit that drifted from the documented family would be caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_core import TARGET_FAMILIES, get_target
from gan_core.gan.config import TARGETS
from gan_core.gan.targets import curve_grid

# Documented law of every parameter: a mixture of equally weighted uniform ranges.
LAWS: dict[str, dict[str, tuple[tuple[float, float], ...]]] = {
    "parabola": {"a": ((1.0, 2.0),)},
    "two_bands": {"a": ((1.0, 1.25), (1.75, 2.0))},
    "sine": {"amplitude": ((0.5, 1.5),), "phase": ((0.0, math.pi / 2),)},
}


def curve(family: str, params: dict[str, float], x: np.ndarray) -> np.ndarray:
    """The documented formula of a family's curve with the given parameters."""
    if family == "sine":
        return params["amplitude"] * np.sin(np.pi * x + params["phase"])
    a = params["a"]
    return a * x**2 + (a - 1)


def mixture_cdf(ranges: tuple[tuple[float, float], ...], values: np.ndarray) -> np.ndarray:
    parts = [np.clip((values - lo) / (hi - lo), 0, 1) for lo, hi in ranges]
    return np.mean(parts, axis=0)


def ks_distance(sample: np.ndarray, ranges: tuple[tuple[float, float], ...]) -> float:
    """Kolmogorov-Smirnov distance between a sample and a mixture of uniforms."""
    s = np.sort(sample)
    n = s.size
    cdf = mixture_cdf(ranges, s)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def real_curves(family: str, n: int, n_points: int = 15, seed: int = 0) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    x = curve_grid(n_points)
    return get_target(family).sample(np.random.default_rng(seed), n, x), x


def test_every_target_the_config_offers_exists() -> None:
    assert set(TARGET_FAMILIES) == set(TARGETS) == set(LAWS)
    for name in TARGETS:
        assert get_target(name).name == name
        assert get_target(name).param_names == tuple(LAWS[name])


def test_curves_are_sampled_on_evenly_spaced_points_of_the_unit_interval() -> None:
    x = curve_grid(15)
    assert x.dtype == np.float32 and x.shape == (15,)
    np.testing.assert_allclose(x, np.linspace(-1, 1, 15), atol=1e-7)


@pytest.mark.parametrize("family", TARGETS)
def test_real_curves_are_float32_rows_of_the_requested_count(family: str) -> None:
    curves, _ = real_curves(family, n=7, n_points=9)
    assert curves.shape == (7, 9) and curves.dtype == np.float32


@pytest.mark.parametrize("family", TARGETS)
def test_fitted_parameters_of_real_curves_follow_the_documented_law(family: str) -> None:
    """KS test at the 0.1% level for n = 4000: critical distance 1.95 / sqrt(n) = 0.031."""
    curves, x = real_curves(family, n=4000)
    params, residual = get_target(family).fit(curves, x)
    assert residual.max() < 1e-5  # every real curve is exactly a member of its family
    for i, ranges in enumerate(LAWS[family].values()):
        assert ks_distance(params[:, i], ranges) < 1.95 / math.sqrt(4000)


def test_tutorial_parabola_coefficient_is_uniform_on_one_to_two() -> None:
    curves, x = real_curves("parabola", n=20_000, seed=1)
    a = get_target("parabola").fit(curves, x)[0][:, 0]
    assert 1.0 <= a.min() and a.max() <= 2.0
    # Standard errors at n = 20,000: mean 0.002, quantiles <= 0.0036; allow ~4 of them.
    assert a.mean() == pytest.approx(1.5, abs=0.01)
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_allclose(np.quantile(a, levels), 1 + levels, atol=0.015)


def test_two_bands_leave_the_middle_empty_and_are_equally_likely() -> None:
    curves, x = real_curves("two_bands", n=10_000, seed=2)
    a = get_target("two_bands").fit(curves, x)[0][:, 0]
    assert not ((a > 1.25 + 1e-6) & (a < 1.75 - 1e-6)).any()
    assert np.mean(a < 1.5) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("family", TARGETS)
def test_every_real_curve_lies_inside_its_envelope(family: str) -> None:
    """The curves are float32; the envelope may be met to within float32 rounding."""
    curves, x = real_curves(family, n=5000, n_points=31)
    lower, upper = get_target(family).envelope(x)
    assert (curves >= lower - 1e-6).all() and (curves <= upper + 1e-6).all()


def brute_force_envelope(family: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise min and max over a dense grid of every parameter's support."""
    grids = [np.concatenate([np.linspace(lo, hi, 201) for lo, hi in ranges])
             for ranges in LAWS[family].values()]
    mesh = np.meshgrid(*grids, indexing="ij")
    params = dict(zip(LAWS[family], (m.ravel()[:, None] for m in mesh), strict=True))
    curves = curve(family, params, np.asarray(x, np.float64)[None, :])
    return curves.min(axis=0), curves.max(axis=0)


@pytest.mark.parametrize("family", TARGETS)
def test_envelope_is_the_tight_band_of_the_family(family: str) -> None:
    """Not just any band that holds the curves: the pointwise min and max of the family."""
    x = curve_grid(41)
    lower, upper = get_target(family).envelope(x)
    brute_lower, brute_upper = brute_force_envelope(family, x)
    np.testing.assert_allclose(lower, brute_lower, atol=1e-4)
    np.testing.assert_allclose(upper, brute_upper, atol=1e-4)


def test_parabola_envelope_is_x_squared_to_two_x_squared_plus_one() -> None:
    x = np.linspace(-1, 1, 101)
    lower, upper = get_target("parabola").envelope(x)
    np.testing.assert_allclose(lower, x**2, atol=1e-12)
    np.testing.assert_allclose(upper, 2 * x**2 + 1, atol=1e-12)


KNOWN = {
    "parabola": [{"a": 1.0}, {"a": 1.37}, {"a": 2.0}],
    "two_bands": [{"a": 1.1}, {"a": 1.9}],
    "sine": [{"amplitude": 0.5, "phase": 0.0}, {"amplitude": 1.2, "phase": 0.7},
             {"amplitude": 1.5, "phase": 1.5}],
}


@pytest.mark.parametrize("family", TARGETS)
def test_fit_recovers_known_parameters_with_zero_residual(family: str) -> None:
    x = curve_grid(15)
    cases = KNOWN[family]
    curves = np.stack([curve(family, p, x.astype(np.float64)) for p in cases])
    params, residual = get_target(family).fit(curves, x)
    expected = np.array([list(p.values()) for p in cases])
    np.testing.assert_allclose(params, expected, atol=1e-6)
    np.testing.assert_allclose(residual, 0, atol=1e-6)


@pytest.mark.parametrize("family", TARGETS)
def test_fit_residual_measures_how_far_a_curve_is_from_the_family(family: str) -> None:
    """A straight line is no member of any family: its residual is large."""
    x = curve_grid(15)
    _, residual = get_target(family).fit(np.stack([x, 0.5 * x]), x)
    assert (residual > 0.1).all()


@pytest.mark.parametrize("family", TARGETS)
def test_plane_coordinates_rebuild_real_curves(family: str) -> None:
    """The discriminator map draws curves ``u * b1 + v * b2``; real ones lie exactly on it."""
    target = get_target(family)
    curves, x = real_curves(family, n=50)
    coords = target.plane_coords(curves, x)
    rebuilt = coords @ target.plane_basis(x.astype(np.float64))
    np.testing.assert_allclose(rebuilt, curves, atol=1e-5)


@pytest.mark.parametrize("family", TARGETS)
def test_real_points_of_the_plane_are_real_curves_inside_the_drawn_box(family: str) -> None:
    target = get_target(family)
    x = curve_grid(15)
    coords = target.real_plane_coords(200)
    curves = coords @ target.plane_basis(x.astype(np.float64))
    params, residual = target.fit(curves, x)
    assert residual.max() < 1e-6
    for i, ranges in enumerate(LAWS[family].values()):
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        assert (params[:, i] >= lo - 1e-6).all() and (params[:, i] <= hi + 1e-6).all()
    (u_lo, u_hi), (v_lo, v_hi) = target.plane.u_range, target.plane.v_range
    assert ((coords[:, 0] >= u_lo) & (coords[:, 0] <= u_hi)).all()
    assert ((coords[:, 1] >= v_lo) & (coords[:, 1] <= v_hi)).all()

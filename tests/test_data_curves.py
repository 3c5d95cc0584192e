"""Your curves (``gan_core.data.Curves``): the laws a run of your data learns, checked on the way
in, and the tutorial's own data as a band."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core import GANConfig, Trainer
from gan_core.data import Curves, DataError
from gan_core.data.curves import curve_grid, tutorial_bounds
from gan_core.gan.engine import draw_batch
from gan_core.gan.targets import data_target, get_target

X15 = curve_grid(15).astype(np.float64)


# -- the tutorial's data are a band --------------------------------------------------------------


@pytest.mark.parametrize("n_points", [4, 15, 37, 100])
def test_the_untouched_band_draws_the_tutorials_real_curves_for_the_same_seed(
        n_points: int) -> None:
    family, band = get_target("parabola"), data_target(Curves.tutorial(n_points))
    x = curve_grid(n_points)
    worst = 0.0
    for seed in range(50):
        ours = band.sample(np.random.default_rng(seed), 64, x)
        theirs = family.sample(np.random.default_rng(seed), 64, x)
        worst = max(worst, float(np.abs(ours - theirs).max()))
    assert worst <= 1e-6


def test_a_run_of_the_untouched_band_draws_the_tutorials_batches_step_after_step() -> None:
    """Same stream, same draws: real curves to float rounding, noise exactly."""
    band = data_target(Curves.tutorial())
    family, x = get_target("parabola"), curve_grid(15)
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(200):
        real_a, z_a = draw_batch(a, family, x, 64, 5)
        real_b, z_b = draw_batch(b, band, x, 64, 5)
        np.testing.assert_array_equal(z_a, z_b)
        assert np.abs(real_a - real_b).max() <= 1e-6


def test_the_tutorials_family_is_the_uniform_blend_of_its_two_bounds() -> None:
    """a·x² + (a − 1) = (2 − a)·x² + (a − 1)·(2x² + 1), exactly, for every a."""
    a = np.linspace(1, 2, 101)[:, None]
    lower, upper = tutorial_bounds(X15)
    blend = (2 - a) * lower + (a - 1) * upper
    np.testing.assert_allclose(blend, a * X15**2 + (a - 1), atol=1e-6)


# -- the three laws --------------------------------------------------------------------------


def test_a_drawn_band_draws_uniform_blends_of_its_bounds() -> None:
    lower, upper = np.sin(np.pi * X15), np.sin(np.pi * X15) + 1 + X15**2
    band = Curves.between(lower, upper)
    curves = band.sample(np.random.default_rng(0), 20_000).astype(np.float64)
    u = (curves - lower) / (upper - lower)
    assert np.ptp(u, axis=1).max() < 1e-5  # one blend per curve, the same at every point
    counts, _ = np.histogram(u[:, 0], bins=10, range=(0, 1))
    assert counts.min() > 0.9 * 2000 and counts.max() < 1.1 * 2000


def test_drawn_curves_with_noise_pick_each_curve_alike_and_blur_it_by_the_noise() -> None:
    centres = np.stack([X15**2, 2 - X15**2])
    curves = Curves.around(centres, 0.1).sample(np.random.default_rng(1), 20_000)
    nearest = np.argmin(((curves[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert abs(nearest.mean() - 0.5) < 0.02
    residual = curves - centres[nearest]
    assert residual.std() == pytest.approx(0.1, rel=0.02)
    assert abs(residual.mean()) < 0.003


def test_a_table_draws_its_rows_each_as_likely() -> None:
    rows = np.arange(5 * 4, dtype=float).reshape(5, 4) / 4  # row k starts at k
    drawn = Curves.from_array(rows).sample(np.random.default_rng(2), 10_000)
    which = drawn[:, 0]
    assert set(np.unique(which)) == set(range(5))
    assert np.bincount(which.astype(int)).min() > 1800
    for row in drawn[:50]:
        assert any(np.array_equal(row, r) for r in rows)


def test_a_single_curve_with_noise_is_a_law_of_its_own() -> None:
    curves = Curves.around(X15**2, 0.2)
    assert curves.n_curves == 1
    assert curves.sample(np.random.default_rng(0), 3).shape == (3, 15)


# -- what is refused, and where ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "why"), [(np.nan, "not a number"), (np.inf, "infinite"),
                                            (1e300, "beyond")])
def test_a_bad_value_is_refused_naming_its_row_and_column(value: float, why: str) -> None:
    rows = np.ones((4, 6)) + np.arange(4)[:, None]
    rows[2, 4] = value
    with pytest.raises(DataError, match=f"row 3, column 5: .*{why}") as info:
        Curves.from_array(rows)
    assert (info.value.row, info.value.column) == (3, 5)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("array", "message"), [
    (np.ones((3, 5)), "every row is the same curve"),
    (np.ones((1, 5)), "every row is the same curve"),
    (np.ones((4, 3)) * np.arange(4)[:, None], "4 to 100 points"),
    (np.ones((4, 101)) * np.arange(4)[:, None], "4 to 100 points"),
    (np.ones((10_001, 4)) * np.arange(10_001)[:, None], "1 to 10,000 curves"),
    (np.ones(5), "expected a table"),
    (np.array([["1", "2", "3", "4"], ["2", "3", "4", "5"]]), "not a table of numbers"),
    ([[1, 2, 3, 4], [1, 2, 3]], "not a table of numbers"),
])
def test_curves_that_cannot_be_learned_are_refused_saying_why(array: object,
                                                              message: str) -> None:
    with pytest.raises(DataError, match=message):
        Curves.from_array(array)


def test_positions_must_increase_and_match_the_points() -> None:
    rows = np.arange(8.0).reshape(2, 4)
    with pytest.raises(DataError, match="increase"):
        Curves.from_array(rows, x=[0, 1, 1, 2])
    with pytest.raises(DataError, match="one position per point"):
        Curves.from_array(rows, x=[0, 1, 2])
    assert Curves.from_array(rows, x=[1990, 2000, 2010, 2020]).x.tolist() == [1990, 2000,
                                                                            2010, 2020]


def test_a_band_of_one_curve_twice_or_noise_of_no_width_is_refused() -> None:
    with pytest.raises(DataError, match="same curve"):
        Curves.between(X15, X15)
    for noise in (0, -0.1, np.nan, np.inf):
        with pytest.raises(DataError, match="noise"):
            Curves.around(X15, noise)


# -- identity, units, points, labels --------------------------------------------------------------


def test_curves_are_equal_when_their_law_is_whatever_their_name() -> None:
    a = Curves.between(X15**2, X15**2 + 1, name="mine")
    b = Curves.between(X15**2, X15**2 + 1, name="yours")
    assert a == b and hash(a) == hash(b)
    assert a != Curves.between(X15**2, X15**2 + 1.01)
    assert Curves.tutorial() == Curves.between(*tutorial_bounds(curve_grid(15)), X15)


def test_curves_within_the_tutorials_range_train_as_they_are() -> None:
    for curves in (Curves.tutorial(), Curves.around([X15, -X15], 0.1),
                   Curves.from_csv(_example("two-shapes.csv"))):
        assert not curves.normalised
        np.testing.assert_array_equal(curves.training, curves.values.astype(np.float32))


def test_curves_far_off_train_on_a_normalised_copy_and_come_back_in_their_own_units() -> None:
    rows = 1000 + 250 * np.random.default_rng(0).standard_normal((50, 12))
    curves = Curves.from_array(rows)
    assert curves.normalised
    assert np.abs(curves.training).max() == pytest.approx(1.5, rel=1e-6)
    np.testing.assert_allclose(curves.to_own(curves.training), rows, rtol=1e-6)
    tiny = Curves.from_array(rows / 1e5)  # a spread of 0.01: scaled up
    assert tiny.normalised and np.ptp(tiny.training) == pytest.approx(3.0, rel=1e-6)


def test_a_drawn_band_moves_to_another_number_of_points_along_its_lines() -> None:
    band = Curves.between(X15**2, X15**2 + 1 + X15)
    moved = band.on_points(29)
    assert moved.n_points == 29 and moved.kind == "between"
    np.testing.assert_allclose(moved.values[:, ::2], band.values)  # old points kept
    assert Curves.tutorial(15).on_points(29) == Curves.tutorial(29)
    with pytest.raises(DataError, match="drawn curves"):
        Curves.from_array(np.arange(8.0).reshape(2, 4)).on_points(5)


def test_labels_travel_with_the_curves_one_per_curve() -> None:
    rows = np.arange(12.0).reshape(3, 4)
    curves = Curves.from_array(rows, labels=["a", "b", "a"])
    assert curves.labels == ("a", "b", "a")
    assert curves != Curves.from_array(rows)
    with pytest.raises(DataError, match="labels"):
        Curves.from_array(rows, labels=["a"])
    with pytest.raises(DataError, match="labels"):
        Curves.from_array(rows, labels=["a", "b", 3])


# -- a trainer of your data ------------------------------------------------------------------------


def test_a_trainer_of_your_data_takes_its_points_from_them() -> None:
    rows = np.random.default_rng(1).standard_normal((40, 9))
    trainer = Trainer(GANConfig(target="data"), data=Curves.from_array(rows))
    assert trainer.config.n_points == 9 and trainer.x.shape == (9,)
    assert trainer.sample(5).shape == (5, 9)


def test_target_data_and_curves_come_together() -> None:
    with pytest.raises(ValueError, match="data=Curves"):
        Trainer(GANConfig(target="data"))
    with pytest.raises(ValueError, match="target 'data'"):
        Trainer(GANConfig(), data=Curves.tutorial())
    with pytest.raises(KeyError, match="learns your curves"):
        get_target("data")


def test_a_trainer_shows_far_off_curves_in_their_own_units() -> None:
    rows = 20 + 5 * np.random.default_rng(3).standard_normal((60, 8))
    trainer = Trainer(GANConfig(target="data"), data=Curves.from_array(rows))
    real = trainer.real_samples(500)
    assert 15 < real.mean() < 25
    generated = trainer.sample(100)  # an untrained G paints near the normalised copy's zero
    assert 5 < generated.mean() < 35
    np.testing.assert_allclose(trainer.discriminate(real[:3]),
                               trainer.discriminate(real[:3].astype(np.float64)))


def test_evaluate_gives_the_readouts_of_your_data_and_changes_nothing() -> None:
    trainer = Trainer(GANConfig(target="data", seed=4), data=Curves.tutorial())
    trainer.train(50)
    before = trainer.state()
    metrics = trainer.evaluate()
    for name in ("in_band", "sliced_w1", "precision", "recall", "nearest_real"):
        assert np.isfinite(getattr(metrics, name)), name
    assert trainer.evaluate() == metrics
    assert trainer.state().rng == before.rng
    np.testing.assert_array_equal(trainer.state().g.params, before.g.params)


def _example(name: str) -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1] / "docs" / "data" / name)

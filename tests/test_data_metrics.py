"""Readouts for your data (in curve space, with their floors), the D map and D* along the
first principal component, and everything a run does (ghosts, rewind, events, grids) working
the same with your data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_core import GANConfig, Trainer, detect_events
from gan_core.data import Curves
from gan_core.data.curves import curve_grid
from gan_core.gan.targets import data_target, get_target
from gan_core.measure import curve_space
from gan_core.measure.events import mode_collapse
from gan_core.measure.metrics import (
    DataMetrics,
    data_floors,
    in_band_fraction,
    least_radius,
    manifold_reference,
)
from gan_core.training.batched import Axis, BatchedTrainer

X = curve_grid(15).astype(np.float64)
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "data"
MIXTURE = Curves.around(np.stack([X**2, 2 - X**2]), 0.1)


def manifold(target_curves: Curves, fake: np.ndarray) -> tuple[float, float]:
    """Precision and recall of ``fake`` (training units) as the readouts read them."""
    target = data_target(target_curves)  # held while its name is looked up
    reference, radii = manifold_reference(target.name, 500)
    return curve_space.precision_recall(reference, radii, fake, least=least_radius(target))[:2]


# -- curve space ---------------------------------------------------------------------------------


def test_sliced_w1_is_zero_for_the_same_curves_and_reads_a_shift_in_the_curves_units() -> None:
    curves = np.random.default_rng(0).standard_normal((1000, 15))
    assert curve_space.sliced_w1(curves, curves) == 0
    shifted = curve_space.sliced_w1(curves, curves + 0.5)
    assert 0.3 < shifted < 0.5  # E|d·1| = sqrt(2/π) ≈ 0.8 of the shift, whatever the points
    wider = np.random.default_rng(1).standard_normal((1000, 60))
    assert 0.3 < curve_space.sliced_w1(wider, wider + 0.5) < 0.5


def test_a_generator_that_paints_one_curve_of_a_mixture_reads_low_recall() -> None:
    """Partial coverage of a mixture is what recall reads: realistic curves (precision near
    1), half of the data missed (recall near 1/2)."""
    real = MIXTURE.sample(np.random.default_rng(5), 4000)
    near_cup = np.abs(real - X**2).mean(axis=1) < np.abs(real - (2 - X**2)).mean(axis=1)
    precision, recall = manifold(MIXTURE, real[near_cup][:500])
    assert precision > 0.95 and 0.4 < recall < 0.6
    precision, recall = manifold(MIXTURE, real[:500])
    assert precision > 0.95 and recall > 0.95


def test_a_generator_that_paints_nothing_like_the_data_reads_low_precision() -> None:
    far = MIXTURE.sample(np.random.default_rng(6), 500) + 3.0
    precision, recall = manifold(MIXTURE, far)
    assert precision < 0.05 and recall < 0.05


def test_balls_are_at_least_the_in_band_tolerance_wide_so_a_band_can_be_met() -> None:
    """Blends of a band lie on a line: without the least radius, G's curves just off that
    line would all read unrealistic."""
    band = Curves.tutorial()
    real = band.sample(np.random.default_rng(0), 500)
    near = real + 0.02 * np.random.default_rng(1).standard_normal(real.shape)
    precision, recall = manifold(band, near)
    assert precision > 0.95 and recall > 0.95
    assert least_radius(data_target(band)) == pytest.approx(0.05 * np.sqrt(15))


def test_copying_real_curves_reads_a_nearest_real_curve_of_zero() -> None:
    rows = Curves.from_csv(EXAMPLES / "two-shapes.csv")
    target = data_target(rows)
    reference, _ = manifold_reference(target.name, 500)
    between = curve_space.squared_distances(reference[:100], reference)
    assert curve_space.nearest_distances(between, 16).max() < 1e-6  # float rounding
    assert data_floors(target.name, 1000).real_spacing > 0.01


# -- the readouts and their floors -------------------------------------------------------------


def test_real_curves_read_the_floors_the_readouts_are_held_to() -> None:
    for data in (Curves.tutorial(), MIXTURE, Curves.from_csv(EXAMPLES / "temperatures.csv")):
        target = data_target(data)  # held: a family is found by its name while it is held
        floors = data_floors(target.name, 1000)
        assert floors.in_band > 0.99
        assert floors.precision > 0.9 and floors.recall > 0.9
        assert 0 < floors.sliced_w1 < 0.1 * np.ptp(data.values)


def test_the_in_band_tolerance_is_the_tutorials_scaled_to_the_datas_envelope() -> None:
    assert data_target(Curves.tutorial()).tolerance == pytest.approx(0.05, abs=1e-12)
    lower, upper = curve_grid(15) ** 2, curve_grid(15) ** 2 + 2 * (1 + curve_grid(15) ** 2)
    wide = data_target(Curves.between(lower, upper))
    assert wide.tolerance == pytest.approx(0.1, rel=1e-6)


def test_the_untouched_bands_in_band_reads_as_the_tutorials() -> None:
    rng = np.random.default_rng(3)
    x = curve_grid(15)
    curves = (1.5 * (x**2 + 1) - 1) + 0.3 * rng.standard_normal((1000, 15)).astype(np.float32)
    ours = in_band_fraction(curves, data_target(Curves.tutorial()), x)
    theirs = in_band_fraction(curves, get_target("parabola"), x)
    assert abs(ours - theirs) <= 1e-3


@pytest.mark.slow
def test_the_untouched_band_trains_to_the_tutorials_quality() -> None:
    """10,000 steps of the tutorial's settings on the untouched band and on the tutorial's
    family: the same in-band share to a point or two (the runs drift apart by float rounding
    only), the tutorial's ~94%."""
    ours = Trainer(GANConfig(target="data"), data=Curves.tutorial())
    theirs = Trainer(GANConfig())
    ours.train(10_000)
    theirs.train(10_000)
    a, b = ours.evaluate(), theirs.evaluate()
    assert isinstance(a, DataMetrics)
    assert abs(a.in_band - b.in_band) < 0.02 and b.in_band > 0.9
    assert a.precision > 0.8 and a.recall > 0.8


def test_the_history_of_your_data_records_its_own_readouts() -> None:
    trainer = Trainer(GANConfig(target="data", seed=2), data=MIXTURE)
    trainer.train(300)
    assert trainer.history.eval.columns == ("in_band", "sliced_w1", "precision", "recall",
                                            "nearest_real", "spread", "jsd", "jsd_d")
    metrics = trainer.evaluate()
    assert trainer.history.eval.column("recall")[-1] == metrics.recall
    assert trainer.history.to_csv().splitlines()[0].endswith(
        "sliced_w1,precision,recall,nearest_real,spread,jsd,jsd_d")


def test_a_collapse_on_your_data_is_told_by_their_first_components_spread() -> None:
    trainer = Trainer(GANConfig(target="data"), data=MIXTURE)
    history = trainer.history
    for step in range(100, 6000, 100):
        spread = 0.8 if step < 3000 else 0.02
        history.eval.append(step, [0.9, 0.1, 0.9, 0.5, 0.1, spread, 0.1, 0.05])
    (event,) = mode_collapse(history)
    assert "first principal component's scores fell to 2% of the real curves'" in \
        event.explanation
    assert [e.kind for e in detect_events(history)] == ["mode_collapse"]


# -- the D map and D* along the first component --------------------------------------------------


def test_the_d_map_of_a_band_is_the_plane_of_its_line_through_the_mean_curve() -> None:
    band = Curves.between(X**2, X**2 + 1 + 0.5 * X)
    target = data_target(band)
    real = target.real_plane_coords(200)
    assert np.abs(real[:, 1]).max() < 1e-6  # every blend on the first component's line
    origin = target.plane_origin(X)
    np.testing.assert_allclose(origin, band.values.mean(axis=0), atol=0.02)
    trainer = Trainer(GANConfig(target="data", seed=1), data=band)
    dmap = trainer.discriminator_map(resolution=9, n_generated=30, n_real=20)
    assert dmap.u_label.startswith("PC1 score (100") and dmap.prob.shape == (9, 9)
    lo, hi = target.plane.u_range
    assert lo < real[:, 0].min() and real[:, 0].max() < hi


def test_plane_coordinates_are_in_the_curves_own_units() -> None:
    data = Curves.from_csv(EXAMPLES / "temperatures.csv")
    target = data_target(data)
    scores = target.scores(target.reference)
    own = data.to_own(target.reference)
    centred = own - own.mean(axis=0)
    np.testing.assert_allclose(np.linalg.norm(scores, axis=1) ** 2,
                               ((centred @ target._components[1].T) ** 2).sum(axis=1),
                               rtol=1e-4)


def test_d_star_and_the_jsd_run_along_the_first_component() -> None:
    trainer = Trainer(GANConfig(target="data", seed=3), data=MIXTURE)
    trainer.train(200)
    view = trainer.theory()
    assert view.param == "PC1 score" and "first principal component" in view.label
    assert view.jsd == pytest.approx(trainer.evaluate().jsd)
    assert np.isfinite(view.d_learned).all()


def test_a_table_too_small_for_a_density_says_so_instead_of_a_d_star() -> None:
    rows = np.random.default_rng(0).standard_normal((12, 6))
    trainer = Trainer(GANConfig(target="data"), data=Curves.from_array(rows))
    with pytest.raises(ValueError, match="12 curves: too few for a density"):
        trainer.theory()
    assert np.isnan(trainer.evaluate().jsd)


# -- the rest of a run, with your data ----------------------------------------------------------


def test_a_ghost_of_a_run_of_your_data_learns_the_same_curves() -> None:
    data = Curves.from_csv(EXAMPLES / "temperatures.csv")
    for change in ({"lr_g": 1e-3}, {"batch_size": 32}):  # a twin, then a follower
        trainer = Trainer(GANConfig(target="data"), data=data)
        trainer.train(20)
        trainer.fork(trainer.config.replace(**change))
        trainer.train(20)
        ghost = trainer.ghost
        assert ghost is not None and ghost.state().data == data
        assert 0 < ghost.generate(np.zeros((1, 5), np.float32)).mean() < 40  # degrees
        assert isinstance(ghost.evaluate(), DataMetrics)


def test_rewind_and_looking_back_keep_your_data() -> None:
    trainer = Trainer(GANConfig(target="data"), data=MIXTURE)
    trainer.train(120)
    earlier = trainer.at(50)
    assert earlier.data == MIXTURE
    trainer.rewind(60)
    assert trainer.data == MIXTURE and trainer.step == 60
    again = Trainer(GANConfig(target="data"), data=MIXTURE)
    again.train(60)
    np.testing.assert_array_equal(again.state().g.params, trainer.state().g.params)


def test_one_network_updates_and_live_changes_work_on_your_data() -> None:
    trainer = Trainer(GANConfig(target="data"), data=MIXTURE)
    trainer.train(10)
    trainer.train_d(3)
    trainer.train_g(2)
    assert trainer.reconfigure(trainer.config.replace(loss="non_saturating")) == ["loss"]
    trainer.train(10)
    replay = Trainer(trainer.start_config, schedule=trainer.changes, data=MIXTURE)
    replay.train(20)
    np.testing.assert_array_equal(replay.state().d.params, trainer.state().d.params)


def test_a_stability_map_of_your_data_scores_each_cell_as_its_run_would() -> None:
    data = Curves.from_csv(EXAMPLES / "two-shapes.csv")
    base = GANConfig(target="data")
    grid = BatchedTrainer(base, Axis("lr_g", (1e-4, 1e-3)), data=data)
    grid.train(30)
    results = grid.evaluate(200)
    for k, result in enumerate(results):
        single = Trainer(grid.member_config(k), data=data)
        single.train(30)
        metrics = single.evaluate(200)
        assert result.in_band == pytest.approx(metrics.in_band)
        assert result.w1 == pytest.approx(metrics.sliced_w1)
    with pytest.raises(ValueError, match="data=Curves"):
        BatchedTrainer(base, Axis("lr_g", (1e-4,)))


def test_a_dropped_run_of_your_data_leaves_nothing_holding_its_curves() -> None:
    """Every visitor may bring curves of their own: the caches of floors, densities and charts
    are by name and must not keep a run's curves alive once the run is gone."""
    import gc

    from gan_core.views import charts as ch
    from gan_core.views import inference

    rows = np.random.default_rng(42).standard_normal((300, 12))
    trainer = Trainer(GANConfig(target="data"), data=Curves.from_array(rows))
    trainer.train(150)
    name = trainer.target.name
    trainer.evaluate()
    trainer.theory()
    trainer.discriminator_map(resolution=ch.MAP_RESOLUTION)
    ch.curves_data(inference.curves_view(trainer), name)
    ch.distribution_data(inference.fitted_parameter(trainer), name)
    for panel in ch.history_panels(name):
        ch.history_spec(panel, "minimax", target_name=name)
    ch.discriminator_spec(name)
    ch.theory_spec(name)
    del trainer
    gc.collect()
    with pytest.raises(KeyError):
        get_target(name)

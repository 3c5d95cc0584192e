"""Trainer: deterministic runs, side-effect-free inspection, bounded history, live
reconfiguration, recovery from divergence, and actually learning the tutorial's curves."""

from __future__ import annotations

import numpy as np
import pytest
from run_state import assert_same_run, run_state, trained

from gan_core import (
    ConfigChangeError,
    GANConfig,
    Trainer,
    TrainingDiverged,
)
from gan_core.gan.config import TARGETS
from gan_core.gan.history import History, Series

CONFIG = GANConfig(seed=7)




def weights(trainer: Trainer) -> list[np.ndarray]:
    state = trainer.state()
    return [state.g.params, state.d.params]


# -- determinism and basics ----------------------------------------------------------------


def test_same_config_and_seed_give_the_same_run() -> None:
    a, b = trained(CONFIG, 60), trained(CONFIG, 60)
    assert_same_run(a, b)
    assert a.evaluate() == b.evaluate()
    np.testing.assert_array_equal(a.sample(5), b.sample(5))


def test_a_different_seed_gives_a_different_run() -> None:
    a, b = trained(CONFIG, 20), trained(CONFIG.replace(seed=8), 20)
    for wa, wb in zip(weights(a), weights(b), strict=True):
        assert not np.array_equal(wa, wb)
    assert a.evaluate() != b.evaluate()


def test_train_advances_the_step_by_the_number_of_steps() -> None:
    trainer = Trainer(CONFIG)
    assert trainer.step == 0
    trainer.train(37)
    trainer.train(0)
    trainer.train(5)
    assert trainer.step == 42


def test_training_changes_both_networks() -> None:
    trainer = Trainer(CONFIG)
    before = weights(trainer)
    trainer.train(3)
    for old, new in zip(before, weights(trainer), strict=True):
        assert not np.array_equal(old, new)


def test_shapes_follow_the_config() -> None:
    trainer = Trainer(GANConfig(n_points=20, latent_dim=3))
    assert trainer.x.shape == (20,)
    np.testing.assert_allclose(trainer.x, np.linspace(-1, 1, 20), atol=1e-6)
    assert trainer.sample(4).shape == (4, 20)
    assert trainer.generate(np.zeros((6, 3), np.float32)).shape == (6, 20)
    assert trainer.discriminate(trainer.real_samples(9)).shape == (9,)


def test_evaluation_is_reproducible_and_consistent() -> None:
    trainer = trained(CONFIG, 30)
    metrics = trainer.evaluate()
    assert trainer.evaluate() == metrics
    assert metrics.d_score == -metrics.d_loss
    assert 0 <= metrics.in_band <= 1 and metrics.w1 >= 0 and metrics.fit_residual >= 0
    assert 0 <= metrics.d_fake <= 1 and 0 <= metrics.d_real <= 1
    assert set(metrics.as_dict()) == {"in_band", "w1", "fit_residual", "d_real", "d_fake",
                                      "d_loss", "g_loss", "d_score", "joint_w1", "spread",
                                      "jsd", "jsd_d", "fit_residual_floor", "joint_w1_floor",
                                      "jsd_floor", "slope"}
    assert metrics.slope > 0  # D's input gradient, as a number on its scale
    assert metrics.class_accuracy is None and metrics.classes == ()  # a run without classes


def test_inspecting_a_run_does_not_change_it() -> None:
    """Evaluating, sampling and drawing D between chunks leaves the run as if untouched."""
    inspected = trained(CONFIG, 70)
    inspected.evaluate()
    inspected.evaluate(n=37)
    inspected.sample(10)
    inspected.discriminate(inspected.real_samples(10))
    inspected.discriminator_map(resolution=9)
    inspected.train(50)
    assert_same_run(inspected, trained(CONFIG, 120))


# -- history -------------------------------------------------------------------------------


def test_history_records_batch_statistics_and_periodic_metrics() -> None:
    trainer = trained(CONFIG, 300)
    train_steps, eval_steps = trainer.history.train.steps, trainer.history.eval.steps
    assert train_steps[-1] == 300 and (np.diff(train_steps) == train_steps[0]).all()
    assert eval_steps[0] == 0 and eval_steps[-1] == 300
    metrics = trainer.evaluate()
    history_row = {c: trainer.history.eval.column(c)[-1] for c in History.EVAL_COLUMNS}
    assert history_row == {c: getattr(metrics, c) for c in History.EVAL_COLUMNS}
    d_real = trainer.history.train.column("d_real")
    assert ((0 <= d_real) & (d_real <= 1)).all()


def assert_evenly_spread(series: Series, last_step: int) -> None:
    """Thinning halves a full series, never more; what is left is every stride-th step up to
    the latest one due."""
    steps = series.steps
    assert series.capacity // 2 <= len(steps) <= series.capacity
    assert (np.diff(steps) == series.stride).all()
    assert steps[-1] == last_step - last_step % series.stride


def test_history_stays_bounded_and_evenly_spread_however_long_the_run() -> None:
    trainer = Trainer(CONFIG)
    reference = Trainer(CONFIG)
    trainer.history.train = Series(History.TRAIN_COLUMNS, capacity=10, stride=1)
    trainer.history.eval = Series(History.EVAL_COLUMNS, capacity=4, stride=20)
    reference.history.train = Series(History.TRAIN_COLUMNS, capacity=1000, stride=1)
    for _ in range(6):
        trainer.train(61)
        reference.train(61)
        assert len(trainer.history.train) <= 10 and len(trainer.history.eval) <= 4
        assert_evenly_spread(trainer.history.train, trainer.step)
        assert_evenly_spread(trainer.history.eval, trainer.step)
    # a kept row is the row the step had before thinning
    kept = np.isin(reference.history.train.steps, trainer.history.train.steps)
    np.testing.assert_array_equal(reference.history.train.state()["rows"][kept],
                                  trainer.history.train.state()["rows"])


def test_default_history_keeps_at_most_its_capacity_over_a_million_steps() -> None:
    history = History()
    for series in (history.train, history.eval):
        for step in range(1, 1_000_001):
            if series.due(step):
                series.append(step, [float(step)] * len(series.columns))
        assert_evenly_spread(series, 1_000_000)
    assert len(history) <= 1600 + 400


def test_a_rewound_series_forgets_later_rows_and_records_them_again() -> None:
    series = Series(("value",), capacity=100, stride=2)
    for step in range(2, 21, 2):
        series.append(step, [step])
    series.truncate(13)
    np.testing.assert_array_equal(series.steps, [2, 4, 6, 8, 10, 12])
    series.append(14, [-14])
    np.testing.assert_array_equal(series.column("value"), [2, 4, 6, 8, 10, 12, -14])


def test_history_exports_one_csv_row_per_recorded_step() -> None:
    trainer = trained(CONFIG, 200)
    lines = trainer.history.to_csv().splitlines()
    assert lines[0] == ("step,d_loss,g_loss,d_real,d_fake,g_force,in_band,w1,fit_residual,"
                        "joint_w1,spread,jsd,jsd_d")
    steps = set(trainer.history.train.steps) | set(trainer.history.eval.steps)
    assert [int(line.split(",")[0]) for line in lines[1:]] == sorted(steps)


# -- reconfigure ---------------------------------------------------------------------------


def test_reconfigure_with_a_new_learning_rate_keeps_the_run() -> None:
    trainer = trained(CONFIG, 60)
    before = run_state(trainer)
    changed = trainer.reconfigure(CONFIG.replace(lr_g=3e-4, lr_d=2e-4))
    assert changed == ["lr_g", "lr_d"]
    assert trainer.config.lr_g == 3e-4 and trainer.config.lr_d == 2e-4
    after = run_state(trainer)
    for key in before:
        assert np.array_equal(before[key], after[key]), key


def test_reconfigure_to_the_same_config_changes_nothing() -> None:
    trainer = trained(CONFIG, 10)
    before = run_state(trainer)
    assert trainer.reconfigure(CONFIG) == []
    assert all(np.array_equal(v, run_state(trainer)[k]) for k, v in before.items())


def update(trainer: Trainer) -> list[np.ndarray]:
    """How one more training step moves G's and D's weights."""
    before = weights(trainer)
    trainer.train(1)
    return [new - old for new, old in zip(weights(trainer), before, strict=True)]


def test_training_after_reconfigure_uses_the_new_learning_rate() -> None:
    """From the same state and batch, Adam's step is proportional to the learning rate: ten
    times lr_d moves D ten times as far and leaves G's step unchanged."""
    same, faster = trained(CONFIG, 40), trained(CONFIG, 40)
    faster.reconfigure(CONFIG.replace(lr_d=10 * CONFIG.lr_d))
    (g_same, d_same), (g_fast, d_fast) = update(same), update(faster)
    np.testing.assert_array_equal(g_fast, g_same)
    # atol: each step is a difference of float32 weights, exact only to their rounding
    np.testing.assert_allclose(d_fast, 10 * d_same, rtol=1e-3, atol=1e-6)
    assert np.median(np.abs(d_same[d_same != 0])) > 1e-5


def test_switching_optimizer_restarts_its_state_but_keeps_the_weights() -> None:
    trainer = trained(CONFIG, 20)
    before = weights(trainer)
    trainer.reconfigure(CONFIG.replace(optimizer="sgd"))
    state = trainer.state()
    for net in (state.g, state.d):
        assert net.t == 0 and not net.m.any() and not net.v.any()
    for old, new in zip(before, weights(trainer), strict=True):
        np.testing.assert_array_equal(old, new)
    trainer.train(5)
    assert trainer.step == 25


def test_batch_size_and_loss_can_change_live() -> None:
    trainer = trained(CONFIG, 10)
    trainer.reconfigure(CONFIG.replace(batch_size=16, loss="hinge", d_steps=2))
    trainer.train(10)
    assert trainer.step == 20
    assert np.isfinite(trainer.sample(3)).all()


NEW_MODEL_CHANGES = {"hidden": 64, "latent_dim": 3, "n_points": 20, "target": "sine", "seed": 8}


@pytest.mark.parametrize(("name", "value"), NEW_MODEL_CHANGES.items())
def test_reconfigure_refuses_changes_that_need_a_new_model(name: str, value: object) -> None:
    trainer = trained(CONFIG, 10)
    before = run_state(trainer)
    with pytest.raises(ConfigChangeError, match=name) as info:
        trainer.reconfigure(CONFIG.replace(lr_g=1e-3, **{name: value}))
    assert isinstance(info.value, ValueError)
    assert trainer.config == CONFIG  # the live part of the request was not applied either
    assert all(np.array_equal(v, run_state(trainer)[k]) for k, v in before.items())


# -- divergence ----------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_divergence_stops_training_and_keeps_a_usable_finite_state(optimizer: str) -> None:
    """A learning rate of 10 blows the tutorial GAN up within a few steps; the trainer stops,
    keeps the last state whose outputs were finite, and carries on once the rate is sane."""
    wild = GANConfig(optimizer=optimizer, lr_g=10.0, lr_d=10.0)
    trainer = Trainer(wild)
    with pytest.raises(TrainingDiverged) as info:
        trainer.train(1000)
    assert trainer.step < info.value.step  # rewound to before the update that blew up
    assert trainer.diverged
    for array in weights(trainer):
        assert np.isfinite(array).all()
    assert trainer.history.train.steps.max(initial=0) <= trainer.step
    assert trainer.history.eval.steps.max() <= trainer.step

    stuck = run_state(trainer)
    with pytest.raises(TrainingDiverged):
        trainer.train(10)
    assert all(np.array_equal(v, run_state(trainer)[k]) for k, v in stuck.items())

    trainer.reconfigure(wild.replace(lr_g=1e-4, lr_d=1e-4))
    assert not trainer.diverged
    trainer.train(200)
    assert trainer.step == stuck["step"] + 200
    assert np.isfinite(trainer.sample(100)).all()
    assert np.isfinite(list(trainer.evaluate().as_dict().values())).all()


def test_a_run_that_blows_up_after_a_live_change_keeps_everything_before_the_change() -> None:
    trainer = trained(CONFIG, 305)
    before = run_state(trainer)
    trainer.reconfigure(CONFIG.replace(optimizer="sgd", lr_g=10.0, lr_d=10.0))
    with pytest.raises(TrainingDiverged) as info:
        trainer.train(100)
    assert 305 <= trainer.step < info.value.step
    kept = trainer.history.train.steps <= 305
    np.testing.assert_array_equal(trainer.history.train.steps[kept],
                                  before["train.steps"])
    trainer.reconfigure(CONFIG.replace(optimizer="sgd"))
    trainer.train(50)
    assert np.isfinite(trainer.sample(10)).all()


# -- discriminator map ---------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_discriminator_map_is_d_over_the_target_plane(target: str) -> None:
    trainer = trained(GANConfig(target=target, seed=3), 50)
    dmap = trainer.discriminator_map(resolution=11, n_generated=7, n_real=5)
    assert dmap.u.shape == (11,) and dmap.v.shape == (11,) and dmap.prob.shape == (11, 11)
    assert dmap.generated.shape == (7, 2) and dmap.real.shape == (5, 2)
    assert ((dmap.prob >= 0) & (dmap.prob <= 1)).all()
    assert dmap.u_label and dmap.v_label
    basis = trainer.target.plane_basis(trainer.x.astype(np.float64))
    for row, col in [(0, 0), (3, 8), (10, 5)]:  # prob[row, col] is D at (u[col], v[row])
        curve = dmap.u[col] * basis[0] + dmap.v[row] * basis[1]
        assert dmap.prob[row, col] == pytest.approx(trainer.discriminate(curve[None])[0],
                                                    abs=1e-6)

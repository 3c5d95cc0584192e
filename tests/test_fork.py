"""A ghost: the run as it would have gone without a change, trained beside the live run on the
same batches, without disturbing it."""

from __future__ import annotations

import numpy as np
import pytest
from run_state import assert_same_course, trained

from gan_core import ConfigChangeError, GANConfig, Trainer, TrainingDiverged
from gan_core.gan.engine import MEMBER_FIELDS

CONFIG = GANConfig(seed=2)
STACKED = {"lr_g": 1e-3, "lr_d": 3e-4, "beta1": 0.5, "beta2": 0.99, "loss": "hinge"}
SECOND_TRAINER = {"batch_size": 32, "d_steps": 2, "optimizer": "sgd"}


def unforked(first: int, change: dict, then: int) -> Trainer:
    """The run trained ``first`` steps, changed by ``change`` (if any), trained ``then`` more."""
    run = trained(CONFIG, first)
    if change:
        run.reconfigure(run.config.replace(**change))
    run.train(then)
    return run


def ghost_run(trainer: Trainer) -> Trainer:
    """The ghost as a trainer of its own (``Ghost.state`` is a run state)."""
    assert trainer.ghost is not None
    return Trainer.from_state(trainer.ghost.state())


@pytest.mark.parametrize(("name", "value"), [*STACKED.items(), *SECOND_TRAINER.items()])
def test_a_ghost_is_the_run_that_never_changed(name: str, value: object) -> None:
    run = trained(CONFIG, 120)
    assert run.fork(CONFIG.replace(**{name: value})) == [name]
    assert run.ghost.stacked == (name in MEMBER_FIELDS)
    assert run.ghost.kept == {name: getattr(CONFIG, name)} and run.ghost.forked_at == 120
    run.train(130)
    assert run.ghost.step == run.step == 250 and not run.ghost.diverged
    assert_same_course(ghost_run(run), unforked(120, {}, 130))


@pytest.mark.parametrize(("name", "value"), [*STACKED.items(), *SECOND_TRAINER.items()])
def test_the_live_run_goes_on_exactly_as_without_a_ghost(name: str, value: object) -> None:
    run = trained(CONFIG, 120)
    run.fork(CONFIG.replace(**{name: value}))
    run.train(130)
    assert_same_course(run, unforked(120, {name: value}, 130))
    run.drop_ghost()
    assert run.ghost is None
    run.train(40)
    assert_same_course(run, unforked(120, {name: value}, 170))


def test_a_ghost_shows_curves_metrics_and_d_as_a_trainer_of_its_state_would() -> None:
    run = trained(CONFIG, 100)
    run.fork(CONFIG.replace(lr_g=1e-3))
    run.train(100)
    ghost, alone = run.ghost, ghost_run(run)
    z = np.random.default_rng(0).standard_normal((7, CONFIG.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(ghost.generate(z), alone.generate(z))
    np.testing.assert_array_equal(ghost.sample(5), alone.sample(5))
    curves = alone.real_samples(9)
    np.testing.assert_array_equal(ghost.discriminate(curves), alone.discriminate(curves))
    assert ghost.evaluate() == alone.evaluate()
    gmap, amap = ghost.discriminator_map(resolution=9), alone.discriminator_map(resolution=9)
    np.testing.assert_array_equal(gmap.prob, amap.prob)
    np.testing.assert_array_equal(gmap.generated, amap.generated)
    assert not np.array_equal(ghost.generate(z), run.generate(z))


def test_a_ghost_shares_later_changes_of_other_settings_and_one_network_updates() -> None:
    """It keeps only what it was forked for: everything else that happens to the run happens
    to the ghost too, so it differs from the live run by that change alone."""
    for fork in ({"lr_g": 1e-3}, {"batch_size": 32}):
        run = trained(CONFIG, 60)
        run.fork(CONFIG.replace(**fork))
        run.train(20)
        run.train_d(3)
        run.reconfigure(run.config.replace(lr_d=5e-4, d_steps=2))
        run.train(30)
        run.reconfigure(run.config.replace(lr_g=2e-3, batch_size=48))  # both forked fields
        run.train_g(2)
        run.train(25)
        without = trained(CONFIG, 80)
        without.train_d(3)
        without.reconfigure(without.config.replace(lr_d=5e-4, d_steps=2))
        without.train(30)
        without.reconfigure(without.config.replace(
            **{"lr_g": 2e-3, "batch_size": 48, **run.ghost.kept}))
        without.train_g(2)
        without.train(25)
        assert_same_course(ghost_run(run), without)


def test_the_next_fork_replaces_the_ghost() -> None:
    run = trained(CONFIG, 50)
    run.fork(CONFIG.replace(lr_g=1e-3))
    run.train(30)
    run.fork(run.config.replace(optimizer="sgd"))  # from the live run as it is now
    assert run.ghost.kept == {"optimizer": "adam"} and run.ghost.forked_at == 80
    run.train(30)
    assert_same_course(ghost_run(run), unforked(50, {"lr_g": 1e-3}, 60))


def test_forking_refuses_no_change_and_changes_that_need_a_new_model() -> None:
    run = trained(CONFIG, 10)
    with pytest.raises(ValueError, match="fork: config holds the run's own settings"):
        run.fork(CONFIG)
    with pytest.raises(ConfigChangeError, match="seed"):
        run.fork(CONFIG.replace(seed=4, lr_g=1e-3))
    assert run.ghost is None and run.changes == ()


WILD = CONFIG.replace(optimizer="sgd", lr_g=10.0, lr_d=10.0)


@pytest.mark.parametrize("sane", [{"lr_g": 1e-3, "lr_d": 1e-3},
                                  {"optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4}])
def test_a_ghost_that_blows_up_stops_and_the_live_run_goes_on(sane: dict) -> None:
    """Forked from wild rates to sane ones, the ghost keeps the wild ones and blows up."""
    run = Trainer(WILD)
    run.fork(WILD.replace(**sane))
    run.train(300)
    ghost = run.ghost
    assert ghost.diverged and ghost.step == ghost.stopped_at < 300
    assert run.step == 300 and not run.diverged
    assert_same_course(run, trained(WILD.replace(**sane), 300))


def test_when_the_live_run_blows_up_a_stacked_ghost_goes_back_with_it() -> None:
    run = trained(CONFIG, 40)
    run.reconfigure(WILD)
    run.fork(WILD.replace(beta1=0.5))  # SGD ignores beta1: the ghost blows up alike
    with pytest.raises(TrainingDiverged):
        run.train(500)
    assert run.ghost.step == run.step and not run.ghost.diverged
    sane = {"lr_g": 1e-3, "lr_d": 1e-3}
    run.reconfigure(run.config.replace(**sane))
    run.train(30)
    without = trained(CONFIG, 40)
    without.reconfigure(WILD)
    with pytest.raises(TrainingDiverged):
        without.train(500)
    without.reconfigure(without.config.replace(**sane))
    without.train(30)
    assert_same_course(ghost_run(run), without)


def test_when_the_live_run_blows_up_a_second_trainer_ghost_goes_back_with_it() -> None:
    run = trained(CONFIG, 40)
    run.fork(WILD)  # the ghost keeps Adam and the tutorial's rates
    with pytest.raises(TrainingDiverged):
        for _ in range(200):
            run.train(1)  # the ghost follows step by step, so it is ahead when undone
    assert run.step < run.ghost.forked_at + 3
    assert run.ghost.step == run.step and not run.ghost.diverged
    assert_same_course(ghost_run(run), trained(CONFIG, run.step))

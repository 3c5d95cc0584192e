"""Snapshots across a run: a bounded, evenly spread set from which any earlier moment of the
run can be looked at or made live again, exactly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from run_state import assert_same_course, assert_same_run, run_state, trained

from gan_core import GANConfig, Trainer
from gan_core.gan.schedule import Change
from gan_core.training.snapshots import (
    FIRST_STRIDE,
    MAX_SNAPSHOTS,
    SNAPSHOT_BUDGET_BYTES,
    Snapshot,
    Snapshots,
    max_snapshot_memory,
    snapshot_bytes,
    snapshot_capacity,
)

CONFIG = GANConfig(seed=11)
LARGEST = GANConfig(hidden=512, n_points=100, latent_dim=64)


def schedule() -> list[Change]:
    return [Change(150, {"lr_g": 1e-3}), Change(230, {"train_d": 3}),
            Change(230, {"loss": "hinge", "batch_size": 32}), Change(300, {"train_g": 2}),
            Change(380, {"optimizer": "sgd"})]


def scheduled(steps: int) -> Trainer:
    run = Trainer(CONFIG, schedule=schedule())
    run.train(steps)
    return run


# -- where snapshots are -------------------------------------------------------------------


def test_snapshots_start_at_step_zero_and_come_every_stride() -> None:
    run = scheduled(450)
    assert run.snapshots == tuple(range(0, 401, FIRST_STRIDE))


def kept(steps: list[int], capacity: int, stride: int) -> Snapshots:
    """A store given snapshots at ``steps`` as a run arriving there would give them."""
    store = Snapshots(capacity, stride)
    for step in steps:
        if store.due(step):
            store.add(Snapshot(SimpleNamespace(step=step)))  # type: ignore[arg-type]
    return store


@pytest.mark.parametrize("first", [0, 37])
def test_snapshots_stay_bounded_and_evenly_spread_however_long_the_run(first: int) -> None:
    for last in range(first, 3000, 7):
        store = kept(list(range(first, last + 1)), capacity=6, stride=5)
        steps = np.array(store.steps)
        assert 1 <= len(steps) <= 6 and steps[0] == first  # the first is always kept
        assert (np.diff(steps[1:]) == store.stride).all() and steps[-1] <= last
        assert last - steps[-1] < store.stride or len(steps) == 1


def test_a_long_run_keeps_at_most_its_capacity_of_snapshots() -> None:
    run = Trainer(GANConfig(hidden=16))
    run.train(7000)
    assert run.snapshots == (*range(0, 6001, 400), 6400, 6800)


def test_a_loaded_run_keeps_the_step_it_was_loaded_at_as_its_first_snapshot() -> None:
    run = Trainer.from_state(trained(CONFIG, 130).state())
    run._snapshots.capacity = 3
    run.train(700)
    assert run.snapshots[0] == 130 and len(run.snapshots) <= 3
    with pytest.raises(ValueError, match="before the run's first snapshot"):
        run.at(129)


def test_snapshot_memory_has_a_stated_bound_for_every_model() -> None:
    """One snapshot holds both networks' weights and Adam moments and a full history; a run
    keeps at most 32, fewer for the largest models, within 8 MiB."""
    history = 8 * (1600 * (1 + 5) + 400 * (1 + 7))  # steps and columns of a full history
    assert history == 102_400
    assert snapshot_bytes(GANConfig()) == 3 * 4 * (2703 + 2177) + history == 160_960
    assert snapshot_capacity(GANConfig()) == MAX_SNAPSHOTS
    assert max_snapshot_memory(GANConfig()) == 5_150_720
    assert snapshot_bytes(LARGEST) == 3 * 4 * (84_580 + 52_225) + history == 1_744_060
    assert snapshot_capacity(LARGEST) == 4
    assert max_snapshot_memory(LARGEST) == 6_976_240 <= SNAPSHOT_BUDGET_BYTES


def test_what_snapshots_hold_is_counted_and_stays_within_the_bound() -> None:
    run = Trainer(GANConfig(hidden=16))
    run.train(6400)  # the training history is full: 1,600 rows
    newest = run._snapshots.latest(run.step)
    assert newest is not None and newest.step == 6400
    weights = (5 * 16 + 16 + 16 * 15 + 15) + (15 * 16 + 16 + 16 + 1)
    rows = {name: len(series) for name, series in (("train", run.history.train),
                                                   ("eval", run.history.eval))}
    assert rows == {"train": 1600, "eval": 65}
    history = 8 * (rows["train"] * (1 + 5) + rows["eval"] * (1 + 7))  # steps and columns
    assert newest.nbytes == 3 * 4 * weights + history
    assert newest.nbytes <= snapshot_bytes(run.config)
    assert run.snapshot_bytes <= max_snapshot_memory(run.config)


# -- looking at an earlier moment ----------------------------------------------------------


@pytest.mark.parametrize("step", [0, 99, 100, 150, 229, 230, 301, 400, 437])
def test_the_run_at_an_earlier_step_is_that_moment_exactly(step: int) -> None:
    """A moment is the run as it arrived at the step: the changes made at that step come
    after it."""
    run = scheduled(437)
    moment = run.at(step)
    straight = Trainer(CONFIG, schedule=[c for c in schedule() if c.step < step])
    straight.train(step)
    assert_same_course(moment, straight)
    assert moment.planned == ()


def test_looking_at_an_earlier_moment_leaves_the_live_run_alone() -> None:
    run = scheduled(437)
    before = run_state(run)
    moment = run.at(250)
    moment.train(100)
    moment.evaluate()
    assert all(np.array_equal(v, run_state(run)[k]) for k, v in before.items())
    run.train(20)
    assert_same_course(run, scheduled(457))


def test_a_moment_the_run_has_not_reached_is_refused() -> None:
    run = scheduled(120)
    for step in (-1, 121, 1.5, True):
        with pytest.raises(ValueError, match="is not a step of this run"):
            run.at(step)  # type: ignore[arg-type]


# -- rewinding -----------------------------------------------------------------------------


@pytest.mark.parametrize("step", [0, 100, 230, 333])
def test_rewinding_and_replaying_the_later_changes_repeats_the_run(step: int) -> None:
    run = scheduled(450)
    dropped = run.rewind(step, replay=True)
    assert dropped == tuple(c for c in scheduled(450).changes if c.step >= step)
    assert run.planned == dropped and run.step == step
    run.train(450 - step)
    assert_same_course(run, scheduled(450))


def test_rewinding_and_making_the_changes_again_by_hand_repeats_the_run() -> None:
    run = scheduled(450)
    run.rewind(200)
    run.train(30)
    run.train_d(3)
    run.reconfigure(run.config.replace(loss="hinge", batch_size=32))
    run.train(70)
    run.train_g(2)
    run.train(80)
    run.reconfigure(run.config.replace(optimizer="sgd"))
    run.train(70)
    assert_same_course(run, scheduled(450))


def test_rewinding_forgets_what_came_after_and_lets_the_run_go_another_way() -> None:
    run = scheduled(450)
    run.fork(run.config.replace(lr_d=1e-3))
    dropped = run.rewind(230)
    assert [c.step for c in dropped] == [230, 230, 300, 380, 450]
    assert run.step == 230 and run.changes == scheduled(230).changes[:1]
    assert run.snapshots == (0, 100, 200) and run.planned == () and run.ghost is None
    assert run.history.train.steps.max() == 228 and run.history.eval.steps.max() == 200
    run.reconfigure(run.config.replace(lr_g=3e-3))
    run.train(70)
    other = Trainer(CONFIG, schedule=schedule()[:1])
    other.train(230)
    other.reconfigure(other.config.replace(lr_g=3e-3))
    other.train(70)
    assert_same_run(run, other)

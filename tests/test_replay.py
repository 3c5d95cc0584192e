"""A run is its start config and a schedule: changes are recorded as they are made, and a
trainer given them repeats the run bit for bit."""

from __future__ import annotations

import re

import numpy as np
import pytest
from run_state import assert_same_course, assert_same_run, run_state, trained

from gan_core import GANConfig, RunState, Trainer, TrainingDiverged
from gan_core.gan.schedule import MAX_UPDATES, Change

CONFIG = GANConfig(seed=5)


def tweaked_run() -> Trainer:
    """A run with every kind of change: learning rates, loss, optimizer switch, batch size,
    D steps, one-network updates, several changes at one step and changes at its last step."""
    run = Trainer(CONFIG)
    run.train(40)
    run.reconfigure(CONFIG.replace(lr_g=1e-3, lr_d=3e-4))
    run.train(25)
    run.train_d(4)
    run.reconfigure(run.config.replace(loss="non_saturating", batch_size=32))
    run.train(30)
    run.train_g(2)
    run.reconfigure(run.config.replace(optimizer="sgd", d_steps=2))
    run.train(17)
    run.reconfigure(run.config.replace(optimizer="adam", beta1=0.5))
    run.train_d(1)  # at the last step: a replay to this step must make both
    return run


def replay(run: Trainer, steps: int | None = None) -> Trainer:
    again = Trainer(run.start_config, schedule=run.changes)
    again.train(run.step if steps is None else steps)
    return again


# -- recording -----------------------------------------------------------------------------


def test_live_changes_are_recorded_with_their_step_and_the_values_they_replaced() -> None:
    run = trained(CONFIG, 30)
    run.reconfigure(CONFIG.replace(lr_g=1e-3, loss="hinge"))
    run.train(10)
    run.reconfigure(run.config.replace(lr_g=2e-3))
    assert run.changes == (
        Change(30, {"lr_g": 1e-3, "loss": "hinge"}, {"lr_g": 1e-4, "loss": "minimax"}),
        Change(40, {"lr_g": 2e-3}, {"lr_g": 1e-3}))
    assert run.start_config == CONFIG


def test_one_network_updates_are_recorded_as_actions_at_the_step_they_were_made() -> None:
    run = trained(CONFIG, 12)
    run.train_d(3)
    run.train_g()
    run.train_d(0)  # nothing done, nothing recorded
    assert run.step == 12
    assert run.changes == (Change(12, {"train_d": 3}), Change(12, {"train_g": 1}))


def test_reconfiguring_to_the_same_settings_records_nothing() -> None:
    run = trained(CONFIG, 10)
    run.reconfigure(CONFIG)
    assert run.changes == ()


def test_changing_settings_before_the_run_moves_changes_where_it_starts() -> None:
    run = Trainer(CONFIG)
    run.reconfigure(CONFIG.replace(lr_g=1e-3))
    assert run.changes == () and run.start_config == CONFIG.replace(lr_g=1e-3)
    assert_same_run(run, Trainer(CONFIG.replace(lr_g=1e-3)))
    run.train_d(2)  # the run has moved: a change now is part of its course
    run.reconfigure(CONFIG.replace(lr_g=2e-3))
    assert [c.step for c in run.changes] == [0, 0]


def test_one_network_update_counts_are_checked_and_a_bad_one_changes_nothing() -> None:
    run = trained(CONFIG, 5)
    before = run_state(run)
    for n in (-1, 1.5, True, "3", MAX_UPDATES + 1):
        with pytest.raises(ValueError, match="is not a number of updates between 0 and"):
            run.train_d(n)  # type: ignore[arg-type]
    assert run.changes == ()
    assert all(np.array_equal(v, run_state(run)[k]) for k, v in before.items())


# -- replaying -----------------------------------------------------------------------------


def test_a_run_replayed_from_its_start_and_changes_is_the_same_run_bit_for_bit() -> None:
    run = tweaked_run()
    assert len(run.changes) == 7 and run.changes[-1].step == run.step
    assert_same_course(replay(run), run)


def test_a_replay_in_uneven_slices_is_the_same_run() -> None:
    run = tweaked_run()
    again = Trainer(run.start_config, schedule=run.changes)
    for steps in (0, 7, 1, 33, 0, 13, 40, run.step):
        again.train(min(steps, run.step - again.step))
    assert_same_course(again, run)


def test_changes_at_the_last_step_are_made_once() -> None:
    run = tweaked_run()
    again = replay(run)
    again.train(0)
    again.train(0)
    assert again.changes == run.changes and again.planned == ()
    assert_same_run(again, run)


def test_planned_changes_wait_for_their_step_and_are_listed_until_made() -> None:
    run = tweaked_run()
    again = Trainer(run.start_config, schedule=run.changes)
    assert again.planned == run.changes and again.changes == ()
    again.train(run.changes[0].step)  # made at the end of the call: the run stands there
    assert again.changes == run.changes[:1] and again.planned == run.changes[1:]
    assert again.config == run.start_config.replace(lr_g=1e-3, lr_d=3e-4)


def test_a_replay_trained_past_the_schedule_goes_on_as_the_original_would() -> None:
    run = tweaked_run()
    again = replay(run, run.step + 50)
    run.train(50)
    assert_same_course(again, run)


def test_a_change_by_hand_takes_the_run_off_the_rest_of_its_plan() -> None:
    run = tweaked_run()
    again = replay(run, 50)
    assert again.planned
    again.reconfigure(again.config.replace(lr_d=1e-3))
    assert again.planned == ()
    assert again.changes[-1] == Change(50, {"lr_d": 1e-3}, {"lr_d": 3e-4})
    again.train(10)
    assert again.config.loss == "minimax"  # the planned loss change at step 65 never came


@pytest.mark.parametrize(("schedule", "problem"), [
    ([Change(50, {"lr_g": 1e-3}), Change(20, {"lr_d": 1e-3})], "step 20 comes after step 50"),
    ([Change(50, {"lr_g": 1e-3}, {"lr_g": 5e-4})], "lr_g was 0.0001 there, not 0.0005"),
    ([Change(50, {"lr_g": 1e-4})], "step 50: lr_g is already 0.0001"),
    ([(50, {"lr_g": 1e-3})], "is not a Change"),
])
def test_a_trainer_refuses_a_schedule_that_does_not_fit_its_start(schedule: list,
                                                                  problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Trainer(CONFIG, schedule=schedule)


def test_a_schedule_written_by_hand_needs_no_values_before() -> None:
    planned = Trainer(CONFIG, schedule=[Change(20, {"lr_g": 1e-3}), Change(20, {"train_d": 2})])
    planned.train(30)
    by_hand = trained(CONFIG, 20)
    by_hand.reconfigure(CONFIG.replace(lr_g=1e-3))
    by_hand.train_d(2)
    by_hand.train(10)
    assert_same_course(planned, by_hand)


# -- divergence ----------------------------------------------------------------------------


def test_undoing_a_blow_up_never_goes_back_past_a_recorded_change() -> None:
    """Undoing a blown-up update goes back a few steps, but never before the newest change:
    the changes stay as recorded, and the run stands where they say it was."""
    wild = CONFIG.replace(optimizer="sgd", lr_g=10.0, lr_d=10.0)
    probe = trained(CONFIG, 300)
    probe.reconfigure(wild)
    with pytest.raises(TrainingDiverged) as blown:
        probe.train(1000)
    assert probe.step < blown.value.step  # undone by a few steps
    run = trained(CONFIG, 300)
    run.reconfigure(wild)
    run.train(blown.value.step - 300)
    run.reconfigure(wild.replace(beta1=0.5))  # SGD ignores beta1: the course is the same
    with pytest.raises(TrainingDiverged) as again:
        run.train(1000)
    assert again.value.step == blown.value.step == run.step
    assert [c.step for c in run.changes] == [300, run.step]


def test_a_blow_up_right_after_a_change_is_undone_to_the_change_exactly() -> None:
    """With no state kept before the blown-up step (a change was just made), the run stays at
    its step but as it was there: the blown-up attempt leaves no trace in its course."""
    wild = CONFIG.replace(optimizer="sgd", lr_g=10.0, lr_d=10.0)
    run = trained(CONFIG, 300)
    run.reconfigure(wild)
    run.train(3)  # the updates that will blow up at step 303 are made
    run.reconfigure(wild.replace(beta1=0.5))
    with pytest.raises(TrainingDiverged) as info:
        run.train(10)
    assert info.value.step == run.step == 303
    run.reconfigure(CONFIG.replace(optimizer="sgd", lr_g=1e-4, lr_d=1e-4))
    assert_same_course(replay(run), run)


def test_a_run_that_blew_up_and_went_on_with_a_lower_rate_replays_exactly() -> None:
    """Undoing a blow-up puts back the training stream and history too, so the course the
    changes describe is the one the run took."""
    run = trained(CONFIG, 100)
    run.reconfigure(CONFIG.replace(optimizer="sgd", lr_g=10.0, lr_d=10.0))
    with pytest.raises(TrainingDiverged):
        run.train(200)
    run.reconfigure(CONFIG.replace(optimizer="sgd", lr_g=1e-3, lr_d=1e-3))
    run.train(60)
    assert_same_course(replay(run), run)


def test_a_blown_up_one_network_update_leaves_no_trace() -> None:
    run = trained(CONFIG, 50)
    run.reconfigure(CONFIG.replace(lr_d=10.0, loss="hinge"))
    before = run_state(run)
    with pytest.raises(TrainingDiverged):
        run.train_d(500)
    assert len(run.changes) == 1
    assert all(np.array_equal(v, run_state(run)[k]) for k, v in before.items())
    run.reconfigure(CONFIG.replace(loss="hinge"))
    run.train(20)
    assert_same_course(replay(run), run)


def test_a_planned_update_that_blows_up_ends_the_plan() -> None:
    wild = Change(50, {"lr_d": 10.0, "loss": "hinge"})
    run = Trainer(CONFIG, schedule=[wild, Change(50, {"train_d": 500}),
                                    Change(60, {"lr_d": 1e-4})])
    with pytest.raises(TrainingDiverged):
        run.train(100)
    assert run.step == 50 and run.planned == ()
    assert [c.values for c in run.changes] == [wild.values]


# -- run state -----------------------------------------------------------------------------


def test_a_runs_state_carries_its_changes_and_a_trainer_from_it_goes_on_the_same() -> None:
    run = tweaked_run()
    state = run.state()
    assert state.changes == run.changes
    resumed = Trainer.from_state(state)
    assert_same_course(resumed, run)
    resumed.train(30)
    run.train(30)
    assert_same_course(resumed, run)


def with_changes(state: RunState, changes: tuple) -> RunState:
    return RunState(state.config, state.step, state.g, state.d, state.rng, state.history,
                    changes)


def test_a_state_whose_changes_do_not_lead_to_its_config_is_refused() -> None:
    state = tweaked_run().state()
    elsewhere = RunState(state.config.replace(lr_g=2e-3), state.step, state.g, state.d,
                         state.rng, state.history, state.changes)
    with pytest.raises(ValueError, match=re.escape("changes: lr_g ends at 0.001 after the "
                                                   "changes, but the run has 0.002")):
        Trainer.from_state(elsewhere)
    with pytest.raises(ValueError, match=r"changes: .* is not a Change"):
        Trainer.from_state(with_changes(state, ({"step": 1},)))


def test_a_state_with_changes_after_its_step_is_refused() -> None:
    state = trained(CONFIG, 10).state()
    late = (Change(11, {"train_d": 1}),)
    with pytest.raises(ValueError, match="a change at step 11 is after the run's step 10"):
        Trainer.from_state(with_changes(state, late))

"""A visitor's live run: play state, ticks within a time budget, live tweaks, safe restore."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable

import numpy as np
import pytest
from run_state import assert_same_run

from gan_core import CheckpointError, GANConfig, Pacing
from gan_core.serve.crowd import FIRST_OVERHEAD_SECONDS, RISING, Crowd
from gan_core.serve.session import LabSession

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")


def test_a_tick_trains_only_while_playing() -> None:
    lab = LabSession(pacing=Pacing(steps_per_tick=30))
    assert lab.tick() == 0 and lab.trainer.step == 0
    lab.play()
    assert lab.tick() == 30 and lab.trainer.step == 30
    lab.pause()
    assert lab.tick() == 0 and lab.trainer.step == 30


def test_a_tick_stops_at_its_time_budget() -> None:
    lab = LabSession(pacing=Pacing(steps_per_tick=500))
    assert lab.advance(budget=0.0) == 0  # nothing starts once the budget is spent
    taken = lab.advance(budget=0.02)
    assert 0 < taken < 500 and lab.trainer.step == taken


def frozen_crowd() -> Crowd:
    """A crowd whose clocks stand still: no window of measurements ever closes, so its plans
    come from its first assumptions alone (a tick's refresh costs ``FIRST_OVERHEAD_SECONDS``
    on one core), the same on any machine."""
    return Crowd(cores=1, clock=lambda: 0.0, cpu_clock=lambda: 0.0, idle_clock=lambda: None)


def test_alone_a_visitor_ticks_at_its_own_tick_interval() -> None:
    crowd = frozen_crowd()
    lab = LabSession(pacing=Pacing(steps_per_tick=30, tick_seconds=0.25), crowd=crowd)
    lab.play()
    assert crowd.size() == 1 and lab.period == 0.25
    assert lab.tick() == 30 and lab.period == 0.25


@pytest.mark.parametrize(("playing", "period"), [(1, 0.25), (2, 0.25), (5, 0.25), (8, 0.375),
                                                 (10, 0.5), (12, 0.625), (30, 1.5)])
def test_playing_visitors_tick_at_the_period_their_crowd_plans(playing: int,
                                                               period: float) -> None:
    crowd = frozen_crowd()
    labs = [LabSession(pacing=Pacing(steps_per_tick=10), crowd=crowd) for _ in range(playing)]
    for lab in labs:
        lab.play()
    for lab in labs:
        lab.tick()
    assert crowd.size() == playing
    assert {lab.period for lab in labs} == {period}
    assert period == crowd.plan(0.25, period).period


def test_a_longer_period_plans_proportionally_more_steps_per_tick() -> None:
    crowd = frozen_crowd()
    labs = [LabSession(pacing=Pacing(steps_per_tick=10, tick_seconds=0.25), crowd=crowd)
            for _ in range(8)]
    for lab in labs:
        lab.play()
    steps = [lab.tick() for lab in labs]
    assert labs[0].period == 0.375 and labs[0].steps_per_tick == 15
    assert 0 < steps[-1] <= 15  # the last to tick saw the whole crowd; its CPU time decides


def test_a_tick_trains_no_longer_than_the_cpu_time_its_crowd_allows() -> None:
    crowd = frozen_crowd()
    labs = [LabSession(pacing=Pacing(steps_per_tick=100), crowd=crowd) for _ in range(30)]
    for lab in labs:
        lab.play()
    plan = crowd.plan(0.25, None)
    assert plan.period == 1.5 and plan.training_budget == pytest.approx(0.0075)
    taken = labs[0].tick()
    assert labs[0].period == 1.5
    assert labs[0].steps_per_tick == 600  # the same steps per second as alone, if time allows
    assert 10 <= taken < 600  # at least one slice; no more than its CPU time allows


def test_a_run_is_slowed_by_a_longer_period_or_by_training_cut_short() -> None:
    crowd = frozen_crowd()
    alone = LabSession(pacing=Pacing(steps_per_tick=20), crowd=crowd)
    alone.play()
    alone.tick()
    assert not alone.slowed
    five = [LabSession(pacing=Pacing(steps_per_tick=500), crowd=crowd) for _ in range(4)]
    for lab in five:
        lab.play()
    assert five[0].tick() < 500  # its period is its tick interval, but its training is cut
    assert five[0].period == 0.25 and five[0].slowed
    crowded = [LabSession(crowd=crowd) for _ in range(20)]
    for lab in crowded:
        lab.play()
    alone.tick()
    assert alone.period > 0.25 and alone.slowed
    for lab in [*five, *crowded]:
        lab.pause()
    alone.tick()
    assert not alone.slowed
    alone.pause()
    assert not alone.slowed


def test_a_tick_reports_its_training_to_the_crowd() -> None:
    now, cpu = [0.0], [0.0]
    crowd = Crowd(cores=1, clock=lambda: now[0], cpu_clock=lambda: cpu[0],
                  idle_clock=lambda: None)
    lab = LabSession(pacing=Pacing(steps_per_tick=20), crowd=crowd)
    lab.play()
    for _ in range(8):
        now[0] += 0.25
        cpu[0] += 0.125
        lab.tick()
    assert crowd.load is not None and crowd.load.cores_used == pytest.approx(0.5)
    # what the ticks trained is counted apart from the rest of the server's CPU time: the
    # estimate rose from its first assumption towards less than all of a tick's 0.125 s
    assert FIRST_OVERHEAD_SECONDS < crowd.load.overhead < (
        FIRST_OVERHEAD_SECONDS + RISING * (0.125 - FIRST_OVERHEAD_SECONDS))


def test_pausing_or_going_quiet_leaves_the_crowd() -> None:
    crowd = Crowd(stale_seconds=5.0)
    a, b = (LabSession(crowd=crowd) for _ in range(2))
    a.play()
    b.play()
    assert crowd.size() == 2
    b.pause()
    assert crowd.size() == 1 and b.period == b.pacing.tick_seconds
    crowd.join(b, now=0.0)  # a page that stopped refreshing long ago: its tab was closed
    assert crowd.size() == 1
    del b
    assert crowd.size() == 1


def test_live_change_keeps_the_model_and_shape_change_replaces_it() -> None:
    lab = LabSession()
    lab.advance(50, budget=math.inf)
    model = lab.trainer
    change = lab.apply(lab.config.replace(lr_g=1e-3, loss="hinge"))
    assert change.kind == "live" and set(change.fields) == {"lr_g", "loss"}
    assert change.before == {"lr_g": 1e-4, "loss": "minimax"}
    assert lab.trainer is model and model.step == 50
    change = lab.apply(lab.config.replace(hidden=32))
    assert change.kind == "fresh" and lab.trainer is not model and lab.trainer.step == 0
    assert lab.apply(lab.config).kind == "none"


def test_divergence_pauses_and_keeps_the_last_finite_state() -> None:
    lab = LabSession(GANConfig(lr_g=10.0, lr_d=10.0, optimizer="sgd"),
                     Pacing(steps_per_tick=200))
    lab.play()
    for _ in range(10):
        lab.tick()
    assert lab.diverged is not None and not lab.playing
    state = lab.trainer.state()
    assert np.isfinite(state.g.params).all() and np.isfinite(state.d.params).all()
    lab.reset()
    assert lab.diverged is None and lab.trainer.step == 0


def test_restore_refuses_bad_bytes_and_leaves_the_run_alone() -> None:
    lab = LabSession()
    lab.advance(20, budget=math.inf)
    model = lab.trainer
    with pytest.raises(CheckpointError):
        lab.restore(b"not a checkpoint")
    assert lab.trainer is model and model.step == 20


def test_restore_resumes_a_saved_run_exactly() -> None:
    source = LabSession(GANConfig(seed=4))
    source.advance(40, budget=math.inf)
    data = source.checkpoint()
    lab = LabSession()
    lab.restore(data)
    assert lab.trainer.step == 40 and lab.config.seed == 4
    source.advance(25, budget=math.inf)
    lab.advance(25, budget=math.inf)
    assert_same_run(lab.trainer, source.trainer)


def test_concurrent_callers_never_interleave_on_the_trainer() -> None:
    """Overlapping reruns call tick, apply and reset at once; the lock serialises them."""
    lab = LabSession(pacing=Pacing(steps_per_tick=10))
    lab.play()
    errors: list[BaseException] = []

    def hammer(action: Callable[[int], object]) -> None:
        try:
            for i in range(30):
                action(i)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    steps_seen: list[int] = []
    actions = [
        lambda i: lab.tick(),
        lambda i: lab.apply(lab.config.replace(lr_g=[1e-4, 2e-4, 3e-4][i % 3])),
        lambda i: steps_seen.append(lab.trainer.step),
    ]
    threads = [threading.Thread(target=hammer, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert steps_seen == sorted(steps_seen)  # never backwards without a reset
    assert np.isfinite(lab.trainer.state().g.params).all()
    buffer = io.BytesIO(lab.checkpoint())
    assert buffer.getbuffer().nbytes > 0


def test_a_stability_map_trains_longer_alone_and_a_tick_s_worth_while_others_play() -> None:
    from gan_core.serve import pacing, stability
    from gan_core.training.batched import Axis

    crowd = Crowd()
    run = stability.StabilityRun(GANConfig(), Axis("lr_g", [1e-4, 1e-3]), None, 1, 100,
                                 crowd=crowd)
    assert run.budget == stability.ALONE_BUDGET_SECONDS
    other = LabSession(crowd=crowd)
    other.play()
    assert run.budget == pacing.TICK_BUDGET_SECONDS  # what a live tick may take
    other.pause()
    assert run.budget == stability.ALONE_BUDGET_SECONDS


LARGEST = GANConfig(hidden=512, batch_size=512, n_points=100, latent_dim=64, d_steps=10)
"""Every Model and Training size at the page's maximum."""


def test_a_stability_tick_of_the_largest_models_trains_one_member_step_past_its_budget() -> None:
    """A stack of the largest models holds one member, and a tick's first slice is one step:
    a tick whose budget is gone after its first step trains exactly that one step of one
    member, not a step of the whole grid."""
    from gan_core.serve import stability
    from gan_core.training.batched import Axis

    run = stability.StabilityRun(LARGEST, Axis("lr_g", [1e-4, 1e-3, 1e-2]), None, 1, 50)
    assert run.grid.stack_sizes == [1, 1, 1]
    assert run.tick(budget=0.0) == 0 and run.grid.stack_steps == (0, 0, 0)
    run.tick(budget=1e-3)
    assert sorted(run.grid.stack_steps) == [0, 0, 1]
    run.tick(budget=1e-3)  # the least advanced stack goes next
    assert sorted(run.grid.stack_steps) == [0, 1, 1]


def test_a_stability_map_scores_the_cells_whose_stack_moved_as_a_fresh_evaluation_would(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gan_core.serve import stability
    from gan_core.training import batched

    monkeypatch.setattr(batched, "STACK_MEMBERS", 2)
    run = stability.StabilityRun(GANConfig(), batched.Axis("lr_g", [1e-4, 1e-3, 3e-3]),
                                 batched.Axis.seeds(2), 1, 30)
    for _ in range(4):
        run.tick(budget=1e-3)  # a few steps of one stack or two
        fresh = run.grid.cell_table(run.grid.evaluate(stability.LIVE_SAMPLES))
        # NaN (a grid without classes has no class accuracy) is the same NaN in both.
        assert repr(run.cells) == repr(fresh)
    while run.running:
        run.tick(budget=math.inf)
    assert run.done and run.grid.stack_steps == (30, 30, 30)
    assert repr(run.cells) == repr(run.grid.cell_table(run.grid.evaluate(stability.EVAL_SAMPLES)))

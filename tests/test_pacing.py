"""How the live view paces a run: a tick's training within its time budget, ticks per run of
the page, when the panels are taken, and the clock that says which ticks a run trains."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from gan_core.serve.pacing import (
    PANEL_SECONDS,
    RERUN_SECONDS,
    TickClock,
    panel_ticks,
    ticks_per_rerun,
    train_for,
)


class FakeTraining:
    """Training whose steps cost ``cost(step)`` seconds on an injected clock (and as much CPU,
    or ``cpu_share`` of it), recording the slices it was asked for."""

    def __init__(self, cost: Callable[[int], float], cpu_share: float = 1.0) -> None:
        self.cost, self.cpu_share = cost, cpu_share
        self.now = self.cpu = 0.0
        self.steps = 0
        self.slices: list[int] = []
        self.step_costs: list[float] = []

    def train(self, n: int) -> None:
        self.slices.append(n)
        for _ in range(n):
            spent = self.cost(self.steps)
            self.step_costs.append(spent)
            self.now += spent
            self.cpu += spent * self.cpu_share
            self.steps += 1

    def run(self, steps: int, budget: float, cpu_budget: float = math.inf) -> int:
        return train_for(self.train, steps, budget, cpu_budget, clock=lambda: self.now,
                         cpu_clock=lambda: self.cpu)


COSTS = (1e-5, 1e-4, 2.5e-4, 1e-3, 0.01, 0.05, 0.2, 1.0)
"""Seconds a step takes: from a tiny model to far beyond the largest the page allows."""


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("budget", [0.02, 0.15, 0.4])
def test_a_tick_trains_within_its_budget_plus_at_most_one_step_whatever_a_step_costs(
        cost: float, budget: float) -> None:
    training = FakeTraining(lambda _: cost)
    done = training.run(500, budget)
    assert done == training.steps
    assert training.now <= budget + cost + 1e-12, (training.slices, training.now)
    # ...and it uses its budget: it stops only when the budget or the steps are spent.
    assert done == 500 or training.now >= budget - 1e-12


@pytest.mark.parametrize("cost", COSTS)
def test_a_cpu_budget_binds_the_same_way(cost: float) -> None:
    """While another thread holds the core, a step takes longer on the clock than on the CPU:
    the CPU budget is the one that binds, within one step's CPU time."""
    training = FakeTraining(lambda _: cost, cpu_share=0.5)
    training.run(500, budget=math.inf, cpu_budget=0.03)
    assert training.cpu <= 0.03 + 0.5 * cost + 1e-12
    assert training.steps == 500 or training.cpu >= 0.03 - 1e-12


def test_a_step_twice_as_dear_as_those_before_still_keeps_the_bound() -> None:
    """Slices hold half the steps the time left pays for: a step cost that doubles while a slice
    runs (a busy machine, subnormal numbers) still ends the call within one step of the
    budget."""
    training = FakeTraining(lambda step: 1e-3 if step < 20 else 2e-3)
    training.run(10_000, budget=0.15)
    assert training.now <= 0.15 + max(training.step_costs) + 1e-12


def test_the_clock_is_read_a_few_times_a_tick_not_every_step() -> None:
    training = FakeTraining(lambda _: 2.5e-4)  # a default model's step
    assert training.run(100, budget=0.15) == 100
    assert len(training.slices) <= 3, training.slices
    training = FakeTraining(lambda _: 1e-5)
    training.run(10_000, budget=0.15)
    assert len(training.slices) <= 2 + math.log2(10_000), training.slices


def test_nothing_starts_once_a_budget_is_spent_and_the_first_step_measures_the_cost() -> None:
    training = FakeTraining(lambda _: 0.05)
    assert training.run(100, budget=0.0) == 0
    assert training.run(100, budget=math.inf, cpu_budget=0.0) == 0
    assert training.run(100, budget=0.001) == 1  # the one step a call may run over
    assert training.slices == [1]
    training = FakeTraining(lambda _: 0.05)
    assert training.run(0, budget=1.0) == 0 and training.slices == []
    assert training.run(7, budget=math.inf) == 7 and training.slices == [1, 6]


@pytest.mark.parametrize(("period", "ticks"), [(0.25, 8), (0.3, 7), (1.0, 2), (2.0, 1),
                                               (3.0, 1), (0.1, 20)])
def test_a_run_trains_the_fewest_whole_periods_that_last_a_runs_time(period: float,
                                                                      ticks: int) -> None:
    assert ticks_per_rerun(period) == ticks
    assert ticks * period >= RERUN_SECONDS - 1e-9 or ticks == 1


def test_a_period_must_be_positive() -> None:
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="period"):
            ticks_per_rerun(bad)


@pytest.mark.parametrize(("ticks", "period", "taken"), [
    (8, 0.25, [4, 8]),  # a run of two seconds: panels each second
    (3, 0.25, [3]),     # a short run: its last tick only
    (9, 0.25, [4, 8, 9]),
    (14, 0.15, [6, 12, 14]),  # six periods are 0.9 s: seven would be more than a second
    (2, 1.0, [2]),      # slower ticks (a busy server): every other tick
    (4, 0.5, [2, 4]),
    (1, 3.0, [1]),      # a run of one tick: after it
    (0, 0.25, []),
])
def test_the_panels_are_taken_every_panel_interval_and_after_the_last_tick(
        ticks: int, period: float, taken: list[int]) -> None:
    assert panel_ticks(ticks, period) == taken


def test_panels_come_once_a_panel_interval_or_every_other_tick_if_that_is_longer() -> None:
    for period in (0.1, 0.15, 0.25, 0.4, 0.5, 0.75, 1.0):
        ticks = ticks_per_rerun(period)
        taken = panel_ticks(ticks, period)
        gaps = [b - a for a, b in zip([0, *taken], taken, strict=False)]
        assert max(gaps) * period <= max(PANEL_SECONDS, 2 * period) + 1e-9, (period, taken)
        assert max(gaps) * period > PANEL_SECONDS / 2, (period, taken)  # and no more often


def test_a_starting_clock_owes_a_whole_runs_ticks_then_those_of_the_time_that_passed() -> None:
    clock = TickClock()
    assert clock.due(0.25, 8, now=100.0) == 8
    assert clock.due(0.25, 8, now=100.0) == 0   # a run right after: nothing due yet
    assert clock.due(0.25, 8, now=101.0) == 4   # a click's run a second later
    assert clock.due(0.25, 8, now=103.0) == 8   # the timer's run two seconds after that


def test_a_late_run_trains_at_most_two_runs_worth_and_loses_the_rest() -> None:
    clock = TickClock()
    clock.due(0.25, 8, now=0.0)
    assert clock.due(0.25, 8, now=60.0) == 16
    assert clock.due(0.25, 8, now=62.0) == 8  # and goes on at its rate from there


def test_a_stopped_clock_starts_again_owing_a_whole_run() -> None:
    clock = TickClock()
    clock.due(0.25, 8, now=0.0)
    clock.stop()
    assert clock.due(0.25, 8, now=500.0) == 8

"""How the live view paces a run: ticks per run of the page, when the panels are taken, and
the clock that says which ticks a run trains."""

from __future__ import annotations

import pytest

from gan_core.serve.pacing import (
    PANEL_SECONDS,
    RERUN_SECONDS,
    TickClock,
    panel_ticks,
    ticks_per_rerun,
)


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

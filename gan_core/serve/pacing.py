"""How fast the page shows a run: a tick is one live update of what the page shows (a chunk of
training and the state it reached), and the server's runs of the live view each train the ticks
whose time has come, about every two seconds.

The settings themselves (steps per tick, tick interval) are :class:`gan_core.gan.config.Pacing`,
beside every other setting a link can carry; this module is how the server keeps to them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

TICK_BUDGET_SECONDS = 0.15
"""Training time one tick may take, so that one visitor's tick cannot starve the others."""
RERUN_SECONDS = 2.0
"""The live view's runs on the server come at least this far apart: a run costs the visitor's
browser far more than a tick's training costs the server, so a run trains several ticks and the
browser plays them one a period (``ticks_per_rerun``)."""
PANEL_SECONDS = 1.0
"""The slower panels (history, maps) are drawn this often, or every other tick when ticks are
slower (a busy server slows them with the ticks): a run takes them at ticks so far apart
(``panel_ticks``) and the browser shows each in its turn."""


def train_for(train: Callable[[int], object], steps: int, budget: float,
              cpu_budget: float = math.inf, *, clock: Callable[[], float] = time.perf_counter,
              cpu_clock: Callable[[], float] = time.thread_time) -> int:
    """Call ``train(n)`` in slices until ``steps`` are done, ``budget`` seconds have passed or
    this thread has used ``cpu_budget`` seconds of CPU; the steps done.

    A slice starts only while both budgets last, and holds half the steps that the time left
    pays for at the cost per step measured so far (the first slice is one step, to measure
    it). So a call ends within its budget plus at most one step, whatever a step costs (a
    default model's tenth of a millisecond or the largest model's fifty), and looks at the
    clock a few times a call, not every step.
    """
    start, cpu_start, done = clock(), cpu_clock(), 0
    per_step = per_step_cpu = 0.0  # seconds a step took so far, on the clock and the CPU
    while done < steps:
        left = budget - (clock() - start)
        cpu_left = cpu_budget - (cpu_clock() - cpu_start)
        if left <= 0 or cpu_left <= 0:
            break
        n = 1 if done == 0 else min(_affordable(left, per_step),
                                    _affordable(cpu_left, per_step_cpu), steps - done)
        train(n)
        done += n
        per_step = (clock() - start) / done
        per_step_cpu = (cpu_clock() - cpu_start) / done
    return done


def _affordable(left: float, per_step: float) -> int:
    """Steps for a slice: half of what ``left`` seconds pay for at ``per_step``, at least one
    (a step that might not fit is the one step a call may run over)."""
    if per_step <= 0 or math.isinf(left):
        return 2**31
    return max(1, int(left / per_step / 2))


def ticks_per_rerun(period: float) -> int:
    """Ticks in one run of the live view at ``period`` seconds a tick: the fewest whole periods
    that last ``RERUN_SECONDS``, at least one."""
    if not period > 0:
        raise ValueError(f"period must be > 0 seconds, not {period!r}")
    return max(1, math.ceil(RERUN_SECONDS / period - 1e-9))


def panel_ticks(ticks: int, period: float) -> list[int]:
    """After which of a run's ``ticks`` (counted from 1) the panels are taken: every whole
    number of periods that lasts at most ``PANEL_SECONDS``, or two periods if that is longer,
    and always after the last."""
    if not period > 0:
        raise ValueError(f"period must be > 0 seconds, not {period!r}")
    every = max(2, math.floor(PANEL_SECONDS / period + 1e-9))
    return sorted({*range(every, ticks, every), ticks}) if ticks > 0 else []


@dataclass
class TickClock:
    """Which ticks a run of the live view trains: one for each period since the last tick
    trained, so that runs arriving early, late or in between (a click's run) train the ticks
    of the time that passed, and the run plays at its tick rate however the runs fall.

    A clock that starts (after Play) owes a whole run's ticks at once: the browser plays them
    while the next run trains, so it is never left without a tick to show.
    """

    last: float | None = None
    """When the last tick trained was due (``time.monotonic()``); None: stopped."""

    def due(self, period: float, per_rerun: int, now: float | None = None) -> int:
        """Ticks due now, and counted as trained. A run later than two runs' worth of ticks
        trains only those two: the time beyond is lost, not made up in a burst."""
        now = time.monotonic() if now is None else now
        if self.last is None:
            self.last = now - per_rerun * period
        ticks = max(0, math.floor((now - self.last) / period + 0.5))
        if ticks > 2 * per_rerun:
            ticks, self.last = 2 * per_rerun, now
        else:
            self.last += ticks * period
        return ticks

    def stop(self) -> None:
        self.last = None

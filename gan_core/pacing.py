"""How fast the page shows a run: a tick is one live update of the page (train, then redraw).

Pacing is not part of a run: the same run can be watched fast or slowly, so it never reaches the
engine, a checkpoint or a stability-map member. It shares :class:`GANConfig`'s schema machinery,
so the sidebar and the URL treat its fields like any other setting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import Settings, _param

TICK_BUDGET_SECONDS = 0.15
"""Training time one tick may take, so that one visitor's tick cannot starve the others."""
BUDGET_CHECK_STEPS = 10
"""Steps trained between two looks at the clock by :func:`train_for`."""


@dataclass(frozen=True)
class Pacing(Settings):
    """Steps per tick and seconds between ticks while the page plays."""

    steps_per_tick: int = _param(
        100, label="Steps per tick", group="Run", live=True, low=1, high=500,
        help="Training steps per screen update while playing.")
    tick_seconds: float = _param(
        0.25, label="Tick interval (s)", group="Run", live=True, low=0.1, high=5.0, step=0.05,
        help="Seconds between screen updates while playing.")


def train_for(train: Callable[[int], object], steps: int, budget: float,
              cpu_budget: float = math.inf) -> int:
    """Call ``train(n)`` in slices of at most ``BUDGET_CHECK_STEPS`` until ``steps`` are done,
    ``budget`` seconds have passed or this thread has used ``cpu_budget`` seconds of CPU (the
    slice under way finishes); the steps done."""
    start, cpu_start, done = time.perf_counter(), time.thread_time(), 0
    while (done < steps and time.perf_counter() - start < budget
           and time.thread_time() - cpu_start < cpu_budget):
        n = min(BUDGET_CHECK_STEPS, steps - done)
        train(n)
        done += n
    return done

"""A stability map on the page: a grid of GANs training in time-bounded slices, like a live run.

A tick trains the grid's stacks one after another, the least advanced first, each in slices
bounded by the time left (``pacing.train_for``), so it ends within its budget plus one stack's
step whatever the models' size (a stack of the largest models holds one member:
``batched.members_per_stack``). Cells are scored on a few hundred samples while the grid trains,
only those whose stack moved (cheap enough for every tick), and on the full evaluation size once
it has finished. A stability map is an explicit request, so alone on the server it takes a
longer slice; while others play it takes no more than a live tick does.

How long a map will take is measured, not guessed: ``estimate_seconds`` times a few steps and
one scoring of the very grid on this machine, and scales them to its steps and ticks. A member
whose generated curves ran far off the data (``RAN_AWAY_RANGES``) counts as diverged, as one
whose numbers blew up does: its W1 measures nothing but how far it ran.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..data.curves import Curves
from ..gan.config import GANConfig
from ..gan.targets import data_target, get_target
from ..measure.metrics import EVAL_SAMPLES
from ..training.batched import Axis, BatchedTrainer, MemberResult, converged_cells
from . import pacing as _pacing
from .crowd import CROWD, Crowd
from .pacing import train_for

LIVE_SAMPLES = 250
"""Samples per member while the grid trains; the full ``EVAL_SAMPLES`` once it is done."""
ALONE_BUDGET_SECONDS = 0.4
"""Training time of one tick while no one else plays on the server."""
RAN_AWAY_RANGES = 10.0
"""A member whose W1 exceeds this many widths of the target's parameter range ran away from
the data (its curves are far off any chart of them): the map counts it as diverged."""
PROBE_STEPS = 8
"""Steps of a grid timed by ``estimate_seconds``, after one to warm up."""


def estimate_seconds(base: GANConfig, x_axis: Axis, y_axis: Axis | None, seeds_per_cell: int,
                     steps: int, *, period: float, budget: float = ALONE_BUDGET_SECONDS,
                     clock: Callable[[], float] = time.perf_counter,
                     data: Curves | None = None) -> float:
    """Seconds a map of this grid takes on this machine now, run as the page runs it: each
    tick, ``period`` seconds apart, trains for ``budget`` seconds and scores the members that
    moved on ``LIVE_SAMPLES``; the finished map is scored on ``EVAL_SAMPLES``. ``PROBE_STEPS``
    steps and one scoring of the grid itself are timed (by ``clock``) and scaled to that.
    ``data``: your curves, for a grid of target ``"data"``. Raises ``ValueError`` for a grid
    that cannot be made, as ``BatchedTrainer`` does."""
    grid = BatchedTrainer(base, x_axis, y_axis, seeds_per_cell, data)
    grid.train(1)  # first steps warm caches and allocate
    start = clock()
    grid.train(PROBE_STEPS)
    step_seconds = (clock() - start) / PROBE_STEPS
    start = clock()
    grid.evaluate(LIVE_SAMPLES)
    score_seconds = clock() - start
    ticks = max(1, math.ceil(step_seconds * steps / budget))
    return (ticks * max(period, budget + score_seconds)
            + score_seconds * EVAL_SAMPLES / LIVE_SAMPLES)


class StabilityRun:
    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None,
                 seeds_per_cell: int, steps: int, crowd: Crowd | None = None,
                 data: Curves | None = None) -> None:
        self.crowd = CROWD if crowd is None else crowd
        self.lock = threading.RLock()
        self.grid = BatchedTrainer(base, x_axis, y_axis, seeds_per_cell, data)
        self.steps = steps
        self.running = True
        target = get_target(base.target) if data is None else data_target(data)
        low, high = target.param_laws()[0].bounds
        self.ran_away_w1 = RAN_AWAY_RANGES * (high - low)
        self._scores: list[MemberResult] = self.grid.evaluate(LIVE_SAMPLES)
        self.cells = self._cells()
        self.started = time.monotonic()
        self.took: float | None = None
        """Seconds from start to the finished map's scores (None until it is done)."""

    @property
    def done(self) -> bool:
        return self.grid.step >= self.steps

    def stop(self) -> None:
        with self.lock:
            self.running = False

    def cell_config(self, ix: int, iy: int = 0) -> GANConfig:
        """The full config of a cell's first seed: a ``Trainer`` of it reproduces it."""
        return self.grid.member_config(self.grid.member_of(ix, iy))

    @property
    def budget(self) -> float:
        """Seconds of training per tick: shorter while other visitors play."""
        return ALONE_BUDGET_SECONDS if self.crowd.size() == 0 else _pacing.TICK_BUDGET_SECONDS

    def tick(self, budget: float | None = None, cpu_budget: float = math.inf) -> int:
        """Train until ``budget`` seconds (default: ``self.budget``) or ``cpu_budget`` seconds
        of this thread's CPU pass, or the grid is done, then score the cells that moved; the
        steps the grid as a whole advanced."""
        with self.lock:
            if not self.running:
                return 0
            budget = self.budget if budget is None else budget
            grid, first = self.grid, self.grid.step
            wall, cpu = time.perf_counter(), time.thread_time()
            moved = []
            # The least advanced stack first, so that the grid moves on as a whole.
            for j in sorted(range(len(grid.stack_steps)), key=lambda j: grid.stack_steps[j]):
                left = budget - (time.perf_counter() - wall)
                cpu_left = cpu_budget - (time.thread_time() - cpu)
                if left <= 0 or cpu_left <= 0:
                    break
                if train_for(lambda n, j=j: grid.train_stack(j, n),
                             self.steps - grid.stack_steps[j], left, cpu_left):
                    moved.append(j)
            if self.done:
                self.running = False
                self._scores = grid.evaluate(EVAL_SAMPLES)
                self.took = time.monotonic() - self.started
            elif moved:
                fresh = iter(grid.evaluate(LIVE_SAMPLES, stacks=sorted(moved)))
                members = {k for j in moved for k in grid.stack_members[j]}
                self._scores = [next(fresh) if k in members else score
                                for k, score in enumerate(self._scores)]
            self.cells = self._cells()
            return grid.step - first

    def _cells(self) -> list[dict]:
        """Every cell's scores, members that ran away from the data counted as diverged."""
        return self.grid.cell_table([
            MemberResult(math.nan, math.nan, True)
            if not r.diverged and r.w1 > self.ran_away_w1 else r for r in self._scores])


class StabilityComparison:
    """The same grid, same seeds, under several variants of the base config (without and with
    R1, say), trained in turn: each tick splits its time between them."""

    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None, seeds_per_cell: int,
                 steps: int, variants: Sequence[tuple[str, Mapping[str, Any]]],
                 crowd: Crowd | None = None, data: Curves | None = None) -> None:
        if len(variants) < 2:
            raise ValueError("a comparison needs at least two variants")
        self.labels = [label for label, _ in variants]
        self.runs = [StabilityRun(base.replace(**changes), x_axis, y_axis, seeds_per_cell, steps,
                                  crowd, data) for _, changes in variants]
        self.lock = threading.RLock()
        self.steps = steps

    @property
    def running(self) -> bool:
        return any(run.running for run in self.runs)

    @property
    def done(self) -> bool:
        return all(run.done for run in self.runs)

    def stop(self) -> None:
        for run in self.runs:
            run.stop()

    def tick(self, budget: float | None = None, cpu_budget: float = math.inf) -> int:
        """Each variant trains for its share of ``budget`` (default: a tick's) and of
        ``cpu_budget``."""
        share = (self.runs[0].budget if budget is None else budget) / len(self.runs)
        with self.lock:
            return sum(run.tick(share, cpu_budget / len(self.runs)) for run in self.runs)

    def shares(self) -> list[tuple[int, int]]:
        """Per variant: cells that converged on every seed, and cells."""
        return [(converged_cells(run.cells), len(run.cells)) for run in self.runs]

"""A stability map on the page: a grid of GANs training in time-bounded slices, like a live run.

Cells are scored on a few hundred samples while the grid trains (cheap enough for every tick)
and on the full evaluation size once it has finished. A stability map is an explicit request,
so alone on the server it takes a longer slice; while others play it takes no more than a live
tick does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..gan.config import GANConfig
from ..measure.metrics import EVAL_SAMPLES
from ..training.batched import Axis, BatchedTrainer, converged_cells
from . import pacing as _pacing
from .crowd import CROWD, Crowd
from .pacing import train_for

LIVE_SAMPLES = 250
"""Samples per member while the grid trains; the full ``EVAL_SAMPLES`` once it is done."""
ALONE_BUDGET_SECONDS = 0.4
"""Training time of one tick while no one else plays on the server."""


class StabilityRun:
    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None,
                 seeds_per_cell: int, steps: int, crowd: Crowd | None = None) -> None:
        self.crowd = CROWD if crowd is None else crowd
        self.lock = threading.RLock()
        self.grid = BatchedTrainer(base, x_axis, y_axis, seeds_per_cell)
        self.steps = steps
        self.running = True
        self.cells = self.grid.cell_table(self.grid.evaluate(LIVE_SAMPLES))

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

    def tick(self, budget: float | None = None) -> int:
        """Train until ``budget`` seconds (default: ``self.budget``) pass or the grid is done,
        then score every cell."""
        with self.lock:
            if not self.running:
                return 0
            first = self.grid.step
            train_for(self.grid.train, self.steps - first,
                      self.budget if budget is None else budget)
            if self.done:
                self.running = False
            samples = EVAL_SAMPLES if self.done else LIVE_SAMPLES
            self.cells = self.grid.cell_table(self.grid.evaluate(samples))
            return self.grid.step - first


class StabilityComparison:
    """The same grid, same seeds, under several variants of the base config (without and with
    R1, say), trained in turn: each tick splits its time between them."""

    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None, seeds_per_cell: int,
                 steps: int, variants: Sequence[tuple[str, Mapping[str, Any]]],
                 crowd: Crowd | None = None) -> None:
        if len(variants) < 2:
            raise ValueError("a comparison needs at least two variants")
        self.labels = [label for label, _ in variants]
        self.runs = [StabilityRun(base.replace(**changes), x_axis, y_axis, seeds_per_cell, steps,
                                  crowd) for _, changes in variants]
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

    def tick(self, budget: float | None = None) -> int:
        """Each variant trains for its share of ``budget`` (default: a tick's)."""
        share = (self.runs[0].budget if budget is None else budget) / len(self.runs)
        with self.lock:
            return sum(run.tick(share) for run in self.runs)

    def shares(self) -> list[tuple[int, int]]:
        """Per variant: cells that converged on every seed, and cells."""
        return [(converged_cells(run.cells), len(run.cells)) for run in self.runs]

"""A stability map on the page: a grid of GANs training in time-bounded slices, like a live run.

Cells are scored on a few hundred samples while the grid trains (cheap enough for every tick)
and on the full evaluation size once it has finished. A stability map is an explicit request,
so alone on the server it takes a longer slice; while others play it takes no more than a live
tick does.
"""

from __future__ import annotations

import threading

from ..data.curves import Curves
from ..gan.config import GANConfig
from ..measure.metrics import EVAL_SAMPLES
from ..training.batched import Axis, BatchedTrainer
from . import pacing as _pacing
from .crowd import CROWD, Crowd
from .pacing import train_for

LIVE_SAMPLES = 250
"""Samples per member while the grid trains; the full ``EVAL_SAMPLES`` once it is done."""
ALONE_BUDGET_SECONDS = 0.4
"""Training time of one tick while no one else plays on the server."""


class StabilityRun:
    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None,
                 seeds_per_cell: int, steps: int, crowd: Crowd | None = None,
                 data: Curves | None = None) -> None:
        self.crowd = CROWD if crowd is None else crowd
        self.lock = threading.RLock()
        self.grid = BatchedTrainer(base, x_axis, y_axis, seeds_per_cell, data)
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

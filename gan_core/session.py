"""One visitor's live run: a trainer, whether it plays, and the lock that keeps it whole.

Streamlit may run a visitor's script twice at once (a widget change while the live fragment
ticks, or overlapping reruns). Every method here that reads or changes the trainer holds the
session's lock, so the trainer only ever has one caller; a bad input raises before anything is
replaced, so the running model and its history survive it.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .batched import Axis, BatchedTrainer
from .config import GANConfig
from .metrics import EVAL_SAMPLES
from .trainer import Trainer, TrainingDiverged

MAX_TICK_SECONDS = 0.15
"""Training time one tick may take, so a visitor's chunk cannot starve the others."""
SUB_CHUNK = 10


@dataclass(frozen=True)
class Change:
    """What applying a config did: nothing, a live tweak, or a fresh model."""

    kind: str  # "none", "live" or "fresh"
    fields: tuple[str, ...] = ()
    before: dict[str, object] = field(default_factory=dict)


class LabSession:
    def __init__(self, config: GANConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.trainer = Trainer(config or GANConfig())
        self.playing = False
        self.diverged: TrainingDiverged | None = None

    @property
    def config(self) -> GANConfig:
        return self.trainer.config

    def play(self) -> None:
        with self.lock:
            self.playing = True

    def pause(self) -> None:
        with self.lock:
            self.playing = False

    def advance(self, steps: int | None = None, budget: float = MAX_TICK_SECONDS) -> int:
        """Train ``steps`` (default: the config's steps per tick), stopping after ``budget``
        seconds; returns the steps taken. Divergence pauses and is kept in ``diverged``."""
        with self.lock:
            trainer = self.trainer
            target = trainer.config.steps_per_tick if steps is None else steps
            start, first = time.perf_counter(), trainer.step
            try:
                while trainer.step - first < target and time.perf_counter() - start < budget:
                    trainer.train(min(SUB_CHUNK, target - (trainer.step - first)))
            except TrainingDiverged as exc:
                self.diverged, self.playing = exc, False
            return trainer.step - first

    def tick(self) -> int:
        """One live refresh: a chunk of training if playing, within the time budget."""
        with self.lock:
            if not self.playing:
                return 0
            budget = min(MAX_TICK_SECONDS, 0.6 * self.config.tick_seconds)
            return self.advance(budget=budget)

    def reset(self, config: GANConfig | None = None) -> None:
        """A fresh model from ``config`` (default: the current one); play state is kept."""
        with self.lock:
            self.trainer = Trainer(config or self.config)
            self.diverged = None

    def apply(self, config: GANConfig) -> Change:
        """Take a new config: live fields keep the model, others start a fresh one."""
        with self.lock:
            changed = tuple(self.config.changed_fields(config))
            if not changed:
                return Change("none")
            before = {name: getattr(self.config, name) for name in changed}
            params = GANConfig.params()
            if all(params[name].live for name in changed):
                self.trainer.reconfigure(config)
                self.diverged = None
                return Change("live", changed, before)
            self.reset(config)
            return Change("fresh", changed, before)

    def checkpoint(self) -> bytes:
        with self.lock:
            buffer = io.BytesIO()
            self.trainer.save(buffer)
            return buffer.getvalue()

    def restore(self, data: bytes,
                check: Callable[[GANConfig], None] | None = None) -> None:
        """Resume from checkpoint bytes; raises ``CheckpointError`` (from loading, or from
        ``check`` on the loaded config) and keeps the current run if they are refused."""
        trainer = Trainer.load(io.BytesIO(data))  # validate fully before touching the session
        if check is not None:
            check(trainer.config)
        with self.lock:
            self.trainer = trainer
            self.diverged = None


class SweepRun:
    """A stability-map grid training in time-bounded chunks, like the live page.

    Cells are scored on a few hundred samples while the grid trains (cheap enough for every
    refresh) and on the full evaluation size once it has finished.
    """

    LIVE_SAMPLES = 250
    MAX_TICK_SECONDS = 0.4  # a sweep is an explicit request: a longer, still bounded, chunk

    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None,
                 seeds_per_cell: int, steps: int) -> None:
        self.lock = threading.RLock()
        self.grid = BatchedTrainer(base, x_axis, y_axis, seeds_per_cell)
        self.steps = steps
        self.running = True
        self.cells = self.grid.cell_table(self.grid.evaluate(self.LIVE_SAMPLES))

    @property
    def done(self) -> bool:
        return self.grid.step >= self.steps

    def stop(self) -> None:
        with self.lock:
            self.running = False

    def cell_config(self, ix: int, iy: int = 0) -> GANConfig:
        """The full config of a cell's first replicate: a ``Trainer`` of it reproduces it."""
        return self.grid.member_config(self.grid.member_of(ix, iy))

    def tick(self, budget: float = MAX_TICK_SECONDS) -> int:
        """Train until ``budget`` seconds pass or the grid is done, then score every cell."""
        with self.lock:
            if not self.running:
                return 0
            start, first = time.perf_counter(), self.grid.step
            while not self.done and time.perf_counter() - start < budget:
                self.grid.train(min(SUB_CHUNK, self.steps - self.grid.step))
            if self.done:
                self.running = False
            samples = EVAL_SAMPLES if self.done else self.LIVE_SAMPLES
            self.cells = self.grid.cell_table(self.grid.evaluate(samples))
            return self.grid.step - first

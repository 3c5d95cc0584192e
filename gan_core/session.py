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

from .config import GANConfig
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

"""One visitor's live run: a trainer, whether it plays, and the lock that keeps it whole.

Streamlit may run a visitor's script twice at once (a widget change while the live fragment
ticks, or overlapping reruns). Every method here that reads or changes the trainer holds the
session's lock, so the trainer only ever has one caller; a bad input raises before anything is
replaced, so the running model and its history survive it.

All visitors of one server share its CPU (and one GIL): ``Crowd`` spaces out their live
refreshes so that together they stay within what the server can serve.
"""

from __future__ import annotations

import io
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from .batched import Axis, BatchedTrainer
from .config import GANConfig
from .metrics import EVAL_SAMPLES
from .trainer import Trainer, TrainingDiverged

MAX_TICK_SECONDS = 0.15
"""Training time one tick may take, so a visitor's chunk cannot starve the others."""
SUB_CHUNK = 10
REFRESHES_PER_SECOND = 3.0
"""Live refreshes per second that several playing visitors of one server share."""


def train_within(train: Callable[[int], object], steps: int, budget: float) -> int:
    """Call ``train(n)`` in chunks of at most ``SUB_CHUNK`` until ``steps`` are done or
    ``budget`` seconds have passed (the chunk under way finishes); returns the steps done."""
    start, done = time.perf_counter(), 0
    while done < steps and time.perf_counter() - start < budget:
        chunk = min(SUB_CHUNK, steps - done)
        train(chunk)
        done += chunk
    return done


class Crowd:
    """The sessions playing on this server, and the refresh period that shares it fairly.

    A live refresh costs the server a chunk of training and a redraw of the charts, and costs
    the visitor's browser several times more (``benchmarks/page.py``: 70-95 ms of server CPU
    against 240-400 ms of browser CPU, most of it Streamlit redrawing the page). Refreshing
    every visitor as often as it asks would queue them all once a few play at once, a click
    included. A visitor alone refreshes at its own tick interval; once several play, they share
    ``refreshes_per_second`` between them: each refreshes every ``n / refreshes_per_second``
    seconds or so, training proportionally more steps per refresh, so its steps per second hold
    while the server has time for them. Periods come from the ladder 1, 1.5, 2, 3, 4, 6, 8, ...
    times the tick interval, so they change only when the crowd grows or shrinks by about half.

    A session counts while it plays and keeps refreshing: one whose page was closed stops
    refreshing, and drops out after ``stale_seconds`` past its last period.
    """

    def __init__(self, refreshes_per_second: float = REFRESHES_PER_SECOND,
                 stale_seconds: float = 5.0) -> None:
        if not refreshes_per_second > 0:
            raise ValueError(f"refreshes_per_second must be > 0, not {refreshes_per_second!r}")
        self.refreshes_per_second = refreshes_per_second
        self.stale_seconds = stale_seconds
        self._lock = threading.Lock()
        self._seen: weakref.WeakKeyDictionary[LabSession, float] = weakref.WeakKeyDictionary()

    def join(self, session: LabSession, now: float | None = None) -> None:
        """``session`` is playing and has just refreshed."""
        with self._lock:
            self._seen[session] = time.monotonic() if now is None else now

    def leave(self, session: LabSession) -> None:
        with self._lock:
            self._seen.pop(session, None)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def size(self, now: float | None = None) -> int:
        """How many sessions are playing now (at least the one asking, if it plays)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return sum(now - seen <= self.stale_seconds + session.period
                       for session, seen in list(self._seen.items()))

    def period(self, tick_seconds: float, now: float | None = None) -> float:
        """Seconds between refreshes for a session asking for ``tick_seconds``."""
        playing = self.size(now)
        if playing <= 1:
            return tick_seconds
        return tick_seconds * _ladder(playing / self.refreshes_per_second / tick_seconds)


def _ladder(factor: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 6, 8, 12, ... that is at least ``factor``."""
    if factor <= 1:
        return 1.0
    power = 2.0 ** math.ceil(math.log2(factor))
    return 0.75 * power if 0.75 * power >= factor else power


CROWD = Crowd()
"""The crowd of this server process: every ``LabSession`` joins it by default."""


@dataclass(frozen=True)
class Change:
    """What applying a config did: nothing, a live tweak, or a fresh model."""

    kind: str  # "none", "live" or "fresh"
    fields: tuple[str, ...] = ()
    before: dict[str, object] = field(default_factory=dict)


class LabSession:
    def __init__(self, config: GANConfig | None = None, crowd: Crowd | None = None) -> None:
        self.lock = threading.RLock()
        self.trainer = Trainer(config or GANConfig())
        self.crowd = CROWD if crowd is None else crowd
        self.playing = False
        self.diverged: TrainingDiverged | None = None
        self.period = self.config.tick_seconds
        """Seconds between live refreshes: the tick interval, longer when the crowd is big."""

    @property
    def config(self) -> GANConfig:
        return self.trainer.config

    def play(self) -> None:
        with self.lock:
            self.playing = True
            self.crowd.join(self)
            self._update_period()

    def pause(self) -> None:
        with self.lock:
            self.playing = False
            self.crowd.leave(self)
            self._update_period()

    def _update_period(self) -> None:
        """The tick interval while paused; while playing, what the crowd allows now."""
        tick = self.config.tick_seconds
        self.period = self.crowd.period(tick) if self.playing else tick

    @property
    def steps_per_refresh(self) -> int:
        """Steps one live refresh trains: the config's steps per tick, scaled to the period."""
        return max(1, round(self.config.steps_per_tick * self.period / self.config.tick_seconds))

    def advance(self, steps: int | None = None, budget: float = MAX_TICK_SECONDS) -> int:
        """Train ``steps`` (default: the config's steps per tick), stopping after ``budget``
        seconds; returns the steps taken. Divergence pauses and is kept in ``diverged``."""
        with self.lock:
            trainer = self.trainer
            first = trainer.step
            try:
                train_within(trainer.train, trainer.config.steps_per_tick if steps is None
                             else steps, budget)
            except TrainingDiverged as exc:
                self.diverged = exc
                self.pause()
            return trainer.step - first

    def tick(self) -> int:
        """One live refresh: a chunk of training if playing, within the time budget; then
        the period until the next refresh, from the crowd as it is now."""
        with self.lock:
            if not self.playing:
                return 0
            self.crowd.join(self)
            budget = min(MAX_TICK_SECONDS, 0.6 * self.period)
            steps = self.advance(self.steps_per_refresh, budget=budget)
            self._update_period()
            return steps

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
                change = Change("live", changed, before)
            else:
                self.reset(config)
                change = Change("fresh", changed, before)
            self._update_period()
            return change

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
    refresh) and on the full evaluation size once it has finished. A sweep is an explicit
    request, so alone on the server it takes a longer chunk; while others play it takes no more
    than a live tick does.
    """

    LIVE_SAMPLES = 250
    MAX_TICK_SECONDS = 0.4

    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None,
                 seeds_per_cell: int, steps: int, crowd: Crowd | None = None) -> None:
        self.crowd = CROWD if crowd is None else crowd
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

    @property
    def budget(self) -> float:
        """Seconds of training per tick: shorter while other visitors play."""
        return self.MAX_TICK_SECONDS if self.crowd.size() == 0 else MAX_TICK_SECONDS

    def tick(self, budget: float | None = None) -> int:
        """Train until ``budget`` seconds (default: ``self.budget``) pass or the grid is done,
        then score every cell."""
        with self.lock:
            if not self.running:
                return 0
            first = self.grid.step
            train_within(self.grid.train, self.steps - first,
                         self.budget if budget is None else budget)
            if self.done:
                self.running = False
            samples = EVAL_SAMPLES if self.done else self.LIVE_SAMPLES
            self.cells = self.grid.cell_table(self.grid.evaluate(samples))
            return self.grid.step - first

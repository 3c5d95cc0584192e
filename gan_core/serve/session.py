"""One visitor's live run: a trainer, its pacing, whether it plays, and the lock that keeps it
whole.

Streamlit may run a visitor's script twice at once (a widget change while the live fragment
ticks, or overlapping reruns). Every method here that reads or changes the trainer holds the
session's lock, so the trainer only ever has one caller; a bad input raises before anything is
replaced, so the running model and its history survive it.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..data.curves import Curves
from ..gan.config import GANConfig, Pacing
from ..gan.schedule import Change
from ..training.trainer import Trainer, TrainingDiverged
from . import pacing as _pacing
from .crowd import CROWD, Crowd, Plan
from .pacing import train_for


@dataclass(frozen=True)
class Applied:
    """What applying a config did: nothing, a live tweak, or a fresh model."""

    kind: str  # "none", "live" or "fresh"
    fields: tuple[str, ...] = ()
    before: dict[str, object] = field(default_factory=dict)


class LabSession:
    def __init__(self, config: GANConfig | None = None, pacing: Pacing | None = None,
                 crowd: Crowd | None = None, schedule: Iterable[Change] = (),
                 data: Curves | None = None) -> None:
        self.lock = threading.RLock()
        self.trainer = Trainer(config or GANConfig(), schedule=schedule, data=data)
        self.pacing = pacing or Pacing()
        self.crowd = CROWD if crowd is None else crowd
        self.playing = False
        self.diverged: TrainingDiverged | None = None
        self.period = self.pacing.tick_seconds
        """Seconds between ticks: the tick interval, longer when the server is busy
        (``Crowd.plan``)."""
        self._cut_short = False
        """The last tick stopped at the CPU time the crowd allowed, before its steps."""

    @property
    def config(self) -> GANConfig:
        return self.trainer.config

    def play(self) -> None:
        with self.lock:
            self.playing = True
            self.crowd.join(self)
            self._follow_plan()

    def pause(self) -> None:
        with self.lock:
            self.playing = False
            self._cut_short = False
            self.crowd.leave(self)
            self._follow_plan()

    def _follow_plan(self) -> Plan:
        """The tick interval and a full tick's training while paused; while playing, what the
        crowd allows now."""
        tick = self.pacing.tick_seconds
        if not self.playing:
            self.period = tick
            return Plan(tick, min(_pacing.TICK_BUDGET_SECONDS, 0.6 * tick), math.inf)
        plan = self.crowd.plan(tick, self.period)
        self.period = plan.period
        return plan

    @property
    def steps_per_tick(self) -> int:
        """Steps one tick trains: the pacing's steps per tick, scaled to the period."""
        return max(1, round(self.pacing.steps_per_tick * self.period / self.pacing.tick_seconds))

    def advance(self, steps: int | None = None, budget: float | None = None,
                cpu_budget: float = math.inf) -> int:
        """Train ``steps`` (default: the pacing's steps per tick), stopping after ``budget``
        seconds (default: a tick's budget) or ``cpu_budget`` seconds of this thread's CPU time;
        returns the steps taken. Divergence pauses and is kept in ``diverged``."""
        with self.lock:
            trainer = self.trainer
            first = trainer.step
            try:
                train_for(trainer.train, self.pacing.steps_per_tick if steps is None else steps,
                          _pacing.TICK_BUDGET_SECONDS if budget is None else budget, cpu_budget)
            except TrainingDiverged as exc:
                self.diverged = exc
                self.pause()
            return trainer.step - first

    def tick(self, steps: int | None = None) -> int:
        """One live tick, if playing: the crowd's plan as it is now (the period until the next
        tick, the CPU time this one may train), then ``steps`` (default: a tick's worth) of
        training within that slice, reported to the crowd; the steps taken."""
        with self.lock:
            if not self.playing:
                return 0
            self.crowd.join(self)
            plan = self._follow_plan()
            wanted = self.steps_per_tick if steps is None else steps
            wall, cpu = time.perf_counter(), time.thread_time()
            steps = self.advance(wanted,
                                 budget=min(_pacing.TICK_BUDGET_SECONDS, 0.6 * self.period),
                                 cpu_budget=plan.training_budget)
            used = time.thread_time() - cpu
            self.crowd.record(used, time.perf_counter() - wall)
            alone = min(_pacing.TICK_BUDGET_SECONDS, 0.6 * self.pacing.tick_seconds)
            self._cut_short = (self.playing and steps < wanted
                               and plan.training_budget < alone
                               and used >= plan.training_budget)
            return steps

    @property
    def slowed(self) -> bool:
        """Does sharing the server slow this run now: a longer period than its tick interval,
        or a last tick that stopped at the CPU time its share allowed, before its steps?"""
        return self.playing and (self.period > self.pacing.tick_seconds or self._cut_short)

    def train_alone(self, network: str, n: int = 1) -> None:
        """``n`` updates of one network alone (``"d"`` or ``"g"``), as ``Trainer.train_d`` and
        ``train_g``; divergence pauses and is kept in ``diverged``."""
        with self.lock:
            update = {"d": self.trainer.train_d, "g": self.trainer.train_g}[network]
            try:
                update(n)
            except TrainingDiverged as exc:
                self.diverged = exc
                self.pause()

    def moment(self, step: int) -> Trainer:
        """The run as it was at ``step``, to look at (``Trainer.at``); the run is untouched."""
        with self.lock:
            return self.trainer.at(step)

    def rewind(self, step: int) -> None:
        """Make the run as it was at ``step`` the live run; what came after is dropped."""
        with self.lock:
            self.trainer.rewind(step)
            self.diverged = None

    def drop_ghost(self) -> None:
        with self.lock:
            self.trainer.drop_ghost()

    def reset(self, config: GANConfig | None = None, data: Curves | None = None) -> None:
        """A fresh model from ``config`` (default: the current one) and, for target ``"data"``,
        ``data`` (default: the curves the run learns now); play state is kept. Raises
        ``ValueError`` and keeps the run if they do not make a run."""
        with self.lock:
            config = config or self.config
            if config.target == "data" and data is None:
                data = self.trainer.data
            self.trainer = Trainer(config, data=data if config.target == "data" else None)
            self.diverged = None

    def apply(self, config: GANConfig, ghost: bool = False, data: Curves | None = None) -> Applied:
        """Take a new config: live fields keep the model (with ``ghost``, beside a ghost that
        goes on without the change: ``Trainer.fork``), others start a fresh one. For target
        ``"data"``, ``data`` are the curves to learn (default: the run's); other curves than
        the run's start a fresh one too (listed as the field ``"data"``), and points per curve
        follow them."""
        with self.lock:
            if config.target == "data":
                data = data if data is not None else self.trainer.data
                if data is None:
                    raise ValueError("target 'data' needs curves to learn")
                if data.n_points != config.n_points:
                    config = config.replace(n_points=data.n_points)
            new_data = config.target == "data" and data != self.trainer.data
            changed = tuple(self.config.changed_fields(config)) + (("data",) if new_data else ())
            if not changed:
                return Applied("none")
            before = {name: getattr(self.config, name) for name in changed if name != "data"}
            if self.config.fresh_fields(config) or new_data:
                self.reset(config, data)
                return Applied("fresh", changed, before)
            if ghost:
                self.trainer.fork(config)
            else:
                self.trainer.reconfigure(config)
            self.diverged = None
            return Applied("live", changed, before)

    def set_pacing(self, pacing: Pacing) -> None:
        with self.lock:
            self.pacing = pacing
            self._follow_plan()

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

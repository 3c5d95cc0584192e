"""Full copies of a run: the few a trainer keeps across the whole run to rewind to, and the
copy of a whole stack that undoing a blown-up update restores.

A run keeps at most :func:`snapshot_capacity` snapshots, one every ``stride`` steps from its
first; when they are that many it drops every other one and doubles ``stride`` (as a history
series does), so however long the run, its snapshots stay evenly spread over it and their
memory stays below :data:`SNAPSHOT_BUDGET_BYTES`. The first snapshot (step 0, or the step a
checkpoint was loaded at) is always kept: nothing before it can be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import DTYPE, GANStack, NetState
from ..gan.history import History
from ..gan.labels import label_width_of
from ..gan.state import RunState
from ..gan.targets import Target

MAX_SNAPSHOTS = 32
SNAPSHOT_BUDGET_BYTES = 8 * 2**20
"""Most memory one run's snapshots may take: the page keeps one run per visitor."""
FIRST_STRIDE = 100
"""Steps between snapshots until the first thinning: the steps the page's readouts show."""


def _history_bytes(config: GANConfig) -> int:
    history = History(config.conditional, data=config.target == "data")
    return sum(s.capacity * (len(s.columns) * 8 + 8) for s in (history.train, history.eval))


def snapshot_bytes(config: GANConfig, target: Target | None = None) -> int:
    """Most bytes of arrays one snapshot of a run of ``config`` holds: G's and D's weights and
    both optimizer moments (float32), and a full history (float64 rows, int64 steps).
    ``target``: your data's, whose labels set a conditional run's classes."""
    z, h, n = config.latent_dim, config.hidden, config.n_points
    c = label_width_of(config, target)  # a conditional run's label columns
    weights = ((z + c) * h + h + h * n + n) + ((n + c) * h + h + h + 1)
    return 3 * weights * np.dtype(DTYPE).itemsize + _history_bytes(config)


def snapshot_capacity(config: GANConfig, target: Target | None = None) -> int:
    """How many snapshots a run of ``config`` keeps: :data:`MAX_SNAPSHOTS`, fewer for models so
    large that they would take more than :data:`SNAPSHOT_BUDGET_BYTES` (never fewer than 2)."""
    return max(2, min(MAX_SNAPSHOTS, SNAPSHOT_BUDGET_BYTES // snapshot_bytes(config, target)))


def max_snapshot_memory(config: GANConfig, target: Target | None = None) -> int:
    """The most bytes a run of ``config`` spends on snapshots."""
    return snapshot_capacity(config, target) * snapshot_bytes(config, target)


@dataclass(frozen=True)
class Snapshot:
    """A run as it arrived at ``state.step``, before any change made at that step; its
    ``state.changes`` are the changes made before."""

    state: RunState

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays it holds."""
        arrays = [self.state.g.params, self.state.g.m, self.state.g.v,
                  self.state.d.params, self.state.d.m, self.state.d.v]
        arrays += [value for series in self.state.history.values()
                   for value in series.values() if isinstance(value, np.ndarray)]
        return sum(a.nbytes for a in arrays)


class Snapshots:
    """A run's snapshots, evenly spread over it, oldest first."""

    def __init__(self, capacity: int, stride: int = FIRST_STRIDE) -> None:
        if capacity < 2:
            raise ValueError(f"capacity {capacity} is below 2: thinning needs two")
        self.capacity = capacity
        self.stride = stride
        self._kept: list[Snapshot] = []

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(s.step for s in self._kept)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._kept)

    def due(self, step: int) -> bool:
        """Is a snapshot at ``step`` wanted (none yet, or on the stride after the last)?"""
        return not self._kept or (step % self.stride == 0 and step > self._kept[-1].step)

    def next_due(self, step: int) -> int:
        """The first step from ``step`` on at which a snapshot is due."""
        if self.due(step):
            return step
        last = max(step, self._kept[-1].step)
        return (last // self.stride + 1) * self.stride

    def add(self, snapshot: Snapshot) -> None:
        if len(self._kept) >= self.capacity:
            self._thin()
            if not self.due(snapshot.step):
                return
        self._kept.append(snapshot)

    def _thin(self) -> None:
        self.stride *= 2
        first, *rest = self._kept
        self._kept = [first, *(s for s in rest if s.step % self.stride == 0)]

    def latest(self, step: int) -> Snapshot | None:
        """The newest snapshot at or before ``step``."""
        found = None
        for snapshot in self._kept:
            if snapshot.step > step:
                break
            found = snapshot
        return found

    def truncate(self, step: int) -> None:
        """Forget the snapshots after ``step`` (the run went back to it)."""
        self._kept = [s for s in self._kept if s.step <= step]


# -- a whole stack -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StackCopy:
    """Every member's networks, optimizer state and training stream, and which are frozen."""

    nets: tuple[tuple[NetState, NetState], ...]
    rngs: tuple[dict[str, Any], ...]
    diverged: np.ndarray


def copy_stack(stack: GANStack) -> StackCopy:
    members = range(stack.members)
    return StackCopy(tuple((stack.g.state(k), stack.d.state(k)) for k in members),
                     tuple(rng.bit_generator.state for rng in stack.rngs),
                     stack.diverged.copy())


def restore_stack(stack: GANStack, saved: StackCopy) -> None:
    """Put every member's networks and stream back as ``saved`` has them (frozen flags stay:
    the caller decides what a restore means for them)."""
    for k, (g, d) in enumerate(saved.nets):
        stack.g.load(g, k)
        stack.d.load(d, k)
    for rng, state in zip(stack.rngs, saved.rngs, strict=True):
        rng.bit_generator.state = state

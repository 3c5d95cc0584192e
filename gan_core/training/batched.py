"""A grid of GANs trained side by side, for a map of which hyperparameters converge.

One member per (x value, y value, seed of the cell). Every member is an ordinary run: its full
config is :meth:`BatchedTrainer.member_config`, and ``Trainer(member_config(k))`` trained for the
same steps ends with the same weights and metrics. Only fields that :class:`GANStack` lets differ
per member can be an axis, so the whole grid trains in stacked passes instead of K loops.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.curves import Curves
from ..gan.config import LOSSES, GANConfig
from ..gan.engine import MEMBER_FIELDS, GANStack
from ..gan.losses import SMOOTHED_LOSSES
from ..gan.targets import Target, data_target
from ..measure.metrics import EVAL_SAMPLES, grid_scores

AXIS_FIELDS = (*MEMBER_FIELDS, "seed")
"""The fields a grid may vary: the per-member fields of :class:`GANStack`, and seed."""
OPTIMIZER_ONLY = {"beta1": "adam", "beta2": "adam", "momentum": "sgd"}
"""Fields that do nothing under the other optimizer: a grid over them would be flat."""
STABILIZER_AXES = ("r1", "r2", "gp", "instance_noise", "spectral_norm")
"""The stabilizers' strengths (and spectral normalisation, on or off): the axes of a map of
what each does for which settings."""
CONVERGED_W1 = 0.1
"""A run has converged when its generator matches the target: the W1 of its fitted parameter at
most this (ten times a perfect generator's sampling noise at 1,000 curves; the tutorial reaches
0.05 in 10,000 steps). A diverged run has not."""
MAX_MEMBERS = 256
MAX_GRID_BYTES = 256 * 2**20
"""Memory a grid's arrays may hold. The tutorial's size takes half a megabyte a member (a full
grid of 256: 124 MB); the page's largest models take 15 MB a member, so a grid of them holds at
most 17 members instead of taking gigabytes of a shared server."""
STACK_MEMBERS = 16
"""Members per stacked pass. Past this the activations spill out of the L2 cache and each pass
over them slows down (``benchmarks/batched.py``), so a big grid trains as several stacks."""


@dataclass(frozen=True)
class Axis:
    """One dimension of the grid: a field of :class:`GANConfig` and the values it takes.

    Values are checked with GANConfig's own validation, so an out-of-range value fails here
    with the same ``ValueError`` (naming the field) as anywhere else.
    """

    field: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.field not in AXIS_FIELDS:
            raise ValueError(f"{self.field}: not a grid axis; an axis is one of "
                             f"{', '.join(AXIS_FIELDS)}")
        values = tuple(_normalise(self.field, v) for v in self.values)
        if not values:
            raise ValueError(f"{self.field}: an axis needs at least one value")
        if len(set(values)) != len(values):
            raise ValueError(f"{self.field}: axis values repeat: {values!r}")
        for value in values:
            GANConfig().replace(**{self.field: value})
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def log(cls, field: str, low: float, high: float, n: int) -> Axis:
        """``n`` values evenly spaced in log scale, ends included (learning rates)."""
        return cls(field, tuple(_tidy(v) for v in np.geomspace(low, high, n)))

    @classmethod
    def linear(cls, field: str, low: float, high: float, n: int) -> Axis:
        """``n`` evenly spaced values, ends included (betas, momentum)."""
        return cls(field, tuple(_tidy(v) for v in np.linspace(low, high, n)))

    @classmethod
    def losses(cls, names: Iterable[str] = LOSSES) -> Axis:
        """Every loss, or the ones named: which objective survives which learning rates."""
        return cls("loss", tuple(names))

    @classmethod
    def strengths(cls, field: str, low: float, high: float, n: int) -> Axis:
        """A stabilizer's strength: 0 (off), then ``n - 1`` values evenly spaced in log from
        ``low`` to ``high``, each one a slider offers (``Param.spread``)."""
        param = GANConfig.params()[field]
        if not (param.log and param.low == 0):
            raise ValueError(f"{field}: not a strength that 0 switches off")
        return cls(field, (0.0, *param.spread(low, high, n - 1)))

    @classmethod
    def switch(cls, field: str) -> Axis:
        """A setting that is off or on (spectral normalisation)."""
        return cls(field, (False, True))

    @classmethod
    def seeds(cls, n: int, start: int = 0) -> Axis:
        """Seeds ``start .. start + n - 1``: one run per seed, to see the spread of outcomes."""
        return cls("seed", tuple(range(start, start + n)))


def _normalise(field: str, value: Any) -> Any:
    """Plain Python values, ints widened to float where the field is a float (as
    ``GANConfig.from_mapping`` does), so ``np.geomspace`` output or ``1`` are accepted."""
    if isinstance(value, np.generic):
        value = value.item()
    if GANConfig.params()[field].kind is float and isinstance(value, int) \
            and not isinstance(value, bool):
        return float(value)
    return value


def _tidy(value: float) -> float:
    """Four significant digits: exact enough for a grid, short in labels and URLs."""
    return float(f"{value:.4g}")


@dataclass(frozen=True)
class MemberResult:
    """How one member ended. A diverged member has ``in_band``, ``w1`` and ``class_accuracy``
    NaN: its frozen weights are finite but explode on any input, nothing worth scoring."""

    in_band: float
    w1: float
    diverged: bool
    class_accuracy: float = math.nan
    """A conditional grid's (NaN for a grid without classes)."""


class BatchedTrainer:
    """Trains every member of a grid in stacked passes; diverged members freeze, others go on.

    Member ``k`` is seed ``r`` of cell ``(ix, iy)``: ``cell_of(k) = (ix, iy, r)``, numbered row
    by row, ``k = (iy * len(x_axis) + ix) * seeds_per_cell + r``; it trains with seed
    ``base.seed + r``. When an axis is ``seed`` it sets the seed and a cell has one seed.

    A member that blows up keeps the weights of its last completed step, ``diverged_at[k]``:
    exactly where ``Trainer(member_config(k))`` stands before raising ``TrainingDiverged`` with
    that step (the Trainer then also rewinds one update, to weights a lower learning rate can
    carry on from; a map has no use for that, so the grid spares the per-step copies).

    ``data``: your curves, for a base config of target ``"data"`` (every member learns them;
    ``Trainer(member_config(k), data=data)`` reruns a member).
    """

    def __init__(self, base: GANConfig, x_axis: Axis, y_axis: Axis | None = None,
                 seeds_per_cell: int = 1, data: Curves | None = None) -> None:
        if (base.target == "data") != (data is not None):
            raise ValueError("a grid of target 'data' learns your curves: give them as "
                             "data=Curves(...)" if data is None else
                             "data are learned with target 'data'")
        if data is not None and base.n_points != data.n_points:
            base = base.replace(n_points=data.n_points)
        self._target: Target | None = None if data is None else data_target(data)
        _check_grid(base, x_axis, y_axis, seeds_per_cell, self._target)
        self.data = data
        self.base, self.x_axis, self.y_axis = base, x_axis, y_axis
        self.seeds_per_cell = seeds_per_cell
        self.shape = (1 if y_axis is None else len(y_axis), len(x_axis))
        self.members = self.shape[0] * self.shape[1] * seeds_per_cell
        self._configs = [self._build_config(k) for k in range(self.members)]
        self._bounds = _stack_bounds(self.members, members_per_stack(base))
        self._stacks = [self._build_stack(lo, hi) for lo, hi in self._bounds]
        self._steps = [0] * len(self._stacks)
        self.diverged_at = np.full(self.members, -1)
        """Per member: completed steps when it blew up (``TrainingDiverged.step``), or -1."""

    # -- the grid ------------------------------------------------------------------------

    def cell_of(self, k: int) -> tuple[int, int, int]:
        """``(ix, iy, r)`` of member ``k``: its cell and which of the cell's seeds it is."""
        if not 0 <= k < self.members:
            raise IndexError(f"member {k} is not in a grid of {self.members}")
        cell, r = divmod(k, self.seeds_per_cell)
        iy, ix = divmod(cell, self.shape[1])
        return ix, iy, r

    def member_of(self, ix: int, iy: int = 0, r: int = 0) -> int:
        """The member at a cell: the inverse of :meth:`cell_of`."""
        ny, nx = self.shape
        if not (0 <= ix < nx and 0 <= iy < ny and 0 <= r < self.seeds_per_cell):
            raise IndexError(f"cell ({ix}, {iy}) seed {r} is not in a grid of "
                             f"{nx} x {ny} x {self.seeds_per_cell}")
        return (iy * nx + ix) * self.seeds_per_cell + r

    def member_config(self, k: int) -> GANConfig:
        """The full config member ``k`` trains with: load it into a ``Trainer`` to rerun it."""
        self.cell_of(k)
        return self._configs[k]

    def _build_config(self, k: int) -> GANConfig:
        ix, iy, r = self.cell_of(k)
        changes: dict[str, Any] = {"seed": self.base.seed + r}
        changes[self.x_axis.field] = self.x_axis.values[ix]
        if self.y_axis is not None:
            changes[self.y_axis.field] = self.y_axis.values[iy]
        return self.base.replace(**changes)  # validates: a seed past the top fails here

    def _build_stack(self, lo: int, hi: int) -> GANStack:
        configs = self._configs[lo:hi]
        hparams = {name: [getattr(c, name) for c in configs] for name in MEMBER_FIELDS}
        return GANStack(self.base, [c.seed for c in configs], hparams, self._target)

    def _locate(self, k: int) -> tuple[GANStack, int]:
        self.cell_of(k)
        for stack, (lo, hi) in zip(self._stacks, self._bounds, strict=True):
            if k < hi:
                return stack, k - lo
        raise AssertionError("unreachable: the stacks hold every member")

    @property
    def stack_sizes(self) -> list[int]:
        """Members in each stacked pass: a big grid trains as several stacks."""
        return [hi - lo for lo, hi in self._bounds]

    # -- training ------------------------------------------------------------------------

    @property
    def diverged(self) -> np.ndarray:
        """Per member: has it blown up (and been frozen)? A copy."""
        return np.concatenate([stack.diverged for stack in self._stacks])

    @property
    def step(self) -> int:
        """Steps every member has trained (stacks trained one by one may stand further on)."""
        return min(self._steps)

    @property
    def stack_steps(self) -> tuple[int, ...]:
        """Steps each stack has trained, in order."""
        return tuple(self._steps)

    def train(self, steps: int) -> None:
        """Advance ``step`` by ``steps``: every stack to that step (one already past it stays).
        Members that blow up freeze; the others go on. Each stack runs all its steps before the
        next starts, so its working set stays in cache."""
        steps = int(steps)
        if steps < 0:
            raise ValueError(f"steps: {steps!r} is negative")
        target = self.step + steps
        for j in range(len(self._stacks)):
            self.train_stack(j, max(0, target - self._steps[j]))

    def train_stack(self, j: int, steps: int) -> None:
        """Advance stack ``j`` alone by ``steps``: a slice of a grid's training as small as one
        stack's step, which is what a time-bounded tick needs."""
        if steps < 0:
            raise ValueError(f"steps: {steps!r} is negative")
        stack, (lo, _) = self._stacks[j], self._bounds[j]
        seen = stack.diverged.copy()
        for _ in range(steps):
            if not seen.all():
                stack.train_step(step=self._steps[j])
                if not np.array_equal(stack.diverged, seen):
                    self.diverged_at[lo + np.flatnonzero(stack.diverged & ~seen)] = self._steps[j]
                    seen = stack.diverged.copy()
            self._steps[j] += 1

    # -- results -------------------------------------------------------------------------

    def member_weights(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of member ``k``'s flat G and D parameters (the layout of ``engine.Net``)."""
        stack, i = self._locate(k)
        return stack.g.params[i].copy(), stack.d.params[i].copy()

    def evaluate(self, n: int = EVAL_SAMPLES,
                 stacks: Iterable[int] | None = None) -> list[MemberResult]:
        """One result per member, equal to ``Trainer(member_config(k)).evaluate(n)`` at the
        step its stack stands at; diverged members are not scored (NaN). With ``stacks``, only
        the members of those stacks, in order."""
        results = []
        for j in range(len(self._stacks)) if stacks is None else stacks:
            stack, (lo, hi) = self._stacks[j], self._bounds[j]
            for i in range(hi - lo):
                if stack.diverged[i]:
                    results.append(MemberResult(math.nan, math.nan, True))
                    continue
                in_band, w1, accuracy = grid_scores(stack, i, self._configs[lo + i],
                                                    self._steps[j], n)
                results.append(MemberResult(in_band, w1, False, accuracy))
        return results

    @property
    def stack_members(self) -> list[range]:
        """The members of each stack, in order."""
        return [range(lo, hi) for lo, hi in self._bounds]

    def cell_table(self, results: Sequence[MemberResult]) -> list[dict[str, Any]]:
        """One row per cell, row by row: its axis values and its seeds' results aggregated.

        ``in_band``, ``w1`` and ``class_accuracy`` are means over the seeds that did not
        diverge (NaN if all did, and ``class_accuracy`` for a grid without classes);
        ``diverged`` is the fraction that did, ``converged`` the fraction that ended with W1
        at most :data:`CONVERGED_W1`. ``y`` is None without a y axis.
        """
        if len(results) != self.members:
            raise ValueError(f"results: expected {self.members}, got {len(results)}")
        ny, nx = self.shape
        rows = []
        for iy in range(ny):
            for ix in range(nx):
                cell = [results[self.member_of(ix, iy, r)] for r in range(self.seeds_per_cell)]
                rows.append(self._cell_row(ix, iy, cell))
        return rows

    def _cell_row(self, ix: int, iy: int, cell: list[MemberResult]) -> dict[str, Any]:
        live = [r for r in cell if not r.diverged]
        return {
            "ix": ix,
            "iy": iy,
            "x": self.x_axis.values[ix],
            "y": self.y_axis.values[iy] if self.y_axis is not None else None,
            "in_band": _mean([r.in_band for r in live]),
            "w1": _mean([r.w1 for r in live]),
            "class_accuracy": _mean([r.class_accuracy for r in live]),
            "diverged": (len(cell) - len(live)) / len(cell),
            "converged": sum(r.w1 <= CONVERGED_W1 for r in live) / len(cell),
        }


def converged_cells(rows: Sequence[dict[str, Any]]) -> int:
    """How many cells of a :meth:`BatchedTrainer.cell_table` converged on every seed."""
    return sum(row["converged"] == 1.0 for row in rows)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def members_per_stack(config: GANConfig) -> int:
    """Members a stack of this config's models holds: ``STACK_MEMBERS`` of the tutorial's
    size, fewer of larger models (one at the page's largest sizes), so that one step of a
    stack, the least a slice of training can be, stays as short as the tutorial's: a stability
    map's tick ends within its time budget plus one stack's step
    (``gan_core.serve.stability``). Fewer members also keep a stack's activations in cache."""
    tutorial = step_work(GANConfig())
    return max(1, min(STACK_MEMBERS, STACK_MEMBERS * tutorial // step_work(config)))


def step_work(config: GANConfig) -> int:
    """Multiply-adds of one training step of one member, roughly: G's forward and backward on
    a batch, and D's on the real and generated batch, once per D step."""
    b, z, h, n = config.batch_size, config.latent_dim, config.hidden, config.n_points
    g = b * h * (z + n)  # one pass through G
    d = 2 * b * h * (n + 1)  # one pass through D, real and generated curves
    return 3 * g + 3 * d * config.d_steps  # forward + backward (twice the forward)


def _stack_bounds(members: int, most: int) -> list[tuple[int, int]]:
    """Contiguous, near-equal ranges of at most ``most`` members (36 -> 12 + 12 + 12)."""
    n = -(-members // most)
    edges = [round(i * members / n) for i in range(n + 1)]
    return list(itertools.pairwise(edges))


def _check_grid(base: GANConfig, x_axis: Axis, y_axis: Axis | None, seeds_per_cell: int,
                target: Target | None = None) -> None:
    """Reject grids that cannot be stacked, are too big or would map nothing."""
    if isinstance(seeds_per_cell, bool) or not isinstance(seeds_per_cell, int) \
            or seeds_per_cell < 1:
        raise ValueError(f"seeds_per_cell: {seeds_per_cell!r} is not a positive integer")
    axes = [x_axis] if y_axis is None else [x_axis, y_axis]
    if y_axis is not None and y_axis.field == x_axis.field:
        raise ValueError(f"{x_axis.field}: both axes vary the same field")
    for axis in axes:
        needs = OPTIMIZER_ONLY.get(axis.field)
        if needs is not None and base.optimizer != needs:
            raise ValueError(f"{axis.field}: has no effect with optimizer {base.optimizer!r}; "
                             f"set optimizer={needs!r} to map it")
        if axis.field == "seed" and seeds_per_cell > 1:
            raise ValueError("seed: an axis over seeds already sets every member's seed; "
                             "use seeds_per_cell=1")
        fields = {a.field for a in axes}
        if axis.field == "instance_noise_steps" and base.instance_noise == 0 \
                and "instance_noise" not in fields:
            raise ValueError("instance_noise_steps: anneals nothing while instance_noise is 0; "
                             "set instance_noise to map it")
        if axis.field == "real_label" and base.loss not in SMOOTHED_LOSSES \
                and "loss" not in fields:
            raise ValueError(f"real_label: has no effect with loss {base.loss!r}; use "
                             f"{', '.join(SMOOTHED_LOSSES)} to map it")
    members = math.prod(len(a) for a in axes) * seeds_per_cell
    if members > MAX_MEMBERS:
        raise ValueError(f"grid of {members} members is larger than {MAX_MEMBERS}; use fewer "
                         "axis values or seeds per cell")
    per_member = GANStack.bytes_per_member(base, target)
    if members * per_member > MAX_GRID_BYTES:
        raise ValueError(
            f"a grid of {members} members of these sizes needs {members * per_member / 2**20:,.0f}"
            f" MB, more than the {MAX_GRID_BYTES // 2**20} MB a map may hold: use at most "
            f"{MAX_GRID_BYTES // per_member} members (fewer cells or seeds per cell) or smaller "
            "models (hidden units, batch size, points per curve)")

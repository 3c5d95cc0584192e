"""Training curves with bounded memory.

A :class:`Series` records a row every ``stride`` steps. When it is full it drops every other row
and doubles ``stride``, so an hour of training keeps at most ``capacity`` rows, evenly spread over
the whole run, and a step's row does not depend on when the run was saved or thinned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Series:
    def __init__(self, columns: Sequence[str], capacity: int, stride: int) -> None:
        self.columns = tuple(columns)
        self.capacity = capacity
        self.stride = stride
        self._steps = np.zeros(capacity, np.int64)
        self._rows = np.zeros((capacity, len(self.columns)))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def due(self, step: int) -> bool:
        return step % self.stride == 0

    def append(self, step: int, values: Sequence[float]) -> None:
        if self._n == self.capacity:
            self._thin()
            if not self.due(step):  # the doubled stride skips this step: rows stay evenly spread
                return
        self._steps[self._n] = step
        self._rows[self._n] = values
        self._n += 1

    def _thin(self) -> None:
        self.stride *= 2
        keep = self._steps[: self._n] % self.stride == 0
        n = int(keep.sum())
        self._steps[:n] = self._steps[: self._n][keep]
        self._rows[:n] = self._rows[: self._n][keep]
        self._n = n

    def truncate(self, step: int) -> None:
        """Forget the rows after ``step`` (the run was rewound to it)."""
        self._n = int(np.searchsorted(self._steps[: self._n], step, side="right"))

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n].copy()

    def column(self, name: str) -> np.ndarray:
        return self._rows[: self._n, self.columns.index(name)].copy()

    def rows(self) -> list[dict[str, float]]:
        return [{"step": int(s), **dict(zip(self.columns, r.tolist(), strict=True))}
                for s, r in zip(self._steps[: self._n], self._rows[: self._n], strict=True)]

    def state(self) -> dict[str, np.ndarray | int | list[str]]:
        return {"steps": self.steps, "rows": self._rows[: self._n].copy(), "stride": self.stride,
                "columns": list(self.columns)}

    def load_state(self, state: dict) -> None:
        """Take a saved series. Its columns are matched by name (``state["columns"]``; a state
        without names holds the first columns in order, as before columns were named). Columns
        this version records that the saved run did not are NaN: a run saved by an older
        version loads, with gaps where it measured less."""
        steps, rows = np.asarray(state["steps"]), np.asarray(state["rows"], np.float64)
        n = len(steps)
        saved = [str(c) for c in state.get("columns", self.columns[: rows.shape[-1]])]
        if (n > self.capacity or rows.ndim != 2 or rows.shape != (n, len(saved))
                or int(state["stride"]) < 1 or len(set(saved)) != len(saved)):
            raise ValueError("history does not fit its series")
        unknown = sorted(set(saved) - set(self.columns))
        if unknown:
            raise ValueError(f"history has a column this version does not know: {unknown[0]!r}")
        full = np.full((n, len(self.columns)), np.nan)
        full[:, [self.columns.index(c) for c in saved]] = rows
        self.stride = int(state["stride"])
        self._steps[:n], self._rows[:n], self._n = steps, full, n


class History:
    """What a trainer remembers of its run: per-step batch statistics and periodic metrics."""

    TRAIN_COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake", "g_force")
    """Batch statistics of a training step, before its update: the losses, mean D(x) on the
    real and on the generated curves, and the mean length of the force G received per curve
    (``GANStack.force_sizes``)."""
    EVAL_COLUMNS = ("in_band", "w1", "fit_residual", "joint_w1", "spread", "jsd", "jsd_d")
    """Fields of :class:`gan_core.measure.metrics.Metrics` at the evaluation cadence."""
    DATA_EVAL_COLUMNS = ("in_band", "sliced_w1", "precision", "recall", "nearest_real",
                         "spread", "jsd", "jsd_d")
    """Fields of ``gan_core.measure.metrics.DataMetrics``, for a run of your data."""
    CLASS_COLUMNS = ("class_accuracy",)
    """A conditional run's evaluation columns, after the others."""

    def __init__(self, conditional: bool = False, data: bool = False) -> None:
        """``data``: the history of a run of your data, with its own evaluation columns."""
        self.train = Series(self.TRAIN_COLUMNS, capacity=1600, stride=4)
        self.eval = Series(self.eval_columns(conditional, data), capacity=400, stride=100)

    @classmethod
    def eval_columns(cls, conditional: bool, data: bool = False) -> tuple[str, ...]:
        """The evaluation columns of a run, with classes or without, of your data or not."""
        return ((cls.DATA_EVAL_COLUMNS if data else cls.EVAL_COLUMNS)
                + (cls.CLASS_COLUMNS if conditional else ()))

    def __len__(self) -> int:
        return len(self.train) + len(self.eval)

    def state(self) -> dict[str, dict]:
        return {"train": self.train.state(), "eval": self.eval.state()}

    def load_state(self, state: dict[str, dict]) -> None:
        self.train.load_state(state["train"])
        self.eval.load_state(state["eval"])

    def truncate(self, step: int) -> None:
        """Forget every row after ``step`` (the run went back to it)."""
        self.train.truncate(step)
        self.eval.truncate(step)

    def to_csv(self) -> str:
        """Both series merged by step, one row per step that has any value."""
        by_step: dict[int, dict[str, float]] = {}
        for series in (self.train, self.eval):
            for row in series.rows():
                by_step.setdefault(row["step"], {}).update(row)
        columns = ("step", *self.TRAIN_COLUMNS, *self.eval.columns)
        lines = [",".join(columns)]
        for step in sorted(by_step):
            row = by_step[step]
            lines.append(",".join(_fmt(row.get(c)) for c in columns))
        return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"

"""A set of real curves a GAN can learn: the rows of a table, a band between two curves, or a
few curves with noise around them.

:class:`Curves` is plain, checked data, in the curves' own units, with no notion of a GAN: a
notebook can read a file and look at it without the engine. How a GAN samples it is the target
family ``gan_core.gan.targets.DataFamily``.

Three kinds, three laws of a real curve:

- ``rows`` (:meth:`Curves.from_array`, :meth:`Curves.from_csv`): one of the rows, each as likely;
- ``between`` (:meth:`Curves.between`): a uniform blend ``(1 - u) * lower + u * upper`` with
  ``u ~ U(0, 1)``. The tutorial's ``a * x^2 + (a - 1)``, ``a ~ U(1, 2)``, is exactly the blend
  of ``x^2`` and ``2x^2 + 1`` with ``u = a - 1`` (:meth:`Curves.tutorial`);
- ``around`` (:meth:`Curves.around`): one of the curves, each as likely, plus Gaussian noise of
  standard deviation ``noise`` at every point.

Data far from the tutorial's range (temperatures in degrees, prices in thousands) train on a
normalised copy ``(y - offset) / scale``; everything shown is in the curves' own units.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Any

import numpy as np

from .csv_file import read_csv
from .limits import (
    MAX_CLASSES,
    MAX_CURVES,
    MAX_LABEL_CHARS,
    MAX_POINTS,
    MAX_VALUE,
    MIN_POINTS,
    DataError,
    curve_grid,
)

__all__ = ["MAX_CLASSES", "MAX_CURVES", "MAX_POINTS", "MAX_VALUE", "MIN_POINTS", "Curves",
           "DataError", "curve_grid", "tutorial_bounds"]

IN_RANGE = 10.0
SPREAD_RANGE = (0.25, 20.0)
"""Curves within ``±IN_RANGE`` whose overall range (highest minus lowest value) lies in
``SPREAD_RANGE`` train as they are, as the tutorial's do (0 to 3); others train on a copy
scaled to ``±NORMALISED_HALF_RANGE``."""
NORMALISED_HALF_RANGE = 1.5
ENVELOPE_SIGMAS = 3.0
"""Curves with noise: their envelope is each curve ± this many noise widths (99.7% of points)."""
KINDS = ("rows", "between", "around")
CLASS_NAME_CHARS = 24
"""A class's name on the page: its label, cut to this many characters."""


def tutorial_bounds(x: np.ndarray) -> np.ndarray:
    """``(2, n)``: the tutorial's lower and upper curves, ``x^2`` and ``2x^2 + 1``, computed in
    float32 as the tutorial's curves are, held as float64."""
    x32 = np.asarray(x, np.float32)
    square = x32 * x32
    return np.stack([square, 2 * square + 1]).astype(np.float64)


@dataclass(frozen=True, eq=False)
class Curves:
    """Real curves in their own units. Build with :meth:`from_csv`, :meth:`from_array`,
    :meth:`between`, :meth:`around` or :meth:`tutorial`; every way checks them the same.

    Two sets are equal when they hold the same kind, values, x positions, noise and labels
    (:attr:`digest`); the name and notes say where they came from and do not count.
    """

    kind: str
    values: np.ndarray
    """``(m, n)`` float64: the rows, the lower and upper curve, or the curves noise blurs."""
    x: np.ndarray
    """``(n,)`` float64, increasing: where each point of a curve sits."""
    noise: float = 0.0
    """``around`` only: the noise's standard deviation, in the curves' units."""
    labels: tuple[str, ...] | None = None
    """A label per row or curve (a class, for a conditional GAN), or None. An unconditional
    GAN does not read them."""
    name: str = ""
    """Where the curves came from, for a reader: "drawn band", a file's name..."""
    notes: tuple[str, ...] = ()
    """What reading them left out or changed (a dropped id column, a byte-order mark...)."""
    layout: tuple[int, int] = (0, 0)
    """Read from a file: the rows before the curves (a header) and the columns before their
    first point (an id, labels), so the file can be read again as it was."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        values = _checked_table(self.values, "curves")
        m, n = values.shape
        x = _checked_x(self.x, n)
        if self.kind == "between":
            if m != 2:
                raise DataError(f"a band is a lower and an upper curve, not {m} curves")
            if np.array_equal(values[0], values[1]):
                raise DataError("the lower and the upper curve are the same curve: every real "
                                "curve would be that one, with nothing to learn")
        elif self.kind == "rows" and (m < 2 or not np.ptp(values, axis=0).any()):
            raise DataError("every row is the same curve (or there is one row): a GAN "
                            "needs at least two different curves to learn")
        noise = self.noise
        if isinstance(noise, bool) or not isinstance(noise, int | float | np.floating):
            raise DataError(f"noise {noise!r} is not a number")
        noise = float(noise)
        if self.kind == "around":
            if not (math.isfinite(noise) and 0 < noise <= MAX_VALUE):
                raise DataError(f"noise {noise!r} is not a width above 0 (at most {MAX_VALUE:g})")
        elif noise != 0:
            raise DataError(f"noise applies to curves blurred by it (around), not to {self.kind}")
        labels = self.labels
        if labels is not None:
            labels = tuple(labels)
            if self.kind == "between" or len(labels) != m or not all(
                    isinstance(label, str) and len(label) <= MAX_LABEL_CHARS for label in labels):
                raise DataError(f"labels: one text of at most {MAX_LABEL_CHARS} characters per "
                                f"curve ({m}), and none for a band")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "notes", tuple(str(note) for note in self.notes))
        object.__setattr__(self, "name", str(self.name))
        layout = tuple(self.layout)
        if len(layout) != 2 or not all(type(v) is int and 0 <= v <= 1 for v in layout):
            raise DataError(f"layout {self.layout!r} is not (rows, columns) before the curves, "
                            "each 0 or 1")
        object.__setattr__(self, "layout", layout)
        lower, upper = self.envelope()
        if not np.isfinite(upper - lower).all() or max(abs(lower.min()), abs(upper.max())) \
                > MAX_VALUE:
            raise DataError(f"with the noise, the curves reach beyond ±{MAX_VALUE:g}")

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_array(cls, array: Any, x: Any = None, *, labels: Sequence[str] | None = None,
                   name: str = "array") -> Curves:
        """One real curve per row of ``array`` ``(m, n)``: 2 to 10,000 rows, not all the same,
        of 4 to 100 points, at ``x`` (default: evenly on [-1, 1])."""
        values = _checked_table(array, "array")
        return cls("rows", values, _default_x(x, values.shape[1]), labels=labels, name=name)

    @classmethod
    def between(cls, lower: Any, upper: Any, x: Any = None, *, name: str = "band") -> Curves:
        """Real curves are uniform blends of ``lower`` and ``upper``: the band between them."""
        values = _checked_table(_two_rows(lower, upper), "lower and upper")
        return cls("between", values, _default_x(x, values.shape[1]), name=name)

    @classmethod
    def around(cls, curves: Any, noise: float, x: Any = None, *,
               labels: Sequence[str] | None = None, name: str = "curves") -> Curves:
        """Real curves are one of ``curves`` ``(k, n)`` (or a single curve ``(n,)``), each as
        likely, plus Gaussian noise of standard deviation ``noise`` at every point: draw two
        far apart for a mixture."""
        values = np.asarray(curves) if not isinstance(curves, np.ndarray) else curves
        if values.ndim == 1:
            values = values[None, :]
        values = _checked_table(values, "curves")
        return cls("around", values, _default_x(x, values.shape[1]), noise=noise,
                   labels=labels, name=name)

    @classmethod
    def from_csv(cls, source: str | bytes | IO[bytes] | Any) -> Curves:
        """Curves from a CSV file, one per row (see ``gan_core.data.csv_file`` for the format):
        ``source`` is the file's text, its bytes, a binary file object or a path. Raises
        :class:`DataError` naming the row and column of anything refused; :attr:`notes` say
        what was left out."""
        table = read_csv(source)
        return cls("rows", table.values, table.x, labels=table.labels, name=table.name,
                   notes=table.notes, layout=table.layout)

    @classmethod
    def tutorial(cls, n_points: int = 15) -> Curves:
        """The tutorial's real curves as a band: between ``x^2`` and ``2x^2 + 1`` on its grid.
        Sampled with the same random stream, they are the tutorial's ``a * x^2 + (a - 1)``
        to float rounding (``u = a - 1``)."""
        x = curve_grid(n_points)
        lower, upper = tutorial_bounds(x)
        return cls("between", np.stack([lower, upper]), x.astype(np.float64), name="drawn band")

    # -- what they are ------------------------------------------------------------------------

    @property
    def n_points(self) -> int:
        return int(self.values.shape[1])

    @property
    def n_curves(self) -> int:
        return int(self.values.shape[0])

    @cached_property
    def digest(self) -> str:
        """A hash of what decides the law of a real curve (and the labels): equal curves,
        equal digests."""
        h = hashlib.sha256()
        h.update(f"{self.kind}|{self.noise!r}|{self.values.shape}|".encode())
        h.update(self.values.tobytes())
        h.update(self.x.tobytes())
        if self.labels is not None:
            h.update("\x00".join(self.labels).encode())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Curves) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        extra = f", noise={self.noise:g}" if self.kind == "around" else ""
        return (f"Curves({self.kind}, {self.n_curves} x {self.n_points} points{extra}, "
                f"name={self.name!r})")

    @property
    def on_grid(self) -> bool:
        """Are the x positions the tutorial's grid (evenly on [-1, 1])? Drawn curves are."""
        return bool(np.array_equal(self.x, curve_grid(self.n_points).astype(np.float64)))

    @property
    def is_tutorial(self) -> bool:
        """Is this the tutorial's own band, exactly (:meth:`tutorial`)?"""
        return (self.kind == "between" and self.on_grid
                and np.array_equal(self.values, tutorial_bounds(self.x)))

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the lowest and highest value of a real curve, in the curves' units:
        of the rows, of the two bounds, or of the curves ± ``ENVELOPE_SIGMAS`` noise widths."""
        lower, upper = self.values.min(axis=0), self.values.max(axis=0)
        if self.kind == "around":
            reach = ENVELOPE_SIGMAS * self.noise
            lower, upper = lower - reach, upper + reach
        return lower, upper

    # -- units ---------------------------------------------------------------------------------

    @cached_property
    def offset(self) -> float:
        return self._normalisation[0]

    @cached_property
    def scale(self) -> float:
        """Own units per training unit: a curve ``y`` trains as ``(y - offset) / scale``."""
        return self._normalisation[1]

    @property
    def normalised(self) -> bool:
        """Do the curves train on a normalised copy (they lie far from the tutorial's range)?"""
        return (self.offset, self.scale) != (0.0, 1.0)

    @cached_property
    def _normalisation(self) -> tuple[float, float]:
        lower, upper = self.envelope()
        lo, hi = float(lower.min()), float(upper.max())
        low_spread, high_spread = SPREAD_RANGE
        if max(abs(lo), abs(hi)) <= IN_RANGE and low_spread <= hi - lo <= high_spread:
            return 0.0, 1.0
        return (lo + hi) / 2, (hi - lo) / (2 * NORMALISED_HALF_RANGE)

    def to_training(self, curves: np.ndarray) -> np.ndarray:
        """Curves in own units as the networks see them, float32."""
        if not self.normalised:
            return np.asarray(curves, np.float32)
        return ((np.asarray(curves, np.float64) - self.offset) / self.scale).astype(np.float32)

    def to_own(self, curves: np.ndarray) -> np.ndarray:
        """Curves as the networks paint them, in own units (float32 where nothing changes)."""
        if not self.normalised:
            return np.asarray(curves)
        return np.asarray(curves, np.float64) * self.scale + self.offset

    @cached_property
    def training(self) -> np.ndarray:
        """``values`` as the networks see them, float32, read-only."""
        training = self.to_training(self.values)
        training = np.array(training, np.float32)
        training.setflags(write=False)
        return training

    # -- the law of a real curve -----------------------------------------------------------------

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` real curves ``(n, n_points)``, float32, in training units. A band draws one
        uniform number per curve, exactly as the tutorial's family draws its ``a``."""
        return self.sample_rows(rng, n)[0]

    def sample_rows(self, rng: np.random.Generator,
                    n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """What :meth:`sample` draws, with the row each curve was picked from ``(n,)`` (None
        for a band, whose curves are blends of both rows)."""
        t = self.training
        if self.kind == "between":
            u = rng.random((n, 1), dtype=np.float32)
            return t[0] + u * (t[1] - t[0]), None
        rows = rng.integers(len(t), size=n)
        pick = t[rows]
        if self.kind == "rows":
            return pick, rows
        noise = np.float32(self.noise / self.scale)
        return pick + noise * rng.standard_normal((n, self.n_points), dtype=np.float32), rows

    # -- classes: the labels, for a conditional GAN --------------------------------------------

    @cached_property
    def _classes(self) -> tuple[tuple[str, ...], np.ndarray | None, str | None]:
        """The distinct labels in order, each row's class, and why the curves have no classes
        (None when they have)."""
        if self.labels is None:
            return (), None, ("your data have no labels: a conditional run asks G for a class, "
                              "so give each curve one (a CSV file's first column of text, "
                              "such as bump or dip), or turn Conditional off")
        distinct = sorted(set(self.labels), key=_label_order)
        if len(distinct) < 2:
            return (), None, (f"every curve of your data has the label {distinct[0]!r}: a "
                              "conditional run needs two classes or more")
        if len(distinct) > MAX_CLASSES:
            return (), None, (f"your data have {len(distinct):,} different labels: a "
                              f"conditional run takes 2 to {MAX_CLASSES} classes (group the "
                              "labels into fewer)")
        index = {label: c for c, label in enumerate(distinct)}
        classes = np.array([index[label] for label in self.labels], np.int64)
        classes.setflags(write=False)
        if self.kind == "rows":
            for c, label in enumerate(distinct):
                rows = self.values[classes == c]
                if len(rows) < 2 or not np.ptp(rows, axis=0).any():
                    return (), None, (f"the label {label!r} has a single curve: each class "
                                      "needs two different curves or more to be learned")
        return tuple(distinct), classes, None

    @property
    def classes(self) -> tuple[str, ...]:
        """The distinct labels, in order (numbers by value, text alphabetically): the classes
        a conditional run asks G for. Empty unless there are 2 to ``MAX_CLASSES`` of them, each
        with two different curves or more (see :attr:`class_reason`)."""
        return self._classes[0]

    @property
    def class_names(self) -> tuple[str, ...]:
        """:attr:`classes` as the page names them: each cut to ``CLASS_NAME_CHARS``
        characters (in full where cutting would make two the same)."""
        short = tuple(c if len(c) <= CLASS_NAME_CHARS else c[:CLASS_NAME_CHARS - 1] + "…"
                      for c in self.classes)
        return short if len(set(short)) == len(short) else self.classes

    @property
    def class_reason(self) -> str | None:
        """Why the curves have no classes, or None when they have."""
        return self._classes[2]

    @property
    def row_classes(self) -> np.ndarray | None:
        """Each row's class ``(m,)``, an index into :attr:`classes` (None without classes)."""
        return self._classes[1]

    def of_class(self, c: int) -> Curves:
        """The rows of class ``c`` as curves of their own, in this set's training units: they
        train, sample and are measured as the same rows of this set do (no normalisation of
        their own), so a class's band lies where its rows lie in the whole."""
        classes = self.row_classes
        if classes is None or not 0 <= c < len(self.classes):
            raise DataError(f"class {c!r}: these curves have classes 0 to "
                            f"{len(self.classes) - 1}" if classes is not None
                            else f"class {c!r}: {self.class_reason}")
        rows = classes == c
        part = Curves(self.kind, self.values[rows], self.x, noise=self.noise,
                      labels=tuple(label for label, keep in zip(self.labels or (), rows,
                                                                 strict=True) if keep),
                      name=f"{self.name}, {self.classes[c]}")
        part.__dict__["_normalisation"] = self._normalisation  # the whole's units, not its own
        return part

    # -- drawn curves ------------------------------------------------------------------------------

    def on_points(self, n_points: int) -> Curves:
        """Drawn curves (a band or curves with noise, on the tutorial's grid) at ``n_points``
        instead: each curve's line through its points, read at the new grid. The tutorial's band
        stays exactly itself."""
        if self.kind == "rows" or not self.on_grid:
            raise DataError("only drawn curves (on the grid of evenly spaced x) can move to "
                            "another number of points")
        if n_points == self.n_points:
            return self
        if self.is_tutorial:
            return Curves.tutorial(n_points)
        grid = curve_grid(n_points).astype(np.float64)
        values = np.stack([np.interp(grid, self.x, row) for row in self.values])
        return Curves(self.kind, values, grid, noise=self.noise, labels=self.labels,
                      name=self.name, notes=self.notes, layout=self.layout)


def _label_order(label: str) -> tuple[int, float, str]:
    """Labels that are all numbers sort by value (2 before 10), text alphabetically."""
    try:
        value = float(label)
    except ValueError:
        return 1, 0.0, label
    return (0, value, label) if math.isfinite(value) else (1, 0.0, label)


def _two_rows(lower: Any, upper: Any) -> np.ndarray:
    lower, upper = np.asarray(lower), np.asarray(upper)
    if lower.ndim != 1 or upper.shape != lower.shape:
        raise DataError(f"lower and upper must be two curves of the same length, not shapes "
                        f"{lower.shape} and {upper.shape}")
    return np.stack([lower, upper])


def _checked_table(array: Any, what: str) -> np.ndarray:
    """``array`` as a read-only float64 table ``(m, n)`` of finite values within ±MAX_VALUE,
    ``MIN_POINTS <= n <= MAX_POINTS``, ``1 <= m <= MAX_CURVES``; the first bad cell named."""
    try:
        raw = np.asarray(array)
        if raw.dtype.kind not in "iuf":  # text, booleans, objects: not values of a curve
            raise TypeError(f"its values are of type {raw.dtype}")
        values = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: not a table of numbers ({exc})") from None
    if values.ndim != 2:
        raise DataError(f"{what}: expected a table (rows of points), got shape {values.shape}")
    m, n = values.shape
    if not MIN_POINTS <= n <= MAX_POINTS:
        raise DataError(f"{what}: a curve has {MIN_POINTS} to {MAX_POINTS} points, not {n:,}")
    if not 1 <= m <= MAX_CURVES:
        raise DataError(f"{what}: 1 to {MAX_CURVES:,} curves, not {m:,}")
    bad = ~np.isfinite(values) | (np.abs(values) > MAX_VALUE)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        value = float(values[row, column])
        why = "is not a number" if np.isnan(value) else (
            "is infinite" if np.isinf(value) else f"is beyond ±{MAX_VALUE:g}")
        raise DataError(f"{what}: row {row + 1}, column {column + 1}: {value!r} {why}",
                        row + 1, column + 1)
    values.setflags(write=False)
    return values


def _checked_x(x: Any, n: int) -> np.ndarray:
    try:
        positions = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"x: not a list of numbers ({exc})") from None
    if positions.shape != (n,):
        raise DataError(f"x: one position per point ({n}), not shape {positions.shape}")
    if not np.isfinite(positions).all() or np.abs(positions).max() > MAX_VALUE:
        raise DataError(f"x: positions must be finite numbers within ±{MAX_VALUE:g}")
    if not (np.diff(positions) > 0).all():
        raise DataError("x: positions must increase from each point to the next")
    positions.setflags(write=False)
    return positions


def _default_x(x: Any, n: int) -> np.ndarray:
    return curve_grid(n).astype(np.float64) if x is None else x

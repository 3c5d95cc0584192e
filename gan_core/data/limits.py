"""What curves may be, and the error that says why some may not: shared by :class:`Curves`
and the CSV reader."""

from __future__ import annotations

import numpy as np

MIN_POINTS = 4
MAX_POINTS = 100
"""Points per curve: the range of the model's ``n_points`` (a CSV file holds at most
``csv_file.MAX_COLUMNS``)."""
MAX_CURVES = 10_000
"""Rows of a table, or curves to blur with noise."""
MAX_VALUE = 1e12
"""Largest magnitude of a value or an x position: beyond it float32 training and the readouts'
squares lose what a curve holds."""
MAX_LABEL_CHARS = 100
MAX_CLASSES = 8
"""Distinct labels a conditional run can ask G for: more are too many classes to read apart on
a chart (and for G to learn from one small table)."""


class DataError(ValueError):
    """Curves that cannot be learned, and why. ``row`` and ``column`` (1-based, as a spreadsheet
    numbers them; None where the problem is not one cell's) locate the problem, and the
    message names them."""

    def __init__(self, message: str, row: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.row, self.column = row, column


def curve_grid(n_points: int) -> np.ndarray:
    """The x positions the tutorial samples a curve at: ``n_points`` evenly on [-1, 1]."""
    return np.linspace(-1, 1, n_points, dtype=np.float32)

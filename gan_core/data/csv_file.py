"""Reading curves from a CSV file, safely: anything refused is a :class:`DataError` naming the
row and column, and nothing is guessed without saying so.

The format, one curve per row:

- UTF-8 text (a byte-order mark, as Excel writes, is skipped) with lines ended by LF or CR LF;
- cells separated by commas (a cell may be in double quotes); numbers written with a dot
  (``-1.5``, ``2e-3``); no empty cells, no ``NaN`` or ``inf``: every curve has a value at every
  point;
- 4 to 64 points per curve, every row as many;
- an optional header, the first row: it is one if a cell of it is not a number, or if its cells
  are quoted and the next row's are not. Header cells that are all numbers are the x positions
  of the points (increasing); otherwise the points sit evenly on [-1, 1];
- at most 10,000 curves and 2 MB; at least two different curves (``Curves`` checks).

Files close to that are taken, with a note saying what was left out (``Curves.notes``): a
leading column that numbers the rows (whole numbers counting up by one, such as an id or a
year, or a header cell naming one: id, year, date...), a leading column of text (kept as the
curves' labels), an empty last column (every row ending in a comma), blank lines, header cells
in single or typographic quotes. Semicolon- or tab-separated files, decimal commas, other
encodings and compressed files are refused with what to change.

Reading never holds much more than the file: the bytes are read up to the limit and no
further, lines and cells are counted before they are split, and values go straight into one
array.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from .limits import MAX_CURVES, MAX_VALUE, DataError, curve_grid

MAX_BYTES = 2 * 2**20
MAX_ROWS = MAX_CURVES
MIN_COLUMNS, MAX_COLUMNS = 4, 64
BLANK_LINES = 100
"""Blank lines a file may hold besides its rows (they are skipped)."""
ID_NAMES = frozenset({"", "#", "id", "index", "idx", "no", "n", "row", "key", "sample", "name",
                      "label", "year", "date", "day", "time", "month", "week", "hour"})
"""Header names of a leading column that numbers or names the rows rather than holding a point."""
ID_MIN_ROWS = 10
"""A leading column of whole numbers counting up by one is taken for an id (or a year) from this
many rows on: in fewer, it may well be a curve's first point."""
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PLAIN = r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
_PLAIN_ROW = re.compile(f"{_PLAIN}(?:,{_PLAIN})*")
"""A row of plain numbers: the fast path, one match per row."""
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
_NOT_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
_QUOTE_PAIRS = (("'", "'"), ("‘", "’"), ("“", "”"), ("«", "»"))
SIZE_HINT = "at most 10,000 curves of up to 64 points"


@dataclass(frozen=True)
class Table:
    """What a CSV file holds, read and checked: ``Curves.from_csv`` makes curves of it."""

    values: np.ndarray  # (m, n) float64
    x: np.ndarray  # (n,) float64
    labels: tuple[str, ...] | None
    name: str
    notes: tuple[str, ...]
    layout: tuple[int, int]  # rows before the curves, columns before their first point


def read_csv(source: str | bytes | IO[bytes] | os.PathLike | Any) -> Table:
    """A CSV file's curves, from its text, bytes, binary file object or path (see the
    module). A string is the file's text if it holds a newline or a comma, else a path (give
    an odd path as a ``pathlib.Path``)."""
    data, name = _read_bytes(source)
    text, notes = _decode(data)
    del data
    return _Table(text, name, notes).curves()


# -- bytes and text ----------------------------------------------------------------------------


def _read_bytes(source: Any) -> tuple[bytes, str]:
    """At most ``MAX_BYTES`` of the file, and its name; larger files are refused unread."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source[: MAX_BYTES + 1])
        name, size = "CSV data", len(source)
    elif isinstance(source, str) and ("\n" in source or "," in source or not source):
        if len(source) > MAX_BYTES:  # each character is at least a byte
            raise DataError(f"the text is {len(source) / 2**20:,.1f} MB; a curves file holds "
                            f"at most {MAX_BYTES // 2**20} MB ({SIZE_HINT})")
        data, name, size = source.encode("utf-8", "surrogatepass"), "CSV text", None
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            with path.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
            size = path.stat().st_size
        except OSError as exc:
            raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        name = path.name
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(MAX_BYTES + 1)
        if isinstance(data, str):
            return _read_bytes(data if data else "\n")
        data, name = bytes(data), str(getattr(source, "name", "") or "CSV file")
        size = getattr(source, "size", None)
    else:
        raise DataError(f"expected a CSV file's text, bytes, file object or path, not "
                        f"{type(source).__name__}")
    if len(data) > MAX_BYTES:
        held = f"{size / 2**20:,.1f} MB" if size else f"more than {MAX_BYTES // 2**20} MB"
        raise DataError(f"the file holds {held}; a curves file holds at most "
                        f"{MAX_BYTES // 2**20} MB ({SIZE_HINT})")
    return data, Path(name).name if name else "CSV file"


def _decode(data: bytes) -> tuple[str, list[str]]:
    """The file's text, or a refusal saying what the file is and how to make it a CSV."""
    notes: list[str] = []
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        raise DataError("this is a zip archive (an Excel .xlsx workbook is one too), not a CSV "
                        "text file: export the sheet as CSV (comma-separated), or unzip it")
    if data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")):
        raise DataError("this file is compressed, not a CSV text file: decompress it first")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError("this file is UTF-16 text (Excel's 'Unicode text'): save it as "
                        "'CSV UTF-8 (comma delimited)'")
    if b"\x00" in data:
        raise DataError("this file holds binary data (NUL bytes), not CSV text")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        notes.append("A UTF-8 byte-order mark at the start of the file (as Excel writes) was "
                     "skipped.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"row {line} is not UTF-8 text (byte 0x{data[exc.start]:02X}): save "
                        "the file as 'CSV UTF-8'", line) from None
    if "\r" in text:
        notes.append("Windows line ends (CR LF) were read as line ends." if "\r\n" in text
                     else "Old Mac line ends (CR) were read as line ends.")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, notes


# -- the table ----------------------------------------------------------------------------------


@dataclass
class _Cell:
    text: str
    quoted: bool


class _Table:
    """One pass over the rows: numbers into one array, the first column kept aside until it is
    known whether it holds points."""

    def __init__(self, text: str, name: str, notes: list[str]) -> None:
        self.name, self.notes = name, notes
        lines = text.count("\n") + 1
        if lines > MAX_ROWS + 1 + BLANK_LINES:
            raise DataError(f"the file has {lines:,} lines; a curves file holds {SIZE_HINT} "
                            "(one per row, after an optional header row)")
        self.lines = text.split("\n")
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        if not self.lines:
            raise DataError("the file is empty: it holds no curves")

    def curves(self) -> Table:
        rows = [(i + 1, line) for i, line in enumerate(self.lines) if line.strip()]
        blank = len(self.lines) - len(rows)
        if blank:
            self.notes.append(f"{blank} blank line{'s' if blank > 1 else ''} "
                              f"{'were' if blank > 1 else 'was'} skipped.")
        first_row, first = rows[0]
        _check_separator(first, first_row)
        head = self._cells(first, first_row)
        header: list[_Cell] | None = None
        if len(rows) > 1:
            if _is_header(head, self._cells(rows[1][1], rows[1][0])):
                header, rows = head, rows[1:]
        elif any(_number(c.text) is None for c in head):
            raise DataError("the file has a header row but no curves")
        if len(rows) > MAX_ROWS:
            raise DataError(f"the file has {len(rows):,} curves; a curves file holds "
                            f"{SIZE_HINT}")
        top = self._cells(rows[0][1], rows[0][0])
        width = len(top)
        trailing = width > 1 and not top[-1].text.strip() and (
            header is None or not header[-1].text.strip())
        if header is not None and len(header) != width:
            raise DataError(f"row {rows[0][0]} has {width} cells, but the header (row "
                            f"{first_row}) has {len(header)}", rows[0][0])
        width -= trailing
        if width - 1 > MAX_COLUMNS or width < 2:
            raise DataError(f"row {rows[0][0]} has {width:,} cell{'s' if width != 1 else ''}; "
                            f"a curve has {MIN_COLUMNS} to {MAX_COLUMNS} points, one per "
                            "column, with commas between them", rows[0][0])
        values = np.empty((len(rows), width))
        first_texts: list[str] = []
        first_text_at: tuple[int, int] | None = None  # (its row, curves with a number before)
        for k, (row, line) in enumerate(rows):
            cells = self._row_values(line, row, width, trailing)
            if isinstance(cells[0], str):  # only the first column may hold text
                first_texts.append(cells[0])
                if first_text_at is None:
                    first_text_at = (row, k)
                cells[0] = np.nan
            values[k] = cells
        if trailing:
            self.notes.append("Every row ends with a comma: the empty last column was left out.")
        return self._build(values, header, rows, first_texts, first_text_at)

    def _build(self, values: np.ndarray, header: list[_Cell] | None,
               rows: list[tuple[int, str]], first_texts: list[str],
               first_text_at: tuple[int, int] | None) -> Table:
        labels = None
        drop = self._first_column_role(values, header, rows, first_texts, first_text_at)
        if drop == "labels":
            labels = tuple(first_texts)
        points = values[:, 1:] if drop else values
        if drop and points.shape[1] == 0:
            raise DataError("the file holds no points besides its first column")
        n = points.shape[1]
        if not MIN_COLUMNS <= n <= MAX_COLUMNS:
            raise DataError(f"a curve has {MIN_COLUMNS} to {MAX_COLUMNS} points, one per "
                            f"column, but these rows have {n}")
        big = np.abs(points) > MAX_VALUE
        if big.any():
            k, j = (int(i) for i in np.argwhere(big)[0])
            column = j + 1 + bool(drop)
            raise DataError(f"row {rows[k][0]}, column {column}: {points[k, j]:g} is beyond "
                            f"±{MAX_VALUE:g}, too large to train on", rows[k][0], column)
        x = self._positions(header, bool(drop), n)
        if x is None:
            x = curve_grid(n).astype(np.float64)
        return Table(points, x, labels, self.name, tuple(self.notes),
                     (int(header is not None), int(bool(drop))))

    def _first_column_role(self, values: np.ndarray, header: list[_Cell] | None,
                           rows: list[tuple[int, str]], first_texts: list[str],
                           first_text_at: tuple[int, int] | None) -> str | None:
        """``"labels"`` or ``"id"`` if the first column is dropped (and noted), else None."""
        head_name = _unquoted(header[0].text).strip() if header is not None else None
        shown = f" ({head_name!r})" if head_name else ""
        if first_text_at is not None:
            row, count = first_text_at
            if count or len(first_texts) != len(rows):  # numbers and text mixed: a typo
                bad = first_texts[0]
                raise DataError(f"row {row}, column 1: {_shown(bad)} is not a number", row, 1)
            if any(not t.strip() for t in first_texts):
                self.notes.append(f"The first column{shown} is empty: it was left out.")
                return "id"
            self.notes.append(f"The first column{shown} holds text, not points: it was kept as "
                              "the curves' labels and left out of the curves.")
            return "labels"
        first = values[:, 0]
        if header is not None:
            rest_numeric = all(_number(_unquoted(c.text)) is not None for c in header[1:])
            if _number(_unquoted(header[0].text)) is None and (
                    rest_numeric or head_name.lower() in ID_NAMES):
                self.notes.append(f"The first column{shown} names the rows (its header is not "
                                  "a position): it was left out of the curves.")
                return "id"
        counting = (len(first) >= ID_MIN_ROWS and values.shape[1] > MIN_COLUMNS
                    and bool(np.all(first == np.round(first)))
                    and bool(np.all(np.diff(first) == 1)))
        if counting and (header is None or _number(_unquoted(header[0].text)) is None):
            self.notes.append(f"The first column{shown} counts {first[0]:g} to {first[-1]:g}, up "
                              "by one a row (an id or a year), so it was left out of the curves.")
            return "id"
        return None

    def _positions(self, header: list[_Cell] | None, dropped: bool, n: int) -> np.ndarray | None:
        if header is None:
            return None
        cells = header[1:] if dropped else header
        cells = cells[:n]
        quoted = [c.text.strip() for c in cells if _unquoted(c.text.strip()) != c.text.strip()]
        if quoted:
            self.notes.append(f"The header's cells were in quotes ({_shown(quoted[0])}); the "
                              "quotes were removed.")
        numbers = [_number(_unquoted(c.text)) for c in cells]
        if any(v is None for v in numbers):
            self.notes.append("The first row is a header of names, not positions: the points "
                              "sit evenly on [-1, 1].")
            return None
        x = np.array(numbers, np.float64)
        if not (np.diff(x) > 0).all():
            j = int(np.argmax(np.diff(x) <= 0)) + 1
            column = j + 1 + dropped
            raise DataError(f"row 1, column {column}: the header's positions must increase from "
                            f"column to column, but {x[j]:g} follows {x[j - 1]:g}", 1, column)
        if np.abs(x).max() > MAX_VALUE:
            raise DataError(f"row 1: the header's positions must lie within ±{MAX_VALUE:g}", 1)
        self.notes.append(f"The header's numbers are the points' positions, x from {x[0]:g} to "
                          f"{x[-1]:g}.")
        return x

    # -- one row ----------------------------------------------------------------------------

    @staticmethod
    def _cells(line: str, row: int) -> list[_Cell]:
        if line.count(",") > MAX_COLUMNS + 2:
            raise DataError(f"row {row} has {line.count(',') + 1:,} cells; a curve has at most "
                            f"{MAX_COLUMNS} points, one per column", row)
        return _split(line, row)

    def _row_values(self, line: str, row: int, width: int,
                    trailing: bool) -> list[float | str]:
        """The row's numbers; the first cell as text if it is not one (decided later)."""
        expected = width + trailing
        if '"' not in line and _PLAIN_ROW.fullmatch(line):
            parts = line.split(",")
            if len(parts) == expected and not trailing:
                return [float(p) for p in parts]
        cells = self._cells(line, row)
        if len(cells) != expected:
            raise DataError(f"row {row} has {len(cells)} cells, but the first row has "
                            f"{expected}: every curve needs a value at every point", row)
        if trailing:
            if cells[-1].text.strip():
                raise DataError(f"row {row}, column {expected}: the rows above leave the last "
                                "column empty, this one does not", row, expected)
            cells = cells[:-1]
        out: list[float | str] = []
        for column, cell in enumerate(cells, start=1):
            value = _number(cell.text)
            if value is not None:
                out.append(value)
            elif column == 1:
                out.append(cell.text.strip())
            else:
                raise DataError(_why_not_a_number(cell.text, row, column), row, column)
        return out


# -- cells ---------------------------------------------------------------------------------------


def _check_separator(line: str, row: int) -> None:
    commas, semicolons, tabs = line.count(","), line.count(";"), line.count("\t")
    if semicolons >= MIN_COLUMNS - 1:
        raise DataError(f"row {row}: cells are separated by semicolons, as spreadsheets set to "
                        "a language that writes 1,5 for 1.5 export them: save as CSV with "
                        "commas between cells and dots in numbers", row)
    if tabs >= MIN_COLUMNS - 1 and tabs > commas:
        raise DataError(f"row {row}: cells are separated by tabs (a TSV file): save as CSV, "
                        "with commas between cells", row)
    if commas == 0:
        raise DataError(f"row {row} has 1 cell: a curve has {MIN_COLUMNS} to {MAX_COLUMNS} "
                        "points, one per column, with commas between them", row)


def _split(line: str, row: int) -> list[_Cell]:
    """A line's cells, double quotes as CSV has them (``""`` inside a quoted cell is ``"``)."""
    cells: list[_Cell] = []
    i, n = 0, len(line)
    while True:
        j = i
        while j < n and line[j] in " \t":
            j += 1
        if j < n and line[j] == '"':
            parts, k = [], j + 1
            while True:
                q = line.find('"', k)
                if q < 0:
                    raise DataError(f"row {row}, column {len(cells) + 1}: a quote is opened but "
                                    "never closed", row, len(cells) + 1)
                parts.append(line[k:q])
                if line.startswith('"', q + 1):
                    parts.append('"')
                    k = q + 2
                    continue
                k = q + 1
                break
            while k < n and line[k] in " \t":
                k += 1
            if k < n and line[k] != ",":
                raise DataError(f"row {row}, column {len(cells) + 1}: text follows a closing "
                                "quote", row, len(cells) + 1)
            cells.append(_Cell("".join(parts), True))
            if k >= n:
                return cells
            i = k + 1
        else:
            comma = line.find(",", i)
            if comma < 0:
                cells.append(_Cell(line[i:], False))
                return cells
            cells.append(_Cell(line[i:comma], False))
            i = comma + 1


def _number(text: str) -> float | None:
    """The cell's number, if it is one as this format writes numbers."""
    text = text.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def _unquoted(text: str) -> str:
    """A header cell without single or typographic quotes around it."""
    stripped = text.strip()
    for left, right in _QUOTE_PAIRS:
        if len(stripped) >= 2 and stripped.startswith(left) and stripped.endswith(right):
            return stripped[1:-1].strip()
    return stripped


def _is_header(first: list[_Cell], second: list[_Cell]) -> bool:
    """The first row is a header if where a curve's first value would be it holds a name (or
    nothing), if at least half its cells are names, if it holds numbers in single or
    typographic quotes (positions), or if its cells are quoted and the next row's are not. A
    row of numbers with a few bad cells is a curve, and its bad cells are refused."""
    names = [_number(c.text) is None and _number(_unquoted(c.text)) is None for c in first]
    if names[0] or 2 * sum(names) >= len(names):
        return True
    if any(_number(_unquoted(c.text)) is not None and _number(c.text) is None for c in first):
        return True
    return all(c.quoted for c in first) and not any(c.quoted for c in second)


def _why_not_a_number(text: str, row: int, column: int) -> str:
    where = f"row {row}, column {column}"
    stripped = text.strip()
    if not stripped:
        return f"{where} is empty: every curve needs a value at every point"
    if _NOT_FINITE.fullmatch(stripped):
        return (f"{where}: {_shown(stripped)} is not a number a curve can hold: every point "
                "needs a finite value")
    if _DECIMAL_COMMA.fullmatch(stripped):
        return (f"{where}: {_shown(stripped)} has a decimal comma: write numbers with a dot "
                "(1.5, not 1,5)")
    return f"{where}: {_shown(stripped)} is not a number"


def _shown(text: str, most: int = 30) -> str:
    shown = repr(text)
    return shown if len(shown) <= most else shown[: most - 4] + "…" + shown[-3:]

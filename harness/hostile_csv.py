"""Hostile and odd CSV files of curves, built here, and a fresh process to read one in and
measure, as ``harness/hostile_uploads.py`` does for checkpoints.

Each file is either refused (with what the refusal says) or taken (with what its note says).
``tests/test_data_csv.py`` holds the reader to that; ``benchmarks/csv_uploads.py`` measures the
memory and time each costs.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.peak_memory import probe, run_probe

ROOT = Path(__file__).resolve().parents[1]
MEMORY_BOUND_MB = 64
"""Peak RSS reading a file may add to a fresh process, whatever the file."""
UPLOAD_LIMIT = 16 * 2**20
"""What Streamlit's server takes in one upload (``server.maxUploadSize``): the most a crafted
request can hand the reader in memory; the uploader itself sends at most 2 MB."""


def _table(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    return np.round(np.random.default_rng(seed).standard_normal((rows, columns)), 3)


def _csv(table: np.ndarray, header: str | None = None, end: str = "\n") -> bytes:
    lines = ([header] if header is not None else []) + [
        ",".join(f"{v:g}" for v in row) for row in table]
    return (end.join(lines) + end).encode()


def plain() -> bytes:
    """A genuine file: 200 curves of 15 points, no header."""
    return _csv(_table(200, 15))


def with_cell(text: str, row: int = 3, column: int = 5) -> Callable[[], bytes]:
    """A genuine file with one cell (1-based) replaced by ``text``."""
    def build() -> bytes:
        lines = plain().decode().splitlines()
        cells = lines[row - 1].split(",")
        cells[column - 1] = text
        lines[row - 1] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode()
    return build


def ragged() -> bytes:
    lines = plain().decode().splitlines()
    lines[6] = ",".join(lines[6].split(",")[:-2])
    return ("\n".join(lines) + "\n").encode()


def one_column() -> bytes:
    return _csv(_table(100, 1))


def columns_100k() -> bytes:
    row = ",".join(["1"] * 100_000)
    return f"{row}\n{row}\n".encode()


def rows_1m() -> bytes:
    """A million curves of four points: 8 MB."""
    return b"1,2,3,4\n" * 1_000_000


def rows_20k() -> bytes:
    """20,000 short curves: under 2 MB, past 10,000 curves."""
    return _csv(np.tile(np.arange(4.0), (20_000, 1)) + np.arange(20_000)[:, None] % 7)


def huge_values() -> bytes:
    table = _table(50, 8)
    table[10, 3] = 1e300
    return _csv(table)


def identical_rows() -> bytes:
    return _csv(np.tile(np.linspace(0, 1, 10), (300, 1)))


def semicolons() -> bytes:
    """As spreadsheets in many European languages export: semicolons and decimal commas."""
    return "\n".join(";".join(f"{v:.2f}".replace(".", ",") for v in row)
                     for row in _table(50, 8)).encode() + b"\n"


def tabs() -> bytes:
    return "\n".join("\t".join(f"{v:g}" for v in row) for row in _table(50, 8)).encode() + b"\n"


def utf16() -> bytes:
    return codecs.BOM_UTF16_LE + plain().decode().encode("utf-16-le")


def binary() -> bytes:
    return bytes(range(256)) * 100


def zip_bomb() -> bytes:
    """A zip archive (named .csv by ``write_files``) inflating to 256 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("curves.csv", "w") as entry:
        chunk = bytes(2**20)
        for _ in range(256):
            entry.write(chunk)
    return buffer.getvalue()


def bom() -> bytes:
    return codecs.BOM_UTF8 + plain()


def crlf() -> bytes:
    return _csv(_table(200, 15), end="\r\n")


def leading_id() -> bytes:
    table = _table(40, 12)
    return "\n".join(f"{i}," + ",".join(f"{v:g}" for v in row)
                     for i, row in enumerate(table, start=1)).encode() + b"\n"


def year_header() -> bytes:
    table = _table(30, 12)
    lines = ["year," + ",".join(str(m) for m in range(1, 13))]
    lines += [f"{1990 + i}," + ",".join(f"{v:g}" for v in row) for i, row in enumerate(table)]
    return ("\n".join(lines) + "\n").encode()


def quoted_header() -> bytes:
    return _csv(_table(30, 6), header=",".join(f'"t{k}"' for k in range(6)))


def single_quoted_positions() -> bytes:
    return _csv(_table(30, 6), header=",".join(f"'{x}'" for x in (0, 2, 4, 6, 8, 10)))


def label_column() -> bytes:
    table = _table(30, 8)
    lines = ["city," + ",".join(f"h{k}" for k in range(8))]
    lines += [f"c{i % 3}," + ",".join(f"{v:g}" for v in row) for i, row in enumerate(table)]
    return ("\n".join(lines) + "\n").encode()


def largest() -> bytes:
    """The largest genuine file: 10,000 curves of 64 points, one digit each (1.2 MB)."""
    values = np.random.default_rng(1).integers(0, 10, (10_000, 64))
    return ("\n".join(",".join(map(str, row)) for row in values) + "\n").encode()


@dataclass(frozen=True)
class Odd:
    build: Callable[[], bytes]
    says: str
    """What the refusal says, or for a file that is taken, what its notes say ("" for none)."""
    taken: bool = False


HOSTILE: dict[str, Odd] = {
    "NaN cell": Odd(with_cell("NaN"), "row 3, column 5: 'NaN' is not a number a curve can hold"),
    "inf cell": Odd(with_cell("inf"), "row 3, column 5: 'inf' is not a number a curve can hold"),
    "text cell": Odd(with_cell("high"), "row 3, column 5: 'high' is not a number"),
    "empty cell": Odd(with_cell(""), "row 3, column 5 is empty"),
    "ragged rows": Odd(ragged, "row 7 has 13 cells, but the first row has 15"),
    "one column": Odd(one_column, "row 1 has 1 cell"),
    "100,000 columns": Odd(columns_100k, "row 1 has 100,000 cells"),
    "1,000,000 rows": Odd(rows_1m, "the file holds 7.6 MB; a curves file holds at most 2 MB"),
    "20,000 rows": Odd(rows_20k, "the file has 20,001 lines"),
    "values of 1e300": Odd(huge_values, "row 11, column 4: 1e+300 is beyond ±1e+12"),
    "every row identical": Odd(identical_rows, "every row is the same curve"),
    "semicolons and decimal commas": Odd(semicolons, "row 1: cells are separated by semicolons"),
    "tab separated": Odd(tabs, "row 1: cells are separated by tabs"),
    "UTF-16 text": Odd(utf16, "UTF-16 text"),
    "binary data": Odd(binary, "binary data"),
    "zip bomb renamed .csv": Odd(zip_bomb, "this is a zip archive"),
    "100 MB file": Odd(lambda: b"", "the file holds 100.0 MB; a curves file holds at most 2 MB"),
}
"""Files refused, and what refuses each (the 100 MB file is written by ``write_files``)."""

ODD_BUT_TAKEN: dict[str, Odd] = {
    "UTF-8 BOM": Odd(bom, "byte-order mark", True),
    "Windows line ends": Odd(crlf, "Windows line ends", True),
    "leading id column": Odd(leading_id, "The first column counts 1 to 40", True),
    "year column in a header": Odd(year_header, "The first column ('year') names the rows",
                                   True),
    "quoted header": Odd(quoted_header, "header of names", True),
    "single-quoted positions": Odd(single_quoted_positions, "quotes were removed", True),
    "label column": Odd(label_column, "kept as the curves' labels", True),
    "largest genuine file": Odd(largest, "", True),
}
"""Files close to the format, taken with a note of what was left out."""


def write_files(folder: Path) -> dict[str, Path]:
    """Every file of ``HOSTILE`` and ``ODD_BUT_TAKEN`` in ``folder``, by name."""
    paths = {}
    for name, odd in {**HOSTILE, **ODD_BUT_TAKEN}.items():
        path = folder / (name.replace(" ", "-").replace(",", "").replace(".", "") + ".csv")
        if name == "100 MB file":
            with path.open("wb") as f:
                row = b"1.5,2.5,3.5,4.5\n"
                chunk = row * (2**20 // len(row))
                for _ in range(100):
                    f.write(chunk)
                f.truncate(100 * 2**20)
        else:
            path.write_bytes(odd.build())
        paths[name] = path
    return paths


# -- reading a file in a fresh process ------------------------------------------------------------

PROBE = probe("""
import io
import numpy
from gan_core.data import Curves, DataError as Refusal

path, how = sys.argv[1], sys.argv[2]
source = path
if how == "upload":  # as the server holds an upload: its bytes in memory, up to its limit
    with open(path, "rb") as f:
        source = io.BytesIO(f.read(int(sys.argv[3])))

def attempt():
    curves = Curves.from_csv(source)
    return f"taken: {curves.n_curves} curves of {curves.n_points} points"
""")
"""Reads one file with this tree's ``gan_core`` (from its path, or as an upload held in
memory) and prints the outcome, the time and the peak RSS the reading added."""


def measure(path: Path, how: str = "path") -> dict[str, Any]:
    """Read ``path`` in a fresh Python: ``how`` is ``"path"`` (the library's capped read) or
    ``"upload"`` (the file's first ``UPLOAD_LIMIT`` bytes in memory, as the server holds an
    upload; they are counted in the baseline, as the server holds them before reading)."""
    return run_probe(PROBE, [str(path), how, str(UPLOAD_LIMIT)], ROOT, timeout=300)

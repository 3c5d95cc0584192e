"""What each of a set of files costs a fresh process, measured one or more ways (from its path,
as an upload, with the loader as it was...): the loop, the Markdown table and the verdict of
``benchmarks/uploads.py`` (checkpoints) and ``benchmarks/csv_uploads.py`` (CSV files)."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Result = dict[str, Any]
"""One file's: its size in ``bytes``, and by way the outcome, ``peak_mb`` and ``seconds``
(``harness/peak_memory.py``)."""
Way = Callable[[Path], dict[str, Any]]


@dataclass(frozen=True)
class Column:
    """A column of the table: its heading and its cell of one file's result."""

    heading: str
    cell: Callable[[Result], str]
    number: bool = True
    """Right-aligned; an outcome is text."""


def cost(way: str, headings: tuple[str, str], seconds: str, peak: str = ".1f") -> list[Column]:
    """The peak MB and the seconds of ``way``, under ``headings``, formatted ``peak`` and
    ``seconds``."""
    return [Column(headings[0], lambda r: format(r[way]["peak_mb"], peak)),
            Column(headings[1], lambda r: format(r[way]["seconds"], seconds))]


def short(outcome: str, most: int) -> str:
    return outcome if len(outcome) <= most else outcome[: most - 1] + "…"


def run(doc: str, files: Callable[[Path], dict[str, Path]],
         ways: Callable[[Path], dict[str, Way]], title: str, columns: Sequence[Column],
         verdict: Callable[[dict[str, Result]], tuple[str, bool]]) -> None:
    """Measure every file ``files`` writes into a temporary folder each of the ``ways`` (made
    first, in the same folder), print ``title`` and the table, then the verdict's line; write
    the results as JSON with ``--json PATH``; exit 1 if the verdict is not met."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        measures = ways(folder)
        for name, path in files(folder).items():
            results[name] = {"bytes": path.stat().st_size,
                             **{way: measure(path) for way, measure in measures.items()}}
    print(title)
    print("| file | size | " + " | ".join(c.heading for c in columns) + " |")
    print("|---|---:|" + "".join("---:|" if c.number else "---|" for c in columns))
    for name, r in results.items():
        print(f"| {name} | {r['bytes'] / 1000:,.0f} KB | "
              + " | ".join(c.cell(r) for c in columns) + " |")
    line, met = verdict(results)
    print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not met:
        raise SystemExit(1)

"""What reading a CSV file of curves costs the server, hostile or not.

Each file of ``harness/hostile_csv.py`` (refused, and close to the format but taken, the largest
genuine file among them) is read with ``Curves.from_csv`` in a fresh process that has imported
numpy and ``gan_core`` before the baseline, as the server has, twice: from its path (the
library's capped read) and as an upload held in memory (the file's first 16 MB, Streamlit's
``server.maxUploadSize``, counted in the baseline as the server holds them before reading).
Reported: the outcome, the peak RSS the reading added (VmHWM after it minus VmRSS before it,
the peak reset first) and the time, as ``benchmarks/uploads.py`` measures checkpoints.

    python -m benchmarks.csv_uploads [--json PATH]

Exits 1 if a reading adds more than ``MEMORY_BOUND_MB`` or a file is not refused or taken as
the harness says.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.file_costs import Column, Result, Way, cost, run, short
from harness.hostile_csv import HOSTILE, MEMORY_BOUND_MB, ODD_BUT_TAKEN, measure, write_files

COLUMNS = [Column("outcome", lambda r: short(r["path"]["outcome"], 64), number=False),
           *cost("path", ("from its path: peak MB", "s"), ".3f"),
           *cost("upload", ("as an upload: peak MB", "s"), ".3f")]


def ways(_folder: Path) -> dict[str, Way]:
    return {"path": lambda path: measure(path, "path"),
            "upload": lambda path: measure(path, "upload")}


def verdict(results: dict[str, Result]) -> tuple[str, bool]:
    worst = max(max(r["path"]["peak_mb"], r["upload"]["peak_mb"]) for r in results.values())
    as_said = all(r[how]["outcome"].startswith(
        "taken" if name in ODD_BUT_TAKEN else "refused") for name, r in results.items()
        for how in ("path", "upload"))
    return (f"largest peak {worst:.1f} MB (bound {MEMORY_BOUND_MB} MB); {len(HOSTILE)} hostile "
            f"files {'refused' if as_said else 'NOT AS SAID'}, {len(ODD_BUT_TAKEN)} odd ones "
            "taken", worst <= MEMORY_BOUND_MB and as_said)


def main() -> None:
    run(__doc__, write_files, ways,
        "reading each file in a fresh process (numpy and gan_core imported first); peak RSS "
        "added by the reading", COLUMNS, verdict)


if __name__ == "__main__":
    main()

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

import argparse
import json
import tempfile
from pathlib import Path

from harness.hostile_csv import HOSTILE, MEMORY_BOUND_MB, ODD_BUT_TAKEN, measure, write_files


def short(outcome: str, most: int = 64) -> str:
    return outcome if len(outcome) <= most else outcome[: most - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in write_files(Path(tmp)).items():
            results[name] = {"bytes": path.stat().st_size, "path": measure(path, "path"),
                             "upload": measure(path, "upload")}
    print("reading each file in a fresh process (numpy and gan_core imported first); peak RSS "
          "added by the reading")
    print("| file | size | outcome | from its path: peak MB | s | as an upload: peak MB | s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, r in results.items():
        p, u = r["path"], r["upload"]
        print(f"| {name} | {r['bytes'] / 1000:,.0f} KB | {short(p['outcome'])} "
              f"| {p['peak_mb']:.1f} | {p['seconds']:.3f} | {u['peak_mb']:.1f} "
              f"| {u['seconds']:.3f} |")
    worst = max(max(r["path"]["peak_mb"], r["upload"]["peak_mb"]) for r in results.values())
    as_said = all(r[how]["outcome"].startswith(
        "taken" if name in ODD_BUT_TAKEN else "refused") for name, r in results.items()
        for how in ("path", "upload"))
    print(f"largest peak {worst:.1f} MB (bound {MEMORY_BOUND_MB} MB); {len(HOSTILE)} hostile "
          f"files {'refused' if as_said else 'NOT AS SAID'}, {len(ODD_BUT_TAKEN)} odd ones taken")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not (worst <= MEMORY_BOUND_MB and as_said):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

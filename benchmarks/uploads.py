"""What an uploaded checkpoint costs the server to load, hostile or not, before and after
uploads were bounded before they are parsed.

Each file of ``tests/test_checkpoint_hostile.py`` (built there, each under the 16 MB upload
limit), a genuine checkpoint in each format and one of the largest allowed model are loaded with
``Trainer.load`` in a fresh process, once with the code of ``BEFORE`` (plain ``torch.load(...,
weights_only=True)``, then checks) and once with this tree's. Both processes import torch before
the baseline, as a server that has saved a checkpoint has. Reported: the outcome, the peak RSS
the load added (VmHWM after the load minus VmRSS before it, the peak reset first), and the time.
A loader that would take all the machine's memory is stopped by an address-space limit of
``LIMIT_GB``.

    python -m benchmarks.uploads [--json PATH]

Exits 1 if a load of this tree's adds more than ``MEMORY_BOUND_MB`` or a genuine file fails.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from benchmarks.file_costs import Column, Result, Way, cost, run, short
from gan_core import GANConfig, Trainer
from harness.hostile_uploads import (
    HOSTILE,
    MEMORY_BOUND_MB,
    ROOT,
    V1_FILE,
    measure,
    v2_bytes,
    write_hostile_files,
)

BEFORE = "2c97e90"
"""The last commit whose loader ran ``torch.load`` on the upload as it came."""
LIMIT_GB = 8
GENUINE = ("genuine (format 2)", "genuine (format 1)", "largest model")


def files(folder: Path) -> dict[str, Path]:
    paths = write_hostile_files(folder)
    paths["genuine (format 2)"] = folder / "genuine.pt"
    paths["genuine (format 2)"].write_bytes(v2_bytes())
    paths["genuine (format 1)"] = V1_FILE
    paths["largest model"] = folder / "largest.pt"
    Trainer(GANConfig(hidden=512, n_points=100, latent_dim=64)).save(paths["largest model"])
    return paths


def code_at(commit: str, folder: Path) -> Path:
    """The repository's code as of ``commit``, unpacked into ``folder``."""
    archive = subprocess.run(["git", "archive", commit, "gan_core"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def shorter(outcome: str, most: int = 70) -> str:
    for prefix in ("not a GAN Curve Lab checkpoint: ", "not a valid checkpoint: "):
        outcome = outcome.replace(prefix, "")
    return short(outcome, most)


COLUMNS = [Column("before: outcome", lambda r: shorter(r["before"]["outcome"], 45),
                  number=False),
           *cost("before", ("before: peak MB", "before: s"), ".2f", ",.1f"),
           Column("after: outcome", lambda r: shorter(r["after"]["outcome"]), number=False),
           *cost("after", ("after: peak MB", "after: s"), ".2f", ",.1f")]


def ways(folder: Path) -> dict[str, Way]:
    """The loader as it was (``BEFORE``, unpacked into ``folder``) and this tree's."""
    before_code = code_at(BEFORE, folder / "before")
    return {"before": lambda path: measure(path, before_code, with_torch=True,
                                           memory_limit=LIMIT_GB * 2**30),
            "after": lambda path: measure(path, ROOT, with_torch=True)}


def verdict(results: dict[str, Result]) -> tuple[str, bool]:
    worst = max(r["after"]["peak_mb"] for r in results.values())
    genuine_ok = all(results[n]["after"]["outcome"].startswith("loaded") for n in GENUINE)
    hostile_refused = all(results[n]["after"]["outcome"].startswith("refused") for n in HOSTILE)
    return (f"after: largest peak {worst:.1f} MB (bound {MEMORY_BOUND_MB} MB), genuine files "
            f"{'load' if genuine_ok else 'FAIL'}, hostile files "
            f"{'refused' if hostile_refused else 'NOT ALL REFUSED'}",
            worst <= MEMORY_BOUND_MB and genuine_ok and hostile_refused)


def main() -> None:
    run(__doc__, files, ways,
        f"loading each file in a fresh process (torch imported first), before ({BEFORE}) "
        "and after; peak RSS added by the load", COLUMNS, verdict)


if __name__ == "__main__":
    main()

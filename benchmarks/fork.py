"""What a ghost costs: training steps of a run with a ghost against the same run without one.

At the tutorial's settings (``GANConfig()``), after warm-up steps, one trainer takes a live change
(``reconfigure``) and its twin takes the same change with a ghost (``fork``); both then train in
alternating slices, single-threaded, and the ratio of their times is reported per round (median)
and overall, in wall and CPU time. Two changes are measured: a learning rate (the ghost is a
second member of the live stack) and the batch size (the ghost is a second trainer in lockstep).
The times include everything ``Trainer.train`` does: history, evaluations every 100 steps, and
snapshots.

    python -m benchmarks.fork [--rounds 5] [--steps 1000] [--slice 100] [--json PATH]
"""

from __future__ import annotations

import os

# Before numpy loads its BLAS: tiny matrices, one thread.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.side_by_side import print_table, side_by_side
from gan_core import GANConfig, Trainer

CHANGES = {"lr_g": 1e-3, "batch_size": 128}
"""A change of each kind: a per-member setting (stacked ghost), a shared one (second trainer)."""


def pair(field: str, value: object, warmup: int) -> dict[str, Trainer]:
    """A run that took the change, and the same run that took it with a ghost."""
    config = GANConfig()
    plain, forked = Trainer(config), Trainer(config)
    for trainer in (plain, forked):
        trainer.train(warmup)
    plain.reconfigure(config.replace(**{field: value}))
    forked.fork(config.replace(**{field: value}))
    return {f"{field}: no ghost": plain, f"{field}: with a ghost": forked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000, help="steps of each per round")
    parser.add_argument("--slice", type=int, default=100, dest="slice_steps")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, 1 thread, load average {os.getloadavg()[0]:.1f}; "
          f"{args.rounds} rounds of {args.steps} steps in slices of {args.slice_steps}")
    report = {}
    for field, value in CHANGES.items():
        trainers = pair(field, value, args.warmup)
        kind = "stacked twin" if next(reversed(trainers.values())).ghost.stacked \
            else "second trainer"
        print(f"{field} -> {value} (ghost: {kind})")
        results = side_by_side({name: t.train for name, t in trainers.items()}, args.rounds,
                               args.steps, args.slice_steps)
        if any(t.diverged or (t.ghost is not None and t.ghost.diverged)
               for t in trainers.values()):
            raise SystemExit("a run diverged: the timing is invalid")
        print_table(results)
        report[field] = {"ghost": kind, **results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

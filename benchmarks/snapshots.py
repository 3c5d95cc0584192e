"""What snapshots cost: training speed with and without them, side by side, and their memory.

Speed: two trainers at the tutorial's settings train in alternating slices, single-threaded; one
keeps snapshots as every trainer does (one every 100 steps early in a run, fewer later), the
other never takes one. Then the cost of one snapshot, of looking at an earlier step (``at``)
and of going back to it (``rewind``).

Memory: the bytes a run's snapshots hold after a long run, measured (array bytes, and the
memory the store holds as Python objects, through tracemalloc), against the bound
``snapshots.max_snapshot_memory`` states, for the default and the largest model.

    python -m benchmarks.snapshots [--rounds 5] [--steps 1000] [--memory-steps 12400]
"""

from __future__ import annotations

import os

# Before numpy loads its BLAS: tiny matrices, one thread.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse
import copy
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.side_by_side import print_table, side_by_side
from gan_core import GANConfig, Trainer
from gan_core.training.snapshots import (
    Snapshot,
    Snapshots,
    max_snapshot_memory,
    snapshot_bytes,
    snapshot_capacity,
)

LARGEST = GANConfig(hidden=512, n_points=100, latent_dim=64)


def without_snapshots(trainer: Trainer) -> Trainer:
    """The same trainer, but its snapshot store never comes due after the first."""
    trainer._snapshots = Snapshots(trainer._snapshots.capacity, stride=2**62)
    trainer._snapshots.add(Snapshot(trainer.state()))
    trainer._due = trainer._next_due()
    return trainer


def per_call_ms(work, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        work()
    return 1e3 * (time.process_time() - start) / n


def memory(config: GANConfig, steps: int) -> dict[str, int]:
    trainer = Trainer(config)
    trainer.train(steps)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = copy.deepcopy(trainer._snapshots)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert store.steps == trainer.snapshots
    return {"steps": steps, "snapshots": len(trainer.snapshots),
            "array_bytes": trainer.snapshot_bytes, "traced_bytes": held,
            "bound_per_snapshot": snapshot_bytes(config),
            "capacity": snapshot_capacity(config), "bound": max_snapshot_memory(config)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000, help="steps of each per round")
    parser.add_argument("--slice", type=int, default=100, dest="slice_steps")
    parser.add_argument("--memory-steps", type=int, default=12_400,
                        help="run length for the memory of the default model (12,400: the "
                        "most snapshots, just before a thinning)")
    parser.add_argument("--largest-steps", type=int, default=1_200,
                        help="run length for the memory of the largest model")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, 1 thread, load average {os.getloadavg()[0]:.1f}")

    with_them, without = Trainer(GANConfig()), without_snapshots(Trainer(GANConfig()))
    results = side_by_side({"no snapshots": without.train,
                            "snapshots (every 100 steps)": with_them.train},
                           args.rounds, args.steps, args.slice_steps)
    print_table(results)
    print(f"snapshots kept: {len(with_them.snapshots)} vs {len(without.snapshots)}")
    report: dict[str, object] = {"speed": results}

    run = Trainer(GANConfig())
    run.train(3000)
    costs = {"snapshot_ms": per_call_ms(lambda: Snapshot(run.state()), 200),
             "at_2950_ms": per_call_ms(lambda: run.at(2950), 10),
             "at_3000_ms": per_call_ms(lambda: run.at(3000), 10)}
    print(f"one snapshot {costs['snapshot_ms']:.3f} ms CPU; at(step) {costs['at_3000_ms']:.1f} "
          f"ms on a snapshot, {costs['at_2950_ms']:.1f} ms 50 steps after one")
    report["costs"] = costs

    report["memory"] = {}
    for name, config, steps in (("default", GANConfig(), args.memory_steps),
                                ("largest", LARGEST, args.largest_steps)):
        m = memory(config, steps)
        print(f"{name} model after {steps:,} steps: {m['snapshots']} snapshots hold "
              f"{m['array_bytes']:,} bytes of arrays ({m['traced_bytes']:,} bytes traced as "
              f"Python objects); bound {m['capacity']} x {m['bound_per_snapshot']:,} = "
              f"{m['bound']:,} bytes")
        report["memory"][name] = m
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""How much faster ``Trainer.train`` is than the tutorial's own training loop.

Both run in this one process, single-threaded (``torch.set_num_threads(1)`` and one BLAS
thread for numpy), on the tutorial's settings (``GANConfig()``). Each round trains both
for the same number of steps in alternating slices (A-B, then B-A), so that a noisy, shared
machine slows both alike; the ratio is reported per round (median) and overall (total time of
one over total time of the other), in wall time and in this process's CPU time. The trainer's
time includes what the tutorial loop does not do: recording its history and evaluating 1,000
curves every 100 steps.

    python benchmarks/speed.py [--rounds 5] [--steps 1000] [--slice 100] [--json PATH]
"""

from __future__ import annotations

import os

# Before numpy loads its BLAS: a fair comparison is single-threaded on both sides.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import TutorialLoop, timed
from gan_core import GANConfig, Trainer
from gan_core.gan.history import History


class Clock:
    """Wall time and this process's CPU time spent in one loop.

    On a shared machine other processes stretch wall time at random; CPU time counts only the
    work done here, so its ratio is the steadier measure of the two.
    """

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def run(self, train: Callable[[int], None], steps: int) -> None:
        wall, cpu = timed(lambda: train(steps))
        self.wall += wall
        self.cpu += cpu


def run_rounds(rounds: int, steps: int, warmup: int, slice_steps: int) -> list[dict[str, float]]:
    """Per round, ``steps`` of each loop in alternating slices; steps per second and ratios."""
    loops = {"tutorial": TutorialLoop().train, "trainer": Trainer(GANConfig()).train}
    for train in loops.values():
        train(warmup)
    results = []
    for i in range(rounds):
        clocks = {name: Clock() for name in loops}
        for j in range(0, steps, slice_steps):
            order = list(loops) if (i + j // slice_steps) % 2 == 0 else list(loops)[::-1]
            for name in order:
                clocks[name].run(loops[name], min(slice_steps, steps - j))
        tut, ours = clocks["tutorial"], clocks["trainer"]
        results.append({
            "tutorial_steps_per_s": steps / tut.wall, "trainer_steps_per_s": steps / ours.wall,
            "ratio": tut.wall / ours.wall,
            "tutorial_cpu_steps_per_s": steps / tut.cpu,
            "trainer_cpu_steps_per_s": steps / ours.cpu,
            "cpu_ratio": tut.cpu / ours.cpu,
            "tutorial_s": tut.wall, "trainer_s": ours.wall,
            "tutorial_cpu_s": tut.cpu, "trainer_cpu_s": ours.cpu,
        })
        print(f"round {i + 1}: tutorial {steps / tut.wall:6.0f} steps/s, Trainer "
              f"{steps / ours.wall:6.0f} steps/s: {tut.wall / ours.wall:5.2f}x   "
              f"(CPU time: {steps / tut.cpu:6.0f} vs {steps / ours.cpu:6.0f} steps/s, "
              f"{tut.cpu / ours.cpu:5.2f}x)", flush=True)
    return results


def history_footprint(steps: int) -> dict[str, int]:
    """Rows and bytes a trainer's history holds after ``steps`` steps (rows as Trainer.train
    records them, without training): fixed, preallocated, however long the run."""
    history = History()
    for series in (history.train, history.eval):
        for step in range(1, steps + 1):
            if series.due(step):
                series.append(step, [0.0] * len(series.columns))
    arrays = [a for s in (history.train, history.eval) for a in (s._steps, s._rows)]
    return {"steps": steps, "rows": len(history), "bytes": sum(a.nbytes for a in arrays)}


def summary(results: list[dict[str, float]], steps: int) -> dict[str, float]:
    total = {key: sum(r[key] for r in results)
             for key in ("tutorial_s", "trainer_s", "tutorial_cpu_s", "trainer_cpu_s")}
    n = len(results) * steps
    return {
        "tutorial_steps_per_s": n / total["tutorial_s"],
        "trainer_steps_per_s": n / total["trainer_s"],
        "median_ratio": statistics.median(r["ratio"] for r in results),
        "overall_ratio": total["tutorial_s"] / total["trainer_s"],
        "tutorial_cpu_steps_per_s": n / total["tutorial_cpu_s"],
        "trainer_cpu_steps_per_s": n / total["trainer_cpu_s"],
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in results),
        "overall_cpu_ratio": total["tutorial_cpu_s"] / total["trainer_cpu_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating chunks of each")
    parser.add_argument("--steps", type=int, default=1000, help="training steps per chunk")
    parser.add_argument("--warmup", type=int, default=200, help="untimed steps of each first")
    parser.add_argument("--slice", type=int, default=100, dest="slice_steps",
                        help="steps of one loop before switching to the other")
    parser.add_argument("--history-steps", type=int, default=1_000_000,
                        help="run length for the history footprint (0 to skip)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 thread; {args.rounds} rounds "
          f"of {args.steps} steps each, in slices of {args.slice_steps}, after {args.warmup} "
          "warm-up steps")
    results = run_rounds(args.rounds, args.steps, args.warmup, args.slice_steps)
    total = summary(results, args.steps)
    print(f"overall: tutorial {total['tutorial_steps_per_s']:.0f} steps/s, Trainer "
          f"{total['trainer_steps_per_s']:.0f} steps/s; Trainer is "
          f"{total['median_ratio']:.2f}x faster (median of rounds), "
          f"{total['overall_ratio']:.2f}x overall")
    print(f"CPU time: tutorial {total['tutorial_cpu_steps_per_s']:.0f} steps/s, Trainer "
          f"{total['trainer_cpu_steps_per_s']:.0f} steps/s; "
          f"{total['median_cpu_ratio']:.2f}x (median), {total['overall_cpu_ratio']:.2f}x overall")
    report: dict[str, object] = {"rounds": results, **total, "steps_per_round": args.steps,
                                 "slice": args.slice_steps, "warmup": args.warmup, "threads": 1,
                                 "torch": torch.__version__, "numpy": np.__version__}
    if args.history_steps:
        footprint = history_footprint(args.history_steps)
        print(f"history after {footprint['steps']:,} steps: {footprint['rows']:,} rows in "
              f"{footprint['bytes'] / 1024:.0f} KiB (preallocated; bounded for any run length)")
        report["history"] = footprint
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

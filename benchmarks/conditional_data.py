"""A conditional run of your own curves: how well G paints the class of a CSV file's label
column it is asked for, and what the class accuracy of real and label-blind curves reads.

For each seed and preset, a run of ``--file`` (default ``docs/data/labelled-shapes.csv``,
bumps and dips) with Conditional on trains for the preset's steps; then ``Trainer.evaluate``
reads class accuracy and each class's in band and sliced W1 (``DataMetrics``). The checks of
the rule itself: real curves drawn afresh (another seed of ``scripts/make_example_data.py``'s
shapes) should land in their own class, and the same curves with their labels shuffled (a G
that paints the right shapes but ignores its label) near chance.

    python benchmarks/conditional_data.py [--seeds 0 1 2] [--file FILE.csv]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import PRESETS, GANConfig, Trainer, use_one_thread
from gan_core.data import Curves
from gan_core.gan.targets import data_target

ROOT = Path(__file__).resolve().parents[1]

RUNS = {"fast": (PRESETS["fast"], 2_000), "tutorial": (GANConfig(), 10_000)}
"""Preset and steps: the fast preset's 2,000 and the tutorial's 10,000."""


def rule_checks(curves: Curves) -> tuple[float, float]:
    """Class accuracy of 600 fresh real shapes, and of the same with shuffled labels."""
    spec = importlib.util.spec_from_file_location("make_example_data",
                                                  ROOT / "scripts" / "make_example_data.py")
    examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(examples)
    target = data_target(curves)
    fresh = Curves.from_csv(examples.two_shapes(np.random.default_rng(7), labelled=True))
    classes = np.array([curves.classes.index(label) for label in fresh.labels])
    landed = target.landed_class(target.trained(fresh.values), curves.x, target.tolerance)
    shuffled = np.random.default_rng(0).permutation(classes)
    return float(np.mean(landed == classes)), float(np.mean(landed == shuffled))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--file", type=Path, default=ROOT / "docs" / "data" /
                        "labelled-shapes.csv")
    args = parser.parse_args()
    use_one_thread()
    curves = Curves.from_csv(args.file)
    print(f"{args.file.name}: {curves.n_curves} curves, classes {', '.join(curves.classes)}")
    if args.file.name == "labelled-shapes.csv":
        real, blind = rule_checks(curves)
        print(f"fresh real shapes land in their class: {real:.3f}; with shuffled labels: "
              f"{blind:.3f}")
    for name, (preset, steps) in RUNS.items():
        accuracies = []
        for seed in args.seeds:
            start = time.perf_counter()
            run = Trainer(preset.replace(target="data", conditional=True, seed=seed),
                          data=curves)
            run.train(steps)
            m = run.evaluate()
            accuracies.append(m.class_accuracy)
            per_class = "; ".join(f"{c.name}: in band {c.in_band:.3f}, sliced W1 {c.w1:.3f}"
                                  for c in m.classes)
            print(f"{name:8s} seed {seed} {steps:6,} steps: class accuracy "
                  f"{m.class_accuracy:.3f} ({per_class}) [{time.perf_counter() - start:.0f} s]")
        print(f"{name:8s} mean class accuracy {np.mean(accuracies):.3f}")


if __name__ == "__main__":
    main()

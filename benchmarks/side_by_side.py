"""Time several training loops against each other in one process: alternating slices, so that a
noisy, shared machine slows them alike, and ratios of each to the first."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from benchmarks.reference import timed


def side_by_side(loops: dict[str, Callable[[int], object]], rounds: int, steps: int,
                 slice_steps: int) -> dict[str, dict[str, float]]:
    """Per loop: microseconds per step (wall and CPU, all rounds together) and the ratio of its
    time to the first loop's (median of rounds and overall). Each round trains every loop for
    ``steps`` steps in slices of ``slice_steps``, in an order that turns from slice to slice."""
    names = list(loops)
    wall = {name: [0.0] * rounds for name in names}
    cpu = {name: [0.0] * rounds for name in names}
    for r in range(rounds):
        for j, start in enumerate(range(0, steps, slice_steps)):
            n = min(slice_steps, steps - start)
            turn = (r + j) % len(names)
            for name in names[turn:] + names[:turn]:
                w, c = timed(lambda name=name, n=n: loops[name](n))
                wall[name][r] += w
                cpu[name][r] += c
        print(f"  round {r + 1}: " + "   ".join(
            f"{name} {1e6 * cpu[name][r] / steps:6.0f} us" for name in names), flush=True)
    base = names[0]
    results = {}
    for name in names:
        results[name] = {
            "us_per_step": 1e6 * sum(wall[name]) / (rounds * steps),
            "cpu_us_per_step": 1e6 * sum(cpu[name]) / (rounds * steps),
            "median_ratio": statistics.median(w / b for w, b in zip(wall[name], wall[base],
                                                                     strict=True)),
            "overall_ratio": sum(wall[name]) / sum(wall[base]),
            "median_cpu_ratio": statistics.median(c / b for c, b in zip(cpu[name], cpu[base],
                                                                         strict=True)),
            "overall_cpu_ratio": sum(cpu[name]) / sum(cpu[base]),
        }
    return results


def print_table(results: dict[str, dict[str, float]]) -> None:
    base = next(iter(results))
    print(f"{'':28s} {'us/step':>8s} {'CPU us/step':>12s} {'x ' + base + ' (median, overall)':>34s}"
          f"  {'CPU x (median, overall)':>24s}")
    for name, r in results.items():
        print(f"{name:28s} {r['us_per_step']:8.0f} {r['cpu_us_per_step']:12.0f} "
              f"{r['median_ratio']:24.2f} {r['overall_ratio']:9.2f}  "
              f"{r['median_cpu_ratio']:14.2f} {r['overall_cpu_ratio']:9.2f}")

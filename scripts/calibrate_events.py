"""Where the thresholds of ``gan_core.measure.events`` come from.

Trains healthy configurations and configurations known to show each behaviour, several seeds
each, and prints every run's detector statistics (``collapse_statistic``,
``overpower_statistic``, ``oscillation_statistic``) and which detectors fire. For each detector
it then prints the worst healthy run, the mildest run of the behaviour, the levels at least
``MARGIN`` times away from both, and the threshold in use with its margin on each side.

Run: ``python scripts/calibrate_events.py`` (5 seeds x 5,000 steps, a few minutes on two
cores); ``--seeds`` and ``--steps`` change the experiment.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import PRESETS, GANConfig, Trainer, TrainingDiverged, use_one_thread
from gan_core.measure import events as ev

HEALTHY = "healthy"
RUNS: dict[str, dict[str, GANConfig]] = {
    HEALTHY: {
        "tutorial": GANConfig(),
        "tutorial, two bands": GANConfig(target="two_bands"),
        "tutorial, sine": GANConfig(target="sine"),
        "fast preset": PRESETS["fast"],
        "best preset": PRESETS["best"],
    },
    ev.COLLAPSE: {
        # G's steps ten times D's: G chases D's current weak spot with all its curves.
        "non-saturating, lr G 1e-2, lr D 1e-3": GANConfig(loss="non_saturating", lr_g=1e-2,
                                                          lr_d=1e-3),
    },
    ev.OVERPOWER: {
        "lr D 1e-2, lr G 1e-5": GANConfig(lr_d=1e-2, lr_g=1e-5),
        "5 D steps per G step, lr D 1e-3": GANConfig(d_steps=5, lr_d=1e-3),
    },
    ev.OSCILLATION: {
        "minimax, lr 1e-3 both": GANConfig(lr_g=1e-3, lr_d=1e-3),
        "hinge, lr 3e-3 both": GANConfig(loss="hinge", lr_g=3e-3, lr_d=3e-3),
    },
}
MARGIN = 1.5
"""A threshold must sit at least this factor away from every run on either side."""
STATISTICS = {  # detector -> (statistic, threshold in use, fires above it?)
    ev.COLLAPSE: (ev.collapse_statistic, ev.COLLAPSE_SPREAD, False),
    ev.OVERPOWER: (ev.overpower_statistic, ev.OVERPOWER_GAP, True),
    ev.OSCILLATION: (ev.oscillation_statistic, ev.OSCILLATION_AMPLITUDE, True),
}


def run(job: tuple[str, str, GANConfig, int]) -> tuple[str, str, int, dict[str, float], list]:
    """One training run: its statistics and the events detected."""
    group, name, config, steps = job
    use_one_thread()
    trainer = Trainer(config)
    with contextlib.suppress(TrainingDiverged):  # the history up to it is still a run to read
        trainer.train(steps)
    stats = {kind: stat(trainer.history) for kind, (stat, _, _) in STATISTICS.items()}
    return group, name, config.seed, stats, ev.detect_events(trainer.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(group, name, config.replace(seed=seed), args.steps)
            for group, configs in RUNS.items() for name, config in configs.items()
            for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, jobs))

    print(f"{args.seeds} seeds x {args.steps:,} steps per configuration\n")
    print(f"{'group':14} {'configuration':40} {'seed':>4} {'collapse':>9} {'overpower':>9} "
          f"{'oscill.':>8}  fired")
    for group, name, seed, stats, events in results:
        fired = ", ".join(sorted({e.kind for e in events})) or "-"
        print(f"{group:14} {name:40} {seed:4d} {stats[ev.COLLAPSE]:9.3f} "
              f"{stats[ev.OVERPOWER]:9.3f} {stats[ev.OSCILLATION]:8.3f}  {fired}")

    print(f"\nthresholds: the worst healthy run | the mildest run of the behaviour; the "
          f"levels {MARGIN:g}x away from both; the threshold in use and its margins")
    for kind, (_, in_use, above) in STATISTICS.items():
        healthy = [s[kind] for g, _, _, s, _ in results if g == HEALTHY]
        showing = [s[kind] for g, _, _, s, _ in results if g == kind]
        worst = max(healthy) if above else min(healthy)
        mildest = min(showing) if above else max(showing)
        low, high = sorted((worst, mildest))
        room = (f"[{low * MARGIN:.3f}, {high / MARGIN:.3f}]" if high / low >= MARGIN**2
                else "none: NOT SEPARATED by that margin")
        print(f"{kind:14} {worst:.3f} | {mildest:.3f}; {room}; in use {in_use:g}, margins "
              f"x{_ratio(in_use, worst):.2f} (healthy) and x{_ratio(in_use, mildest):.2f} "
              "(behaviour)")
    false_alarms = [(g, n, seed, e.kind) for g, n, seed, _, events in results
                    for e in events if g == HEALTHY]
    missed = [(g, n, seed) for g, n, seed, _, events in results
              if g != HEALTHY and g not in {e.kind for e in events}]
    print(f"\nhealthy runs with an event: {false_alarms or 'none'}")
    print(f"behaviour runs whose detector did not fire: {missed or 'none'}")


def _ratio(a: float, b: float) -> float:
    """How many times apart two positive levels are (at least 1)."""
    if a <= 0 or b <= 0 or not math.isfinite(a * b):
        return math.nan
    return max(a / b, b / a)


if __name__ == "__main__":
    main()

"""Check the named presets of ``gan_core``, or rerun a compact version of the search behind them.

By default, trains each preset for its step budget (``BUDGETS``) on seeds 0, 1 and 2 and prints a
Markdown table of ``evaluate(1000)`` at the last step. ``--search`` reruns two small grids and
prints their rankings: candidates for ``fast`` by their worst seed at 2,000 steps, candidates for
``best`` by their mean over seeds at each budget of ``BEST_BUDGETS``. The metrics move from step
to step (w1 by about +-0.01 once converged), so read close ranks as ties.

    python benchmarks/presets.py [--search] [--jobs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_core import PRESETS, GANConfig, Trainer, TrainingDiverged

SEEDS = (0, 1, 2)
EVAL_SAMPLES = 1000
BUDGETS = {"tutorial": 10_000, "fast": 2_000, "best": 12_000, "stable": 10_000,
           "conditional": 10_000}
"""Training steps of each preset: part of the preset."""


@dataclass(frozen=True)
class Grid:
    """Configs to compare: every combination; ``betas`` sets Adam's (beta1, beta2) together."""

    lr_g: tuple[float, ...]
    lr_d: tuple[float, ...]
    betas: tuple[tuple[float, float], ...]
    batch_size: tuple[int, ...] = (64,)
    loss: tuple[str, ...] = ("non_saturating",)

    def configs(self) -> list[GANConfig]:
        return [GANConfig(lr_g=lr_g, lr_d=lr_d, beta1=beta1, beta2=beta2, batch_size=batch,
                          loss=loss)
                for lr_g, lr_d, (beta1, beta2), batch, loss in itertools.product(
                    self.lr_g, self.lr_d, self.betas, self.batch_size, self.loss)]


FAST_GRID = Grid(lr_g=(1e-3, 3e-3), lr_d=(3e-4, 1e-3),
                 betas=((0.9, 0.999), (0.5, 0.999), (0.0, 0.9)), batch_size=(64, 128))
BEST_GRID = Grid(lr_g=(5e-4, 2e-3), lr_d=(1e-4, 3e-4), betas=((0.5, 0.999), (0.0, 0.9)))
BEST_BUDGETS = (6_000, 9_000, 12_000, 16_000, 20_000)


@dataclass(frozen=True)
class Score:
    """``evaluate(1000)`` of one run after ``steps``; ``seconds`` of wall time so far."""

    seed: int
    steps: int
    in_band: float
    w1: float
    seconds: float


@dataclass(frozen=True)
class Row:
    """One config at one budget, summarised over seeds."""

    name: str
    settings: str
    steps: int
    in_band_mean: float
    in_band_min: float
    w1_mean: float
    w1_max: float
    seconds: float
    runs: tuple[Score, ...]


def settings_of(config: GANConfig) -> str:
    """The fields that differ from the tutorial defaults, as ``name=value``."""
    def shown(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    changed = config.changed_fields(GANConfig())
    return ", ".join(f"{name}={shown(getattr(config, name))}" for name in changed) or "defaults"


def run(config: GANConfig, checkpoints: Sequence[int]) -> list[Score]:
    """Train one run, evaluating it at each checkpoint (evaluating never changes the run).

    A diverged run scores ``in_band = 0`` and ``w1 = inf`` from then on.
    """
    trainer, scores, seconds = Trainer(config), [], 0.0
    for steps in sorted(checkpoints):
        start = time.perf_counter()
        try:
            trainer.train(steps - trainer.step)
            m = trainer.evaluate(EVAL_SAMPLES)
            in_band, w1 = m.in_band, m.w1
        except TrainingDiverged:
            in_band, w1 = 0.0, float("inf")
        seconds += time.perf_counter() - start
        scores.append(Score(config.seed, steps, in_band, w1, seconds))
    return scores


def run_seeds(configs: Sequence[GANConfig], checkpoints: Sequence[int],
              jobs: int) -> list[list[Score]]:
    """``run`` of each config on every seed of ``SEEDS``: one list of scores per config."""
    tasks = [config.replace(seed=seed) for config in configs for seed in SEEDS]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(run, tasks, itertools.repeat(checkpoints)))
    else:
        results = [run(task, checkpoints) for task in tasks]
    n = len(SEEDS)
    return [list(itertools.chain.from_iterable(results[i:i + n]))
            for i in range(0, len(results), n)]


def summarise(name: str, config: GANConfig, scores: Sequence[Score], steps: int) -> Row:
    at = tuple(s for s in scores if s.steps == steps)
    return Row(name=name, settings=settings_of(config), steps=steps,
               in_band_mean=mean(s.in_band for s in at), in_band_min=min(s.in_band for s in at),
               w1_mean=mean(s.w1 for s in at), w1_max=max(s.w1 for s in at),
               seconds=mean(s.seconds for s in at), runs=at)


def ranked(rows: Sequence[Row], key: str) -> list[Row]:
    """Rows sorted by ``key`` (lower is better), named by their rank."""
    order = sorted(rows, key=lambda r: (getattr(r, key), -r.in_band_min))
    return [dataclasses.replace(r, name=str(i)) for i, r in enumerate(order, 1)]


def check_presets(jobs: int) -> list[Row]:
    """Each preset at its budget."""
    return [summarise(name, PRESETS[name], run_seeds([PRESETS[name]], [steps], jobs)[0], steps)
            for name, steps in BUDGETS.items()]


def search_fast(jobs: int) -> list[Row]:
    """``FAST_GRID`` at the ``fast`` budget, lowest worst-seed w1 first."""
    configs, steps = FAST_GRID.configs(), BUDGETS["fast"]
    results = run_seeds(configs, [steps], jobs)
    return ranked([summarise("", c, s, steps) for c, s in zip(configs, results, strict=True)],
                  "w1_max")


def search_best(jobs: int) -> list[Row]:
    """``BEST_GRID`` at each of ``BEST_BUDGETS`` (one run per seed), lowest mean w1 first."""
    configs = BEST_GRID.configs()
    results = run_seeds(configs, BEST_BUDGETS, jobs)
    return ranked([summarise("", c, s, steps) for c, s in zip(configs, results, strict=True)
                   for steps in BEST_BUDGETS], "w1_mean")


def markdown(rows: Sequence[Row], first: str) -> str:
    lines = [f"| {first} | settings | steps | in_band mean | in_band min | w1 mean | w1 max | "
             "wall time (s/run) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.name} | {r.settings} | {r.steps:,} | {r.in_band_mean:.3f} | "
              f"{r.in_band_min:.3f} | {r.w1_mean:.4f} | {r.w1_max:.4f} | {r.seconds:.1f} |"
              for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Check or search the gan_core presets.")
    parser.add_argument("--search", action="store_true",
                        help="rerun a compact version of the preset search (a few minutes)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if args.search:
        results = {"fast": search_fast(args.jobs), "best": search_best(args.jobs)}
        print(f"seeds {', '.join(map(str, SEEDS))}; evaluate({EVAL_SAMPLES}) at the last step")
        for name, rows in results.items():
            print(f"\n### Candidates for `{name}`\n\n{markdown(rows, 'rank')}")
    else:
        results = {"presets": check_presets(args.jobs)}
        print(f"seeds {', '.join(map(str, SEEDS))}; evaluate({EVAL_SAMPLES}) at the last step\n")
        print(markdown(results["presets"], "preset"))
    if args.json:
        payload = {"seeds": SEEDS, "eval_samples": EVAL_SAMPLES,
                   **{key: [asdict(r) for r in rows] for key, rows in results.items()}}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()

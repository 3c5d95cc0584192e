"""A tick's training stays within its time budget plus one step, at every corner of the page's
settings.

For every combination of the Model and Training sizes at their lowest and highest values the page
offers (hidden units, batch size, points per curve, latent dimension, D steps per G step, steps
per tick: 64 corners), a visitor's session trains ``--ticks`` live ticks alone on the server (a
tick's budget, ``pacing.TICK_BUDGET_SECONDS``), and the script times each tick's training. A
step's own cost is timed apart, one step at a time, among them a step that records the run's
evaluation (every 100 steps at first: 1,000 curves scored, the dearest step of a small model).
A tick passes if its training took at most the budget plus the dearest single step measured
(plus ``--slack`` for the clock's noise).

Then stability-map ticks (``gan_core.serve.stability``): the page's default grid, and the
largest grid of the largest models that a map may hold, alone on the server (its longer budget)
and while others play (a live tick's budget); a stability tick passes within its budget plus one
stack's step. The time a tick then spends scoring the cells that moved is reported beside it.

    python -m benchmarks.budget [--ticks 5] [--slack 0.005] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

from gan_core import GANConfig, Pacing, use_one_thread
from gan_core.gan.engine import GANStack
from gan_core.serve import pacing, stability
from gan_core.serve.crowd import Crowd
from gan_core.serve.session import LabSession
from gan_core.training.batched import MAX_GRID_BYTES, Axis, members_per_stack

SIZES = ("hidden", "batch_size", "n_points", "latent_dim", "d_steps")


def corners() -> list[tuple[GANConfig, Pacing]]:
    """Every combination of the lowest and highest value of each size and of steps per tick."""
    params, pace = GANConfig.params(), Pacing.params()["steps_per_tick"]
    lows_highs = [(int(params[n].low), int(params[n].high)) for n in SIZES]
    out = []
    for values in itertools.product(*lows_highs, (int(pace.low), int(pace.high))):
        config = GANConfig(**dict(zip(SIZES, values[:-1], strict=True)))
        out.append((config, Pacing(steps_per_tick=values[-1])))
    return out


def step_costs(session: LabSession, n: int = 3) -> list[float]:
    """Seconds of ``n`` single training steps, one at a time, and of a step that records an
    evaluation."""
    trainer = session.trainer

    def one() -> float:
        start = time.perf_counter()
        trainer.train(1)
        return time.perf_counter() - start

    costs = [one() for _ in range(n)]
    trainer.train(-(trainer.step + 1) % trainer.history.eval.stride)
    assert trainer.history.eval.due(trainer.step + 1)
    return [*costs, one()]


def live_ticks(ticks: int, slack: float) -> list[dict[str, Any]]:
    rows = []
    budget = pacing.TICK_BUDGET_SECONDS
    for config, pace in corners():
        session = LabSession(config, pace, crowd=Crowd())
        costs = step_costs(session)
        times = []
        for _ in range(ticks):
            start = time.perf_counter()
            session.advance()
            times.append(time.perf_counter() - start)
        step = max(costs)
        rows.append({"config": {n: getattr(config, n) for n in SIZES},
                     "steps_per_tick": pace.steps_per_tick,
                     "step_median_s": statistics.median(costs[:-1]),
                     "step_max_s": step, "tick_max_s": max(times),
                     "tick_median_s": statistics.median(times),
                     "ok": max(times) <= budget + step + slack})
    return rows


def stability_ticks(ticks: int, slack: float) -> list[dict[str, Any]]:
    largest = GANConfig(**{n: int(GANConfig.params()[n].high) for n in SIZES})
    most = MAX_GRID_BYTES // GANStack.bytes_per_member(largest)
    grids = {
        "default map (6 x 6 learning rates)": (GANConfig(), Axis.log("lr_g", 1e-5, 1e-2, 6),
                                               Axis.log("lr_d", 1e-5, 1e-2, 6)),
        f"largest models, {most} members": (largest, Axis.log("lr_g", 1e-5, 1e-2, most), None),
    }
    rows = []
    for name, (base, x, y) in grids.items():
        for budget in (stability.ALONE_BUDGET_SECONDS, pacing.TICK_BUDGET_SECONDS):
            run = stability.StabilityRun(base, x, y, 1, 10_000, crowd=Crowd())
            # The dearest of three steps of one stack, each timed alone (the grid is then a few
            # steps ahead on one stack, which changes nothing here).
            stack_step = 0.0
            for _ in range(3):
                start = time.perf_counter()
                run.grid.train_stack(0, 1)
                stack_step = max(stack_step, time.perf_counter() - start)
            train_times, tick_times = [], []
            for _ in range(ticks):
                start = time.perf_counter()
                inner = _training_time(run, budget)
                tick_times.append(time.perf_counter() - start)
                train_times.append(inner)
            rows.append({"grid": name, "members": run.grid.members,
                         "per_stack": members_per_stack(base), "budget_s": budget,
                         "stack_step_s": stack_step, "train_max_s": max(train_times),
                         "tick_max_s": max(tick_times),
                         "ok": max(train_times) <= budget + stack_step + slack})
    return rows


def _training_time(run: stability.StabilityRun, budget: float) -> float:
    """The tick's training time: the tick with its scoring of the cells timed apart."""
    grid = run.grid
    evaluate = grid.evaluate
    scoring = 0.0

    def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
        nonlocal scoring
        start = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            scoring += time.perf_counter() - start

    grid.evaluate = timed_evaluate  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        run.tick(budget)
        return time.perf_counter() - start - scoring
    finally:
        del grid.evaluate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=5, help="ticks per corner")
    parser.add_argument("--slack", type=float, default=0.005,
                        help="seconds allowed for the clock's noise")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    use_one_thread()
    budget = pacing.TICK_BUDGET_SECONDS
    live = live_ticks(args.ticks, args.slack)
    print(f"live ticks, alone on the server: budget {1000 * budget:.0f} ms, {args.ticks} ticks at "
          f"each of {len(live)} corners")
    print(f"{'hidden':>6} {'batch':>5} {'points':>6} {'latent':>6} {'D steps':>7} {'steps':>5} "
          f"{'step ms':>8} {'dearest':>8} {'tick max ms':>11} {'over, in dearest steps':>23}")
    for row in sorted(live, key=lambda r: -r["step_max_s"]):
        c = row["config"]
        over = (row["tick_max_s"] - budget) / row["step_max_s"]
        print(f"{c['hidden']:>6} {c['batch_size']:>5} {c['n_points']:>6} {c['latent_dim']:>6} "
              f"{c['d_steps']:>7} {row['steps_per_tick']:>5} {1000 * row['step_median_s']:>8.2f} "
              f"{1000 * row['step_max_s']:>8.2f} {1000 * row['tick_max_s']:>11.1f} "
              f"{max(0.0, over):>23.2f}"
              f"{'' if row['ok'] else '  OVER'}")
    grids = stability_ticks(args.ticks, args.slack)
    print("\nstability-map ticks (training; the tick with its scoring beside it)")
    for row in grids:
        print(f"  {row['grid']}: {row['members']} members, {row['per_stack']} a stack; budget "
              f"{1000 * row['budget_s']:.0f} ms, a stack's step {1000 * row['stack_step_s']:.1f}"
              f" ms: training at most {1000 * row['train_max_s']:.0f} ms, the whole tick "
              f"{1000 * row['tick_max_s']:.0f} ms{'' if row['ok'] else '  OVER'}")
    failed = [r for r in live + grids if not r["ok"]]
    print(f"\n{len(live) + len(grids) - len(failed)} of {len(live) + len(grids)} within the budget "
          "plus one step")
    if args.json:
        args.json.write_text(json.dumps({"live": live, "stability": grids}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

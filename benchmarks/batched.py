"""How much faster a stability grid trains than the tutorial's own loop, one GAN at a time.

Both sides run in this one process on one thread (torch and numpy's BLAS), in alternating rounds,
so a noisy shared machine slows both alike. The tutorial side is ``406_GAN.py``'s loop as written:
``nn.Sequential`` G and D, ``torch.optim.Adam`` at 1e-4, autograd, a fresh ``np.random.uniform``
batch and ``torch.randn(64, 5, requires_grad=True)`` noise per step, G's step on
``log(1 - D(G(z)))``, then D's step on D(real) and D(G(z).detach()). The grid side is
:class:`BatchedTrainer` with 64 members on the tutorial config (64 seeds: the same work as 64
tutorial runs). Then it times the page's default map: a 6 x 6 lr_g x lr_d log grid over
1e-5..1e-2, one seed per cell, 2,000 steps.

    python -m benchmarks.batched [--rounds 6]    # from the repository root
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

from benchmarks.reference import TutorialLoop, timed
from gan_core import GANConfig
from gan_core.training.batched import Axis, BatchedTrainer

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MEMBERS = 64
TARGET_RATIO = 10.0


def compare(rounds: int, tutorial_steps: int, grid_steps: int) -> None:
    """Alternate the two loops; report aggregate GAN-steps/s and the per-round ratios."""
    tutorial = TutorialLoop()
    grid = BatchedTrainer(GANConfig(), Axis.seeds(MEMBERS))
    tutorial.train(20)
    grid.train(5)
    t_wall = t_cpu = g_wall = g_cpu = 0.0
    ratios = []
    for r in range(rounds):
        t, tc = timed(lambda: tutorial.train(tutorial_steps))
        g, gc = timed(lambda: grid.train(grid_steps))
        t_wall, t_cpu, g_wall, g_cpu = t_wall + t, t_cpu + tc, g_wall + g, g_cpu + gc
        ratios.append((MEMBERS * grid_steps / g) / (tutorial_steps / t))
        print(f"  round {r + 1}: tutorial {tutorial_steps / t:7.0f} steps/s   "
              f"grid K={MEMBERS} {MEMBERS * grid_steps / g:7.0f} GAN-steps/s   "
              f"ratio {ratios[-1]:5.1f}x")
    if grid.diverged.any():
        raise SystemExit(f"{int(grid.diverged.sum())} members diverged: the timing is invalid")
    tutorial_steps_done, grid_steps_done = rounds * tutorial_steps, rounds * MEMBERS * grid_steps
    print(f"tutorial loop      : {tutorial_steps_done / t_wall:8.0f} GAN-steps/s "
          f"({tutorial_steps_done / t_cpu:.0f} per CPU second)")
    print(f"BatchedTrainer K={MEMBERS}: {grid_steps_done / g_wall:8.0f} GAN-steps/s "
          f"({grid_steps_done / g_cpu:.0f} per CPU second)")
    ratio = (grid_steps_done / g_wall) / (tutorial_steps_done / t_wall)
    cpu_ratio = (grid_steps_done / g_cpu) / (tutorial_steps_done / t_cpu)
    print(f"ratio {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU (rounds: median "
          f"{statistics.median(ratios):.1f}x, min {min(ratios):.1f}x, max {max(ratios):.1f}x; "
          f"target >= {TARGET_RATIO:g}x)")


def page_default(steps: int) -> None:
    """The page's default map, end to end: build, train, score, tabulate."""
    start = time.perf_counter()
    grid = BatchedTrainer(GANConfig(), Axis.log("lr_g", 1e-5, 1e-2, 6),
                          Axis.log("lr_d", 1e-5, 1e-2, 6))
    built = time.perf_counter()
    train_wall, train_cpu = timed(lambda: grid.train(steps))
    trained = time.perf_counter()
    table = grid.cell_table(grid.evaluate())
    done = time.perf_counter()
    best = max((row for row in table if row["diverged"] < 1), key=lambda row: row["in_band"])
    print(f"6x6 lr_g x lr_d, {steps} steps: {done - start:.1f} s "
          f"(build {built - start:.2f} s, train {train_wall:.1f} s wall / {train_cpu:.1f} s CPU "
          f"= {grid.members * steps / train_wall:.0f} GAN-steps/s, "
          f"evaluate {done - trained:.2f} s); diverged {int(grid.diverged.sum())}/{grid.members}; "
          f"best cell lr_g={best['x']:g} lr_d={best['y']:g} in_band={best['in_band']:.3f}")


def single_thread_blas() -> None:
    """numpy's BLAS reads its thread count once, when it loads: restart this process with it
    set to one, so neither side gets a second core the other lacks."""
    if all(os.environ.get(var) == "1" for var in BLAS_THREADS):
        return
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]],
              {**os.environ, **dict.fromkeys(BLAS_THREADS, "1")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tutorial-steps", type=int, default=300)
    parser.add_argument("--grid-steps", type=int, default=100)
    parser.add_argument("--page-steps", type=int, default=2000)
    args = parser.parse_args()
    single_thread_blas()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 thread each")
    compare(args.rounds, args.tutorial_steps, args.grid_steps)
    page_default(args.page_steps)


if __name__ == "__main__":
    main()

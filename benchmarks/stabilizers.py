"""What the stabilizers cost and what they buy, measured.

    python -m benchmarks.stabilizers cost [--rounds 5] [--steps 2000]
    python -m benchmarks.stabilizers compare [--gammas 0.1 1 10] [--seeds 3] [--steps 2000]
    python -m benchmarks.stabilizers search [--seeds 2] [--steps 2000]
    python -m benchmarks.stabilizers dirac
    python -m benchmarks.stabilizers script [--seeds 0 1 2] [--steps 10000]

``cost``: CPU time of one training step (``GANStack.train_step``, one member, one thread) with
each stabilizer on, in interleaved slices so that a busy machine slows them alike; the ratio is
to the plain step measured in the same slices.

``compare``: the stability map's comparison view, measured: the default learning-rate grid
(lr of G x lr of D, 6 x 6 values from 1e-5 to 1e-2, 2,000 steps) from the tutorial's settings,
without R1 and with R1 of each strength, the same seeds per cell; the share of cells that
converged on every seed (W1 at most ``CONVERGED_W1``).

``search``: the same grid for each candidate stabilizer setting: the ``stable`` preset is the
one whose cells converge over the widest range of learning rates.

``dirac``: the Dirac-GAN's Figure 1 cases (plain gradient descent, step 0.2, 500 steps).

``script``: the exported PyTorch script of each stabilizer, trained on its own (its own seed
and random streams), against the engine's run of the same settings and seeds: in-band and W1
of 1,000 curves after ``--steps`` steps. With ``--window N``, also the mean W1 of the same 1,000
latent vectors' curves every ``EVERY`` steps over the last N steps, for both: a run that does
not settle (WGAN-GP at the tutorial's settings swings between a W1 of about 0.1 and 0.45 within
a few hundred steps) is judged by where it spends its time, not by one step's snapshot.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one BLAS thread

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import PRESETS, GANConfig, Trainer, use_one_thread
from gan_core.dirac import trajectory
from gan_core.gan.engine import GANStack
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.metrics import EVAL_SAMPLES, in_band_fraction, parameter_w1
from gan_core.training.batched import CONVERGED_W1, Axis, BatchedTrainer, converged_cells

STABILIZERS = {
    "none (the tutorial's step)": {},
    "R1 (γ = 1)": {"r1": 1.0},
    "R2 (γ = 1)": {"r2": 1.0},
    "R1 + R2": {"r1": 1.0, "r2": 1.0},
    "WGAN-GP (wasserstein, λ = 10)": {"loss": "wasserstein", "gp": 10.0},
    "spectral normalisation": {"spectral_norm": True},
    "instance noise (σ = 0.1)": {"instance_noise": 0.1},
    "instance noise, annealing": {"instance_noise": 0.1, "instance_noise_steps": 100_000},
    "one-sided label smoothing (0.9)": {"real_label": 0.9},
    "all of them": {"r1": 1.0, "r2": 1.0, "gp": 10.0, "spectral_norm": True,
                    "instance_noise": 0.1, "real_label": 0.9},
}


def cost(rounds: int, steps: int, slice_steps: int = 200) -> None:
    stacks = {name: GANStack(GANConfig(**changes), [0]) for name, changes in
              STABILIZERS.items()}
    for stack in stacks.values():
        for step in range(200):  # warm up
            stack.train_step(step=step)
    seconds = {name: [] for name in stacks}
    done = dict.fromkeys(stacks, 200)
    for r in range(rounds):
        spent = dict.fromkeys(stacks, 0.0)
        for j in range(0, steps, slice_steps):
            order = list(stacks) if (r + j // slice_steps) % 2 == 0 else list(stacks)[::-1]
            for name in order:
                stack, start = stacks[name], time.process_time()
                for step in range(done[name], done[name] + slice_steps):
                    stack.train_step(step=step)
                spent[name] += time.process_time() - start
                done[name] += slice_steps
        for name in stacks:
            seconds[name].append(spent[name] / steps)
    plain = statistics.median(seconds[next(iter(stacks))])
    print(f"{rounds} rounds of {steps:,} steps each, interleaved in slices of {slice_steps}; "
          "CPU time per step, median of rounds (one thread)")
    print("| stabilizer | µs per step | vs the plain step |")
    print("|---|---:|---:|")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"| {name} | {1e6 * median:.0f} | {median / plain:.2f}x |")


def grid_share(base: GANConfig, seeds: int, steps: int) -> tuple[int, int, list[dict]]:
    values = base.params()["lr_g"].spread(1e-5, 1e-2, 6)
    grid = BatchedTrainer(base, Axis("lr_g", values), Axis("lr_d", values), seeds_per_cell=seeds)
    grid.train(steps)
    cells = grid.cell_table(grid.evaluate())
    return converged_cells(cells), len(cells), cells


def compare(gammas: list[float], seeds: int, steps: int) -> None:
    print(f"default grid: lr_g x lr_d, 6 x 6 from 1e-5 to 1e-2, {steps:,} steps, seeds 0-"
          f"{seeds - 1} per cell; converged = W1 <= {CONVERGED_W1} on every seed")
    print("| settings | converged cells | share | wall time |")
    print("|---|---:|---:|---:|")
    rows = [("the tutorial's, without R1", GANConfig())]
    rows += [(f"the tutorial's, with R1 γ = {gamma:g}", GANConfig(r1=gamma)) for gamma in gammas]
    rows.append(("the stable preset's (R1 10, R2 10, beta1 0.5)", PRESETS["stable"]))
    for name, base in rows:
        start = time.perf_counter()
        n, total, _ = grid_share(base, seeds, steps)
        print(f"| {name} | {n} of {total} | {n / total:.0%} | "
              f"{time.perf_counter() - start:.0f} s |", flush=True)


CANDIDATES = {
    "tutorial": {},
    "R1 0.1": {"r1": 0.1}, "R1 1": {"r1": 1.0}, "R1 3": {"r1": 3.0}, "R1 10": {"r1": 10.0},
    "R2 1": {"r2": 1.0}, "R1 1 + R2 1": {"r1": 1.0, "r2": 1.0},
    "spectral norm": {"spectral_norm": True},
    "noise 0.05": {"instance_noise": 0.05}, "noise 0.2": {"instance_noise": 0.2},
    "smoothing 0.9": {"real_label": 0.9},
    "WGAN-GP 10": {"loss": "wasserstein", "gp": 10.0},
    "WGAN-GP 10 + SN": {"loss": "wasserstein", "gp": 10.0, "spectral_norm": True},
    "non-saturating + R1 1": {"loss": "non_saturating", "r1": 1.0},
    "non-saturating + R1 10": {"loss": "non_saturating", "r1": 10.0},
    "R1 30": {"r1": 30.0}, "R1 100": {"r1": 100.0},
    "R1 10 + R2 10": {"r1": 10.0, "r2": 10.0},
    "R1 10 + noise 0.1": {"r1": 10.0, "instance_noise": 0.1},
    "R1 10 + beta1 0.5": {"r1": 10.0, "beta1": 0.5},
    "beta1 0.5": {"beta1": 0.5},
    "R1 1 + beta1 0.5": {"r1": 1.0, "beta1": 0.5},
    "R1 10 + R2 10 + beta1 0.5": {"r1": 10.0, "r2": 10.0, "beta1": 0.5},
    "R1 10 + beta1 0": {"r1": 10.0, "beta1": 0.0},
    "R1 3 + R2 3 + beta1 0.5": {"r1": 3.0, "r2": 3.0, "beta1": 0.5},
    "R1 30 + R2 30 + beta1 0.5": {"r1": 30.0, "r2": 30.0, "beta1": 0.5},
    "R1 10 + R2 10 + beta1 0": {"r1": 10.0, "r2": 10.0, "beta1": 0.0},
    "R1 10 + R2 10 + beta1 0.5 + noise 0.1": {"r1": 10.0, "r2": 10.0, "beta1": 0.5,
                                              "instance_noise": 0.1},
    "R1 10 + SN": {"r1": 10.0, "spectral_norm": True},
    "non-saturating + R1 10 + SN": {"loss": "non_saturating", "r1": 10.0,
                                    "spectral_norm": True},
}


def search(seeds: int, steps: int, names: list[str] | None) -> None:
    print(f"default grid (6 x 6 learning rates, 1e-5 to 1e-2), {steps:,} steps, seeds "
          f"0-{seeds - 1}; converged = W1 <= {CONVERGED_W1} on every seed")
    print("| settings | converged cells | share | lr_g values with a converged cell |")
    print("|---|---:|---:|---|")
    for name in names or CANDIDATES:
        n, total, cells = grid_share(GANConfig(**CANDIDATES[name]), seeds, steps)
        columns = sorted({c["x"] for c in cells if c["converged"] == 1.0})
        print(f"| {name} | {n} of {total} | {n / total:.0%} | "
              f"{', '.join(f'{v:g}' for v in columns)} |", flush=True)


def dirac() -> None:
    plain = GANConfig(optimizer="sgd", momentum=0.0, lr_g=0.2, lr_d=0.2)
    cases = {"unregularised": plain, "non-saturating": plain.replace(loss="non_saturating"),
             "R1 (γ = 0.3)": plain.replace(r1=0.3), "R2 (γ = 0.3)": plain.replace(r2=0.3),
             "instance noise (σ = 0.7)": plain.replace(instance_noise=0.7),
             "WGAN-GP (λ = 0.35), 1 D step": plain.replace(loss="wasserstein", gp=0.35),
             "WGAN-GP (λ = 0.35), 5 D steps": plain.replace(loss="wasserstein", gp=0.35,
                                                            d_steps=5),
             "spectral normalisation": plain.replace(spectral_norm=True)}
    print("Dirac-GAN from (θ, ψ) = (1, 1), gradient descent with step 0.2, 500 steps")
    print("| case | simultaneous | alternating |")
    print("|---|---|---|")
    for name, config in cases.items():
        runs = [trajectory(config, steps=500, updates=u) for u in ("simultaneous",
                                                                    "alternating")]
        print(f"| {name} | " + " | ".join(
            f"{run.verdict} (distance {run.distance[-1]:.2g})" for run in runs) + " |")


SCRIPTED = {"tutorial": {}, "stable preset": PRESETS["stable"].to_mapping(),
            "R1 (γ = 1)": {"r1": 1.0}, "R2 (γ = 1)": {"r2": 1.0},
            "WGAN-GP (λ = 10)": {"loss": "wasserstein", "gp": 10.0},
            "spectral normalisation": {"spectral_norm": True},
            "instance noise (σ = 0.1, annealed over 10,000)": {"instance_noise": 0.1,
                                                               "instance_noise_steps": 10_000},
            "label smoothing (0.9)": {"real_label": 0.9}}


def quality(curves: np.ndarray, config: GANConfig) -> tuple[float, float]:
    target, x = get_target(config.target), curve_grid(config.n_points)
    return in_band_fraction(curves, target, x), parameter_w1(curves, target, x)[0]


EVERY = 250
"""Steps between the evaluations of ``script --window``."""


def _window_mean(train: Callable[[int], None], curves: Callable[[], np.ndarray],
                 config: GANConfig, steps: int, window: int) -> float:
    """Train ``steps`` in chunks; the mean W1 of ``curves()`` after each chunk of the last
    ``window`` steps (nan without a window)."""
    w1s, done = [], 0
    while done < steps:
        chunk = min(EVERY if window else steps, steps - done)
        train(chunk)
        done += chunk
        if done > steps - window:
            w1s.append(quality(curves(), config)[1])
    return float(np.mean(w1s)) if w1s else float("nan")


def _eval_noise(config: GANConfig) -> np.ndarray:
    import torch

    return torch.randn(EVAL_SAMPLES, config.latent_dim,
                       generator=torch.Generator().manual_seed(1)).numpy()


def script_run(config: GANConfig, steps: int, window: int = 0) -> tuple[float, float, float]:
    """In band and W1 after ``steps`` of the script's own ``main``, and the mean W1 over the
    last ``window`` steps."""
    import torch

    from gan_core.pytorch import script

    run = types.ModuleType("run")
    exec(compile(script(config), "run.py", "exec"), run.__dict__)
    z = torch.from_numpy(_eval_noise(config))

    done = 0

    def train(chunk: int) -> None:  # main trains from step 0: a chunk after it, step by step
        nonlocal done
        with contextlib.redirect_stdout(io.StringIO()):
            if done == 0:
                run.main(["--steps", str(chunk)])
            else:
                takes_step = bool(inspect.signature(run.train_step).parameters)
                for step in range(done, done + chunk):
                    run.train_step(step) if takes_step else run.train_step()
        done += chunk

    def curves() -> np.ndarray:
        with torch.no_grad():
            return run.G(z).numpy()

    mean = _window_mean(train, curves, config, steps, window)
    return (*quality(curves(), config), mean)


def engine_run(config: GANConfig, steps: int, window: int = 0) -> tuple[float, float, float]:
    """In band and W1 of the trainer's own evaluation after ``steps``, and the mean W1 over
    the last ``window`` steps of the curves for the script's latent vectors."""
    trainer, z = Trainer(config), _eval_noise(config)
    mean = _window_mean(trainer.train, lambda: trainer.generate(z), config, steps, window)
    m = trainer.evaluate()
    return m.in_band, m.w1, mean


def script_against_engine(seeds: list[int], steps: int, names: list[str] | None,
                          window: int = 0) -> None:
    print(f"{steps:,} steps from each seed; in band and W1 of 1,000 curves" + (
        f"; mean W1 every {EVERY} steps over the last {window:,}" if window else ""))
    head = "| settings | engine in band | script in band | engine W1 | script W1 |"
    print(head + (" engine mean W1 | script mean W1 |" if window else ""))
    print("|---" * (head.count("|") - 1 + (2 if window else 0)) + "|")
    for name in names or SCRIPTED:
        base = GANConfig(**SCRIPTED[name])
        engine = [engine_run(base.replace(seed=s), steps, window) for s in seeds]
        torch_runs = [script_run(base.replace(seed=s), steps, window) for s in seeds]

        def fmt(values: list[tuple[float, ...]], i: int, spec: str) -> str:
            return ", ".join(format(v[i], spec) for v in values)

        row = (f"| {name} | {fmt(engine, 0, '.3f')} | {fmt(torch_runs, 0, '.3f')} | "
               f"{fmt(engine, 1, '.4f')} | {fmt(torch_runs, 1, '.4f')} |")
        if window:
            row += (f" {fmt(engine, 2, '.3f')} (mean {np.mean([v[2] for v in engine]):.3f}) |"
                    f" {fmt(torch_runs, 2, '.3f')} "
                    f"(mean {np.mean([v[2] for v in torch_runs]):.3f}) |")
        print(row, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("cost")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=2000)
    p = sub.add_parser("compare")
    p.add_argument("--gammas", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=2000)
    p = sub.add_parser("search")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--only", nargs="+", choices=sorted(CANDIDATES))
    sub.add_parser("dirac")
    p = sub.add_parser("script")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--only", nargs="+", choices=sorted(SCRIPTED))
    p.add_argument("--window", type=int, default=0,
                   help=f"also the mean W1 every {EVERY} steps over the last WINDOW steps")
    args = parser.parse_args()
    use_one_thread()
    if args.what == "cost":
        cost(args.rounds, args.steps)
    elif args.what == "compare":
        compare(args.gammas, args.seeds, args.steps)
    elif args.what == "search":
        search(args.seeds, args.steps, args.only)
    elif args.what == "dirac":
        dirac()
    else:
        script_against_engine(args.seeds, args.steps, args.only, args.window)


if __name__ == "__main__":
    main()

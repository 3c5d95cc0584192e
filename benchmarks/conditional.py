"""The conditional GAN, the lab's run beside the tutorial's script: how well each paints the
class it is asked for.

For each seed, two runs of the ``conditional`` preset (the tutorial's settings, G asked for a
class) train for ``--steps`` steps: the lab's (``Trainer``, the numpy engine) and the script the
lab writes for it (``gan_core.pytorch.script``: ``406_conditional_GAN.py`` in the corrected
order, bit for bit the upstream file's run for its seed, tests/test_conditional_script.py),
with its own seed and random streams as ``python run.py --steps N`` would. Both G are then
measured alike: 1,000 latent vectors of one fixed stream, half asked for each class, scored by
``gan_core.measure.metrics`` (class accuracy, and each class's in band and W1 against that
class's own band and law). The two runs draw different random numbers, so they are compared
as two samples of the same training, over seeds.

    python benchmarks/conditional.py [--seeds 0 1 2] [--steps 10000] [--target parabola]

``--target`` trains the preset on another family with classes (the script draws it too).
``--cost`` instead times what the label columns cost: an engine step of the tutorial's settings
with and without classes, in alternating slices of 500 steps (CPU time, one thread), so that a
busy machine slows both alike.

    python benchmarks/conditional.py --cost [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import PRESETS, GANConfig, Trainer, use_one_thread
from gan_core.gan.config import TARGETS
from gan_core.gan.engine import GANStack
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.metrics import EVAL_SAMPLES, class_accuracy, class_metrics
from gan_core.pytorch import script

COLUMNS = ("accuracy", "in_band_0", "in_band_1", "w1_0", "w1_1")


def measure(generate: Callable[[np.ndarray, np.ndarray], np.ndarray],
            config: GANConfig) -> dict[str, float]:
    """Class accuracy and each class's in band and W1 of ``generate``'s curves for a fixed
    set of latent vectors, the first half asked for class 0, the second for class 1."""
    z = np.random.default_rng(2024).standard_normal((EVAL_SAMPLES, config.latent_dim),
                                                    dtype=np.float32)
    labels = np.repeat([0, 1], EVAL_SAMPLES // 2)
    curves = np.asarray(generate(z, labels), np.float32)
    target, x = get_target(config.target), curve_grid(config.n_points)
    params, _ = target.fit(curves, x)
    per_class = class_metrics(curves, params, None, labels, target, x)
    return {"accuracy": class_accuracy(curves, labels, target, x),
            "in_band_0": per_class[0].in_band, "in_band_1": per_class[1].in_band,
            "w1_0": per_class[0].w1, "w1_1": per_class[1].w1}


def lab_run(config: GANConfig, steps: int) -> tuple[dict[str, float], float]:
    trainer = Trainer(config)
    cpu = time.process_time()
    trainer.train(steps)
    return measure(trainer.generate, config), time.process_time() - cpu


def script_run(config: GANConfig, steps: int) -> tuple[dict[str, float], float]:
    run = types.ModuleType("run")
    exec(compile(script(config), "run.py", "exec"), run.__dict__)
    cpu = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        run.main(["--steps", str(steps)])
    cpu = time.process_time() - cpu

    def generate(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        inputs = torch.cat((torch.from_numpy(z),
                            torch.from_numpy(labels.astype(np.float32))[:, None]), 1)
        with torch.no_grad():
            return run.G(inputs).numpy()

    return measure(generate, config), cpu


def step_cost(rounds: int, steps: int = 500) -> None:
    """CPU time of one engine step without and with classes, slices of each in turn."""
    stacks = {name: GANStack(GANConfig(conditional=name == "conditional"), [0])
              for name in ("without classes", "conditional")}
    for stack in stacks.values():
        for _ in range(300):  # past the first steps
            stack.train_step()
    times: dict[str, list[float]] = {name: [] for name in stacks}
    for r in range(rounds):
        order = list(stacks) if r % 2 == 0 else list(reversed(stacks))
        for name in order:
            cpu = time.process_time()
            for _ in range(steps):
                stacks[name].train_step()
            times[name].append((time.process_time() - cpu) / steps)
    plain, labelled = (float(np.median(times[name])) for name in stacks)
    print(f"engine step, median of {rounds} slices of {steps}: without classes "
          f"{1e6 * plain:.0f} us, conditional {1e6 * labelled:.0f} us "
          f"({labelled / plain:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--target", default="parabola", choices=TARGETS)
    parser.add_argument("--cost", action="store_true", help="time a step with and without "
                        "classes instead")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    use_one_thread()
    torch.set_num_threads(1)
    if args.cost:
        step_cost(args.rounds)
        return
    low, high = get_target(args.target).class_names
    print(f"| run | seed | class accuracy | in band, {low} | in band, {high} | W1, {low} | "
          f"W1, {high} | CPU (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    results: dict[str, list[dict[str, float]]] = {"lab": [], "script": []}
    for seed in args.seeds:
        config = PRESETS["conditional"].replace(seed=seed, target=args.target)
        for name, runner in (("lab", lab_run), ("script", script_run)):
            r, cpu = runner(config, args.steps)
            results[name].append(r)
            print(f"| {name} | {seed} | {r['accuracy']:.3f} | {r['in_band_0']:.3f} | "
                  f"{r['in_band_1']:.3f} | {r['w1_0']:.4f} | {r['w1_1']:.4f} | {cpu:.1f} |",
                  flush=True)
    for name, rows in results.items():
        mean = {c: float(np.mean([r[c] for r in rows])) for c in COLUMNS}
        print(f"| {name}, mean | | {mean['accuracy']:.3f} | {mean['in_band_0']:.3f} | "
              f"{mean['in_band_1']:.3f} | {mean['w1_0']:.4f} | {mean['w1_1']:.4f} | |")


if __name__ == "__main__":
    main()

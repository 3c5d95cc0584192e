"""Cost of the theory readouts, and the kernel-width experiment behind ``gan_core.measure.theory``.

Part 1, per tick (what the page would add to its 100 ms budget): the forces on 16 curves, the
theory view (D*, densities, JSD) on 1,000 curves, and the full evaluation (every metric and
noise floor) on 1,000, beside the evaluation as it was before these readouts (in band, W1 and
D's outputs only) and beside 100 training steps. Part 2: the history's evaluation row, now and
before, as a share of the 100 training steps it follows at the default cadence. Calls are
interleaved round by round so a busy machine slows all alike; each figure is the median over
rounds of CPU time (wall time in brackets).

Part 3: what the kernel estimate reads for known laws, against their exact JSD, and for a
perfect generator (the floor), at several sample sizes.

    python benchmarks/theory.py [--rounds 30]
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy loads its BLAS: as the page runs

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.reference import timed
from gan_core import GANConfig, Trainer, get_target
from gan_core.gan.losses import loss_values, sigmoid
from gan_core.gan.streams import EVALUATION, stream
from gan_core.measure.metrics import in_band_fraction, parameter_w1
from gan_core.measure.theory import jensen_shannon, jsd_floor, parameter_density, parameter_jsd

TICK_CURVES = 16
EVAL_N = 1000


def previous_evaluation(trainer: Trainer, n: int, with_d: bool) -> None:
    """The evaluation before these readouts: in band, W1 and fit residual (the history's row),
    and with ``with_d`` D's outputs and losses on as many real curves (``Trainer.evaluate``)."""
    stack, config = trainer._stack, trainer.config
    rng = stream(config.seed, EVALUATION, trainer.step)
    fake = stack.generate(rng.standard_normal((n, config.latent_dim), dtype=np.float32))
    with np.errstate(all="ignore"):
        in_band_fraction(fake, stack.target, stack.x)
        parameter_w1(fake, stack.target, stack.x)
        if with_d:
            real = stack.target.sample(rng, n, stack.x)
            l_real = stack.discriminate(real).reshape(1, n, 1)
            l_fake = stack.discriminate(fake).reshape(1, n, 1)
            loss_values(config.loss, l_real, l_fake)
            sigmoid(l_real).mean()


def measure(work: dict[str, Callable[[], object]], rounds: int) -> dict[str, tuple[float, float]]:
    """Median CPU and wall milliseconds of each call, interleaved round by round."""
    for call in work.values():  # warm caches (grids, kernels, noise floors)
        call()
    cpu: dict[str, list[float]] = {name: [] for name in work}
    wall: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, call in work.items():
            w, c = timed(call)
            cpu[name].append(1000 * c)
            wall[name].append(1000 * w)
    return {name: (statistics.median(cpu[name]), statistics.median(wall[name])) for name in work}


def costs(target: str, rounds: int) -> None:
    trainer = Trainer(GANConfig(target=target))
    trainer.train(300)
    stack = trainer._stack
    z = np.random.default_rng(0).standard_normal((TICK_CURVES, 5)).astype(np.float32)

    def hundred_steps() -> None:
        for i in range(100):
            stack.train_step(record=i % 4 == 0)

    work = {
        f"forces on {TICK_CURVES} curves": lambda: trainer.forces(z),
        f"theory view, {EVAL_N} curves": lambda: trainer.theory(EVAL_N),
        f"evaluate({EVAL_N}), all metrics": lambda: trainer.evaluate(EVAL_N),
        f"evaluate({EVAL_N}) before": lambda: previous_evaluation(trainer, EVAL_N, True),
        "history row before": lambda: previous_evaluation(trainer, EVAL_N, False),
        "100 training steps": hundred_steps,
    }
    result = measure(work, rounds)
    print(f"\n{target}: median over {rounds} rounds, CPU ms (wall ms)")
    for name, (c, w) in result.items():
        print(f"  {name:32} {c:7.2f}  ({w:.2f})")
    steps = result["100 training steps"][0]
    now = result[f"evaluate({EVAL_N}), all metrics"][0]  # the history row is this evaluation
    before = result["history row before"][0]
    print(f"  history row per 100 steps: now {now:.2f} ms = {100 * now / steps:.0f}% of the "
          f"training time, before {before:.2f} ms = {100 * before / steps:.0f}%")
    tick = sum(result[k][0] for k in list(work)[:2])
    print(f"  a tick adding forces and the theory view: +{tick:.2f} ms")


def exact_jsd(a: tuple[float, float], b: tuple[float, float]) -> float:
    t = np.linspace(min(a[0], b[0]) - 1, max(a[1], b[1]) + 1, 2_000_001)
    p = ((t >= a[0]) & (t <= a[1])) / (a[1] - a[0])
    q = ((t >= b[0]) & (t <= b[1])) / (b[1] - b[0])
    return jensen_shannon(p, q, t[1] - t[0])


def kernel_width() -> None:
    print("\nkernel estimate of the JSD (nats) against the exact value, and its floor")
    parabola, sine = get_target("parabola"), get_target("sine")
    cases = {"a ~ U(1.25, 2.25)": (1.25, 2.25), "a ~ U(1, 1.5)": (1.0, 1.5),
             "a ~ U(1.1, 1.9)": (1.1, 1.9)}
    for n in (250, 1000, 10_000):
        rng = np.random.default_rng(0)
        h = parameter_density("parabola", n).bandwidths + parameter_density("sine", n).bandwidths
        print(f"  n = {n:,}: widths a {h[0]:.4f}, amplitude {h[1]:.3f}, phase {h[2]:.3f}")
        print(f"    perfect generator: parabola {jsd_floor('parabola', n):.4f}, two bands "
              f"{jsd_floor('two_bands', n):.4f}, sine {jsd_floor('sine', n):.4f}")
        for label, law in cases.items():
            got = parameter_jsd(parabola, rng.uniform(*law, (n, 1)))
            print(f"    {label:22} {got:.3f} (exact {exact_jsd((1, 2), law):.3f})")
        print(f"    {'a = 1.5 for all':22} {parameter_jsd(parabola, np.full((n, 1), 1.5)):.3f} "
              f"(exact {np.log(2):.3f})")
        late = np.concatenate([rng.uniform(0.5, 1.5, (n, 1)),
                               rng.uniform(0.3, 0.3 + np.pi / 2, (n, 1))], axis=1)
        exact = (0.3 / (np.pi / 2)) * np.log(2)  # phases off by 0.3: that share told apart
        print(f"    {'sine, phase + 0.3':22} {parameter_jsd(sine, late):.3f} "
              f"(exact {exact:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for target in ("parabola", "sine"):
        costs(target, args.rounds)
    kernel_width()


if __name__ == "__main__":
    main()

"""What the script a run writes out (``gan_core.pytorch.script``) reaches on its own.

Each preset's script trains for the preset's step budget from its own seed, with its own
random streams, exactly as ``python run.py --steps N`` would (its ``main``, executed in this
process so that its ``G`` can be measured afterwards). Reported per run: in-band fraction and
parameter W1 of 1,000 curves of the trained G (``gan_core.measure.metrics``, as the page measures a
run), and the wall and CPU time of training. The script trains on one thread. The conditional
preset's script, whose G also needs a class, is measured by ``benchmarks/conditional.py``.

    python benchmarks/script.py [--presets tutorial fast] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import types
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.presets import BUDGETS
from gan_core import PRESETS
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.metrics import EVAL_SAMPLES, in_band_fraction, parameter_w1
from gan_core.pytorch import script


def run_preset(name: str, seed: int) -> dict[str, float]:
    config = PRESETS[name].replace(seed=seed)
    run = types.ModuleType("run")
    exec(compile(script(config), "run.py", "exec"), run.__dict__)
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        run.main(["--steps", str(BUDGETS[name])])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    z = torch.randn(EVAL_SAMPLES, config.latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        curves = run.G(z).numpy()
    target, x = get_target(config.target), curve_grid(config.n_points)
    return {"in_band": in_band_fraction(curves, target, x),
            "w1": parameter_w1(curves, target, x)[0], "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tutorial", "fast"],
                        choices=sorted(n for n in BUDGETS if not PRESETS[n].conditional))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    print("| preset | seed | steps | in_band | w1 | wall (s) | CPU (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.presets:
        for seed in args.seeds:
            r = run_preset(name, seed)
            print(f"| {name} | {seed} | {BUDGETS[name]:,} | {r['in_band']:.3f} | {r['w1']:.4f} "
                  f"| {r['wall']:.1f} | {r['cpu']:.1f} |", flush=True)


if __name__ == "__main__":
    main()

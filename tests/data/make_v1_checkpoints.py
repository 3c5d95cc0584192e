"""Make the "gan-curve-lab/1" checkpoints under tests/data with the code that wrote that format.

Those files are what people saved before the format became plain PyTorch, so they are made by
the old code, not imitated by the new, and so is what a run does after them. Run from a tree of
commit 5f01715:

    mkdir /tmp/v1 && git archive 5f01715 | tar -x -C /tmp/v1
    PYTHONPATH=/tmp/v1 python tests/data/make_v1_checkpoints.py

It writes one ``v1-<name>.pt`` per run below and ``v1-expected.json``: for each, the sha256 of
every part of the run's state after training ``MORE_STEPS`` more steps in the old code, which
``tests/test_checkpoint_v1.py`` compares with the new code's continuation of the same file.
Only :func:`digests` is shared with the tests; it works on plain arrays from either version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
MORE_STEPS = 120
EXPECTED = HERE / "v1-expected.json"


def digests(state: dict[str, Any]) -> dict[str, str]:
    """sha256 of each named part of a run's state: arrays by dtype, shape and bytes, other
    values by their sorted JSON."""
    out = {}
    for name, value in sorted(state.items()):
        h = hashlib.sha256()
        if isinstance(value, np.ndarray):
            h.update(f"{value.dtype.str}{value.shape}".encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(json.dumps(value, sort_keys=True).encode())
        out[name] = h.hexdigest()
    return out


def named_state(step: int, nets: dict[str, Any], rng: dict, history: dict) -> dict[str, Any]:
    """The parts :func:`digests` hashes: step, each net's weights, moments and step count,
    the training stream, and both history series."""
    state: dict[str, Any] = {"step": step, "rng": rng}
    for name, (params, m, v, t) in nets.items():
        state.update({f"{name}.params": params, f"{name}.m": m, f"{name}.v": v, f"{name}.t": t})
    for series, values in history.items():
        state.update({f"{series}.steps": np.asarray(values["steps"], np.int64),
                      f"{series}.rows": np.asarray(values["rows"], np.float64),
                      f"{series}.stride": int(values["stride"])})
    return state


def _old_state(trainer: Any) -> dict[str, Any]:
    """The old Trainer's state, read from the internals it had (it had no ``state()``)."""
    stack = trainer._stack
    nets = {name: (net.params[0].copy(), net.m[0].copy(), net.v[0].copy(), net.t)
            for name, net in (("g", stack.g), ("d", stack.d))}
    history = {"train": trainer.history.train.state(), "eval": trainer.history.eval.state()}
    return named_state(trainer.step, nets, stack.rngs[0].bit_generator.state, history)


def _runs() -> dict[str, Any]:
    from gan_core import GANConfig, Trainer

    tutorial = Trainer(GANConfig(seed=5))
    tutorial.train(130)
    sgd = Trainer(GANConfig(optimizer="sgd", lr_g=0.02, lr_d=0.02, momentum=0.9, hidden=32,
                            seed=11, steps_per_tick=50))
    sgd.train(90)
    live = Trainer(GANConfig(seed=7, hidden=32, lr_g=1e-3, lr_d=1e-3, beta1=0.5))
    live.train(40)
    live.reconfigure(live.config.replace(loss="hinge", batch_size=32, lr_d=5e-4, d_steps=2))
    live.train(30)
    return {"tutorial": tutorial, "sgd": sgd, "reconfigured": live}


def main() -> None:
    expected = {}
    for name, trainer in _runs().items():
        trainer.save(HERE / f"v1-{name}.pt")
        trainer.train(MORE_STEPS)
        expected[name] = {"more_steps": MORE_STEPS, "sha256": digests(_old_state(trainer))}
    EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

"""The complete state of a run, for tests that need two runs to be the same, exactly."""

from __future__ import annotations

import numpy as np

from gan_core import GANConfig, Trainer


def run_state(trainer: Trainer) -> dict[str, np.ndarray]:
    """Everything that decides how a run continues: weights, optimizer moments, step counts
    and the recorded history."""
    state: dict[str, np.ndarray] = {"step": np.array(trainer.step)}
    for name, net in (("g", trainer._stack.g), ("d", trainer._stack.d)):
        for key in ("params", "m", "v"):
            state[f"{name}.{key}"] = getattr(net, key).copy()
        state[f"{name}.t"] = np.array(net.t)
    for name, series in (("train", trainer.history.train), ("eval", trainer.history.eval)):
        for key, value in series.state().items():
            state[f"{name}.{key}"] = np.asarray(value)
    return state


def assert_same_run(a: Trainer, b: Trainer) -> None:
    sa, sb = run_state(a), run_state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key


def trained(config: GANConfig, steps: int) -> Trainer:
    trainer = Trainer(config)
    trainer.train(steps)
    return trainer

"""The complete state of a run, for tests that need two runs to be the same, exactly."""

from __future__ import annotations

import numpy as np

from gan_core import GANConfig, Trainer


def run_state(trainer: Trainer) -> dict[str, np.ndarray]:
    """Everything that decides how a run continues (``Trainer.state``), flattened to arrays
    by name: weights, optimizer moments, step counts, the training stream and the history."""
    state = trainer.state()
    flat: dict[str, np.ndarray] = {"step": np.array(state.step),
                                   "rng": np.array(repr(state.rng))}
    for name, net in (("g", state.g), ("d", state.d)):
        for key in ("params", "m", "v"):
            flat[f"{name}.{key}"] = getattr(net, key)
        flat[f"{name}.t"] = np.array(net.t)
        if net.vectors is not None:  # spectral normalisation's power iteration
            flat[f"{name}.vectors"] = net.vectors
    for name, series in state.history.items():
        for key, value in series.items():
            flat[f"{name}.{key}"] = np.asarray(value)
    return flat


def assert_same_run(a: Trainer, b: Trainer) -> None:
    sa, sb = run_state(a), run_state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        a_, b_ = sa[key], sb[key]
        # NaN marks a value a run never measured (a column a file saved before it existed)
        nan_is_equal = a_.dtype.kind == "f" and b_.dtype.kind == "f"
        assert np.array_equal(a_, b_, equal_nan=nan_is_equal), key


def trained(config: GANConfig, steps: int) -> Trainer:
    trainer = Trainer(config)
    trainer.train(steps)
    return trainer


def assert_same_course(a: Trainer, b: Trainer) -> None:
    """The same run, reached the same way: same state, same changes, same start."""
    assert_same_run(a, b)
    assert a.changes == b.changes
    assert a.start_config == b.start_config

"""A visitor's live run: play state, chunks within a time budget, live tweaks, safe restore."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import numpy as np
import pytest

from gan_core import CheckpointError, GANConfig
from gan_core.session import LabSession


def test_a_tick_trains_a_chunk_only_while_playing() -> None:
    lab = LabSession(GANConfig(steps_per_tick=30))
    assert lab.tick() == 0 and lab.trainer.step == 0
    lab.play()
    assert lab.tick() == 30 and lab.trainer.step == 30
    lab.pause()
    assert lab.tick() == 0 and lab.trainer.step == 30


def test_a_chunk_stops_at_its_time_budget() -> None:
    lab = LabSession(GANConfig(steps_per_tick=500))
    assert lab.advance(budget=0.0) == 0  # nothing starts once the budget is spent
    taken = lab.advance(budget=0.02)
    assert 0 < taken < 500 and lab.trainer.step == taken


def test_live_change_keeps_the_model_and_shape_change_replaces_it() -> None:
    lab = LabSession()
    lab.advance(50)
    model = lab.trainer
    change = lab.apply(lab.config.replace(lr_g=1e-3, loss="hinge"))
    assert change.kind == "live" and set(change.fields) == {"lr_g", "loss"}
    assert change.before == {"lr_g": 1e-4, "loss": "minimax"}
    assert lab.trainer is model and model.step == 50
    change = lab.apply(lab.config.replace(hidden=32))
    assert change.kind == "fresh" and lab.trainer is not model and lab.trainer.step == 0
    assert lab.apply(lab.config).kind == "none"


def test_divergence_pauses_and_keeps_the_last_finite_state() -> None:
    lab = LabSession(GANConfig(lr_g=10.0, lr_d=10.0, optimizer="sgd", steps_per_tick=200))
    lab.play()
    for _ in range(10):
        lab.tick()
    assert lab.diverged is not None and not lab.playing
    stack = lab.trainer._stack
    assert np.isfinite(stack.g.params).all() and np.isfinite(stack.d.params).all()
    lab.reset()
    assert lab.diverged is None and lab.trainer.step == 0


def test_restore_refuses_bad_bytes_and_leaves_the_run_alone() -> None:
    lab = LabSession()
    lab.advance(20)
    model = lab.trainer
    with pytest.raises(CheckpointError):
        lab.restore(b"not a checkpoint")
    assert lab.trainer is model and model.step == 20


def test_restore_resumes_a_saved_run_exactly() -> None:
    source = LabSession(GANConfig(seed=4))
    source.advance(40)
    data = source.checkpoint()
    lab = LabSession()
    lab.restore(data)
    assert lab.trainer.step == 40 and lab.config.seed == 4
    source.advance(25)
    lab.advance(25)
    np.testing.assert_array_equal(lab.trainer._stack.g.params, source.trainer._stack.g.params)
    np.testing.assert_array_equal(lab.trainer._stack.d.params, source.trainer._stack.d.params)


def test_concurrent_callers_never_interleave_on_the_trainer() -> None:
    """Overlapping reruns call tick, apply and reset at once; the lock serialises them."""
    lab = LabSession(GANConfig(steps_per_tick=10))
    lab.play()
    errors: list[BaseException] = []

    def hammer(action: Callable[[int], object]) -> None:
        try:
            for i in range(30):
                action(i)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    steps_seen: list[int] = []
    actions = [
        lambda i: lab.tick(),
        lambda i: lab.apply(lab.config.replace(lr_g=[1e-4, 2e-4, 3e-4][i % 3])),
        lambda i: steps_seen.append(lab.trainer.step),
    ]
    threads = [threading.Thread(target=hammer, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert steps_seen == sorted(steps_seen)  # never backwards without a reset
    assert np.isfinite(lab.trainer._stack.g.params).all()
    buffer = io.BytesIO(lab.checkpoint())
    assert buffer.getbuffer().nbytes > 0

"""Checkpoints: exact resumption, and safe refusal of every file that is not one of ours.

Visitors upload checkpoints, so loading one is loading a file from a stranger: it must never run
code, and anything malformed must raise ``CheckpointError`` (a ``ValueError``).
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from run_state import assert_same_run, trained

import gan_core.checkpoint
from gan_core import CheckpointError, GANConfig, Trainer

CONFIG = GANConfig(seed=5, lr_g=1e-3, lr_d=1e-3, beta1=0.5)




def checkpoint_bytes(trainer: Trainer) -> bytes:
    buffer = io.BytesIO()
    trainer.save(buffer)
    return buffer.getvalue()


def refused(data: bytes) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        Trainer.load(io.BytesIO(data))
    assert isinstance(info.value, ValueError)
    return info.value


# -- round trips ---------------------------------------------------------------------------


def test_round_trip_through_a_binary_file_object() -> None:
    original = trained(CONFIG, 130)
    loaded = Trainer.load(io.BytesIO(checkpoint_bytes(original)))
    assert loaded.config == original.config
    assert_same_run(loaded, original)
    assert loaded.evaluate() == original.evaluate()


@pytest.mark.parametrize("as_text", [True, False], ids=["str", "Path"])
def test_round_trip_through_a_path(tmp_path: Path, as_text: bool) -> None:
    original = trained(CONFIG, 30)
    path = tmp_path / "run.pt"
    original.save(str(path) if as_text else path)
    assert_same_run(Trainer.load(str(path) if as_text else path), original)


def test_resuming_continues_exactly_as_an_uninterrupted_run() -> None:
    """Save at 130, load, train 170 more: bit-for-bit the run that trained 300 straight,
    including the history rows recorded on both sides of the save."""
    resumed = Trainer.load(io.BytesIO(checkpoint_bytes(trained(CONFIG, 130))))
    resumed.train(170)
    straight = trained(CONFIG, 300)
    assert_same_run(resumed, straight)
    assert resumed.evaluate() == straight.evaluate()


def test_a_checkpoint_of_a_live_reconfigured_run_keeps_its_new_settings() -> None:
    trainer = trained(CONFIG, 20)
    trainer.reconfigure(CONFIG.replace(loss="hinge", batch_size=32))
    trainer.train(20)
    loaded = Trainer.load(io.BytesIO(checkpoint_bytes(trainer)))
    assert loaded.config == trainer.config
    loaded.train(15)
    trainer.train(15)
    assert_same_run(loaded, trainer)


def test_the_largest_allowed_model_fits_under_the_size_cap() -> None:
    biggest = GANConfig(hidden=512, n_points=100, latent_dim=64)
    assert len(checkpoint_bytes(Trainer(biggest))) < gan_core.checkpoint.MAX_BYTES


# -- refusals ------------------------------------------------------------------------------


def test_random_bytes_are_refused() -> None:
    rng = np.random.default_rng(0)
    for size in (0, 1, 100, 100_000):
        refused(rng.bytes(size))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_a_truncated_checkpoint_is_refused(fraction: float) -> None:
    data = checkpoint_bytes(trained(CONFIG, 5))
    refused(data[: int(len(data) * fraction)])


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = checkpoint_bytes(trained(CONFIG, 5))
    monkeypatch.setattr(gan_core.checkpoint, "MAX_BYTES", len(data) - 1)
    assert "larger" in str(refused(data))


def test_reading_stops_at_the_size_cap() -> None:
    """An endless upload is not read to its end."""

    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            buffer[:] = b"\0" * len(buffer)
            self.served += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(CheckpointError):
        Trainer.load(stream)  # type: ignore[arg-type]
    assert stream.served <= gan_core.checkpoint.MAX_BYTES + 1


class Payload:
    """Unpickling this calls ``os.mkdir(marker)``: proof of code execution if it appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_the_malicious_payload_would_run_under_a_plain_unpickler(tmp_path: Path) -> None:
    """Control for the tests below: the payload is live, so its absence there means something."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def malicious_files(marker: Path) -> dict[str, bytes]:
    """A bare pickle, a torch checkpoint of the payload, and a real checkpoint carrying it."""
    whole = io.BytesIO()
    torch.save(Payload(marker), whole)
    inside = tampered(lambda state: state["history"]["train"].update(stride=Payload(marker)))
    return {"bare pickle": pickle.dumps(Payload(marker)), "torch.save": whole.getvalue(),
            "inside": inside}


@pytest.mark.parametrize("kind", ["bare pickle", "torch.save", "inside"])
def test_a_malicious_pickle_is_refused_without_running_it(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "ran"
    refused(malicious_files(marker)[kind])
    assert not marker.exists()


def as_arrays(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return {k: as_arrays(v) for k, v in value.items()} if isinstance(value, dict) else value


def as_tensors(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    return {k: as_tensors(v) for k, v in value.items()} if isinstance(value, dict) else value


def tampered(edit: Callable[[dict[str, Any]], None], steps: int = 3) -> bytes:
    """A genuine checkpoint's contents, edited as arrays, saved again with ``torch.save``."""
    contents = as_arrays(torch.load(io.BytesIO(checkpoint_bytes(trained(CONFIG, steps))),
                                    weights_only=True))
    edit(contents)
    buffer = io.BytesIO()
    torch.save(as_tensors(contents), buffer)
    return buffer.getvalue()


def test_the_tampering_helper_alone_keeps_a_valid_checkpoint() -> None:
    assert Trainer.load(io.BytesIO(tampered(lambda state: None))).step == 3


def set_nan_weight(state: dict[str, Any]) -> None:
    state["nets"]["g"]["params"][7] = np.nan


def set_inf_moment(state: dict[str, Any]) -> None:
    state["nets"]["d"]["v"][0] = np.inf


TAMPERING: dict[str, Callable[[dict[str, Any]], None]] = {
    "narrower config than weights": lambda s: s["config"].update(hidden=64),
    "more points than weights": lambda s: s["config"].update(n_points=20),
    "weights cut short": lambda s: s["nets"]["d"].update(params=s["nets"]["d"]["params"][:-1]),
    "float64 weights": lambda s: s["nets"]["g"].update(m=s["nets"]["g"]["m"].astype(np.float64)),
    "NaN weight": set_nan_weight,
    "infinite moment": set_inf_moment,
    "unknown config key": lambda s: s["config"].update(colour="red"),
    "garbage config value": lambda s: s["config"].update(batch_size="lots"),
    "config not a mapping": lambda s: s.update(config=[1, 2]),
    "negative step": lambda s: s.update(step=-1),
    "step as text": lambda s: s.update(step="7"),
    "missing nets": lambda s: s.pop("nets"),
    "optimizer step count as text": lambda s: s["nets"]["g"].update(t="3"),
    "wrong random generator": lambda s: s["rng"].update(bit_generator="MT19937"),
    "history rows of the wrong width": lambda s: s["history"]["train"].update(
        rows=np.zeros((len(s["history"]["train"]["steps"]), 2))),
    "history over capacity": lambda s: s["history"]["eval"].update(
        steps=np.arange(10_000), rows=np.zeros((10_000, 3))),
    "other format": lambda s: s.update(format="someone-else/1"),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_a_checkpoint_that_does_not_match_its_own_config_is_refused(name: str) -> None:
    refused(tampered(TAMPERING[name]))


def test_a_shape_mismatch_is_explained() -> None:
    message = str(refused(tampered(TAMPERING["narrower config than weights"])))
    assert "shape" in message


def test_a_non_finite_weight_is_explained() -> None:
    assert "non-finite" in str(refused(tampered(set_nan_weight)))

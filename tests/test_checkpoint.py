"""Checkpoints: exact resumption, and safe refusal of every file that is not one of ours.

Visitors upload checkpoints, so loading one is loading a file from a stranger: it must never run
code, and anything malformed must raise ``CheckpointError`` (a ``ValueError``).
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from run_state import assert_same_course, assert_same_run, trained

import gan_core.files.checkpoint
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
    path = tmp_path / "my run (1).pt"  # torch names the zip's folder after the file
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
    assert len(checkpoint_bytes(Trainer(biggest))) < gan_core.files.checkpoint.MAX_BYTES


def test_loading_a_checkpoint_never_imports_torch(tmp_path: Path) -> None:
    """Only saving needs torch: a server whose visitors only upload never pays its import."""
    path = tmp_path / "run.pt"
    trained(CONFIG, 5).save(path)
    probe = ("import sys; from gan_core import Trainer; "
             f"assert Trainer.load({str(path)!r}).step == 5; "
             "assert 'torch' not in sys.modules, 'torch was imported'")
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", probe], cwd=root, check=True,
                   env={**os.environ, "PYTHONPATH": str(root)})


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
    monkeypatch.setattr(gan_core.files.checkpoint, "MAX_BYTES", len(data) - 1)
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
    assert stream.served <= gan_core.files.checkpoint.MAX_BYTES + 1


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
        return torch.from_numpy(np.array(value))  # a contiguous copy that keeps 0-d as 0-d
    return {k: as_tensors(v) for k, v in value.items()} if isinstance(value, dict) else value


def tampered(edit: Callable[[dict[str, Any]], None], steps: int = 3,
             config: GANConfig = CONFIG) -> bytes:
    """A genuine checkpoint's contents, edited as arrays, saved again with ``torch.save``."""
    contents = as_arrays(torch.load(io.BytesIO(checkpoint_bytes(trained(config, steps))),
                                    weights_only=True))
    edit(contents)
    buffer = io.BytesIO()
    torch.save(as_tensors(contents), buffer)
    return buffer.getvalue()


def test_the_tampering_helper_alone_keeps_a_valid_checkpoint() -> None:
    assert Trainer.load(io.BytesIO(tampered(lambda state: None))).step == 3


def set_nan_weight(state: dict[str, Any]) -> None:
    state["G"]["0.weight"][7, 0] = np.nan


def set_inf_moment(state: dict[str, Any]) -> None:
    state["opt_D"]["state"][1]["exp_avg_sq"][0] = np.inf


def transposed_moment(state: dict[str, Any]) -> None:
    moment = state["opt_D"]["state"][2]
    moment["exp_avg"] = moment["exp_avg"].T.copy()


def set_item(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        for key in path[:-1]:
            state = state[key]
        state[path[-1]] = value(state[path[-1]]) if callable(value) else value
    return edit


def drop(*path: Any) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        for key in path[:-1]:
            state = state[key]
        del state[path[-1]]
    return edit


TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "narrower config than weights": (
        set_item("config", "hidden", value=64), "G: 0.weight has shape (128, 5), expected (64, 5)"),
    "more points than weights": (
        set_item("config", "n_points", value=20), "has shape (15, 128), expected (20, 128)"),
    "weights cut short": (
        set_item("D", "0.bias", value=lambda a: a[:-1]), "D: 0.bias has shape (127,)"),
    "a missing bias": (drop("G", "0.bias"), "G: 0.bias is missing"),
    "a transposed moment": (
        transposed_moment, "opt_D: state of 2.weight: exp_avg has shape (128, 1), expected "
        "(1, 128)"),
    "float64 moments": (
        set_item("opt_G", "state", 0, "exp_avg", value=lambda a: a.astype(np.float64)),
        "opt_G: state of 0.weight: exp_avg is float64, expected float32"),
    "a parameter without optimizer state": (drop("opt_D", "state", 3),
                                            "opt_D: state: 2.bias is missing"),
    "SGD state in an Adam run": (
        set_item("opt_G", "state", 1, value=lambda s: {"momentum_buffer": s["exp_avg"]}),
        "opt_G: state of 0.bias: step is missing"),
    "Adam's step disagreeing with the update count": (
        set_item("opt_G", "state", 0, "step", value=np.array(9.0, np.float32)),
        "opt_G: state of 0.weight: step is 9, but optimizer_steps says 3"),
    "a learning rate that is not the config's": (
        set_item("opt_D", "param_groups", 0, "lr", value=0.5),
        "opt_D: param_groups: lr is 0.5, but the config says 0.001"),
    "NaN weight": (set_nan_weight, "non-finite"),
    "infinite moment": (set_inf_moment, "non-finite"),
    "unknown config key": (set_item("config", "colour", value="red"), "colour"),
    "garbage config value": (set_item("config", "batch_size", value="lots"), "batch_size"),
    "config not a mapping": (set_item("config", value=[1, 2]), "config is not a mapping"),
    "negative step": (set_item("step", value=-1), "step is -1"),
    "step as text": (set_item("step", value="7"), "step is '7'"),
    "missing discriminator": (drop("D"), "D is missing"),
    "an extra entry": (set_item("extra", value=np.zeros(3)), "unexpected entry 'extra'"),
    "optimizer step count as text": (set_item("optimizer_steps", "G", value="3"),
                                     "optimizer_steps: G is '3'"),
    "wrong random generator": (set_item("rng", "bit_generator", value="MT19937"), "rng"),
    "a tensor in the random state": (set_item("rng", "state", "inc", value=np.zeros(2)),
                                     "rng holds a tensor where plain data belongs"),
    "history rows of the wrong width": (
        lambda s: s["history"]["train"].update(
            rows=np.zeros((len(s["history"]["train"]["steps"]), 2))),
        "history: train: rows has shape"),
    "history over capacity": (
        lambda s: s["history"]["eval"].update(steps=np.arange(10_000),
                                              rows=np.zeros((10_000, 3))),
        "history: eval: steps holds 10,000 rows; the series keeps at most 400"),
    "other format": (set_item("format", value="someone-else/1"), "expected format"),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_a_checkpoint_that_does_not_match_its_own_config_is_refused_naming_the_entry(
        name: str) -> None:
    edit, explanation = TAMPERING[name]
    assert explanation in str(refused(tampered(edit)))


def test_an_sgd_checkpoint_is_checked_against_sgd_state() -> None:
    sgd = CONFIG.replace(optimizer="sgd")
    assert Trainer.load(io.BytesIO(tampered(lambda s: None, config=sgd))).step == 3
    message = str(refused(tampered(drop("opt_G", "state", 0, "momentum_buffer"), config=sgd)))
    assert "opt_G: state of 0.weight: momentum_buffer is missing" in message


# -- a schedule of live changes ------------------------------------------------------------------


def changed_run() -> Trainer:
    """A run with live changes and one-network updates: a schedule worth keeping."""
    run = trained(CONFIG, 20)
    run.reconfigure(CONFIG.replace(lr_g=2e-3, loss="hinge"))
    run.train(10)
    run.train_d(2)
    run.train(5)
    return run


def test_a_runs_changes_are_saved_as_plain_data_and_read_back() -> None:
    run = changed_run()
    data = checkpoint_bytes(run)
    saved = torch.load(io.BytesIO(data), weights_only=True)["schedule"]
    assert saved == [change.to_plain() for change in run.changes]
    loaded = Trainer.load(io.BytesIO(data))
    assert loaded.changes == run.changes
    loaded.train(15)
    run.train(15)
    assert_same_course(loaded, run)


def test_a_file_without_a_schedule_is_a_run_without_changes() -> None:
    data = checkpoint_bytes(trained(CONFIG, 5))
    assert "schedule" not in torch.load(io.BytesIO(data), weights_only=True)
    assert Trainer.load(io.BytesIO(data)).changes == ()


@pytest.mark.parametrize(("schedule", "says"), [
    ([{"step": 3}], "schedule"),
    ([{"step": 3, "values": {"hidden": 64}, "before": {"hidden": 128}}], "hidden"),
    ([{"step": 99, "values": {"lr_g": 1e-3}, "before": {"lr_g": 1e-4}}], "step 99"),
    ([{"step": 2, "values": {"lr_g": 2e-3}, "before": {"lr_g": 1e-3}}], "lr_g ends at 0.002"),
])
def test_a_schedule_that_does_not_fit_the_run_is_refused_naming_it(schedule: list,
                                                                   says: str) -> None:
    assert says in str(refused(tampered(lambda s: s.update(schedule=schedule), steps=5)))

"""Files saved in the earlier format, "gan-curve-lab/1", still load and resume exactly.

The files under tests/data were written by the code of that format, and the state each run
reaches after ``MORE_STEPS`` more steps was computed by that code too
(``tests/data/make_v1_checkpoints.py``); the current code must reach it bit for bit.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from run_state import assert_same_run

from gan_core import Trainer
from gan_core.files.checkpoint import FORMAT, FORMAT_V1
from tests.data.make_v1_checkpoints import EXPECTED, HERE, digests, named_state

CASES = json.loads(EXPECTED.read_text())


V1_COLUMNS = {"train": ("d_loss", "g_loss", "d_real", "d_fake"),
              "eval": ("in_band", "w1", "fit_residual")}
"""What the code of that format recorded; later columns are the current code's own."""


def continued_digests(trainer: Trainer, steps: int) -> dict[str, str]:
    trainer.train(steps)
    s = trainer.state()
    nets = {"g": (s.g.params, s.g.m, s.g.v, s.g.t), "d": (s.d.params, s.d.m, s.d.v, s.d.t)}
    history = {}
    for name, series in s.history.items():
        keep = [series["columns"].index(c) for c in V1_COLUMNS[name]]
        history[name] = {**series, "rows": series["rows"][:, keep]}
    return digests(named_state(s.step, nets, s.rng, history))


def test_the_files_are_in_the_earlier_format() -> None:
    for name in CASES:
        with zipfile.ZipFile(HERE / f"v1-{name}.pt") as archive:
            pickled = next(archive.read(n) for n in archive.namelist()
                           if n.endswith("/data.pkl"))
        assert FORMAT_V1.encode() in pickled and FORMAT.encode() not in pickled


@pytest.mark.parametrize("name", CASES)
def test_an_earlier_file_resumes_exactly_as_the_code_that_wrote_it(name: str) -> None:
    case = CASES[name]
    got = continued_digests(Trainer.load(HERE / f"v1-{name}.pt"), case["more_steps"])
    assert [k for k in got if got[k] != case["sha256"][k]] == []
    assert got.keys() == case["sha256"].keys()


@pytest.mark.parametrize("name", CASES)
def test_an_earlier_file_saved_again_is_the_same_run(name: str) -> None:
    old = Trainer.load(HERE / f"v1-{name}.pt")
    buffer = io.BytesIO()
    old.save(buffer)
    again = Trainer.load(io.BytesIO(buffer.getvalue()))
    assert again.config == old.config
    assert_same_run(again, old)
    case = CASES[name]
    assert continued_digests(again, case["more_steps"]) == case["sha256"]


def test_the_pacing_fields_of_an_earlier_config_are_ignored() -> None:
    with zipfile.ZipFile(HERE / "v1-sgd.pt") as archive:
        pickled = archive.read("v1-sgd/data.pkl")
    assert b"steps_per_tick" in pickled and b"tick_seconds" in pickled
    assert Trainer.load(HERE / "v1-sgd.pt").config.optimizer == "sgd"

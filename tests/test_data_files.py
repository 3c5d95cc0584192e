"""Your curves in a checkpoint (carried, bounded, checked), in a link (drawn ones, quantised,
within a link's length; a file's, said to be missing) and in the PyTorch script (drawn ones
written in, a file's read with --data)."""

from __future__ import annotations

import contextlib
import io
import re
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from test_pytorch_script import ruff_findings, unused_definitions

from gan_core import CheckpointError, GANConfig, Pacing, Trainer, link_query, read_link
from gan_core.data import Curves
from gan_core.data.curves import curve_grid
from gan_core.files.link import SCHEDULE_KEY
from gan_core.files.link_data import (
    LOWEST,
    MAX_DATA_CHARS,
    MAX_DRAWN_CURVES,
    STEP,
    quantised,
    read_data,
    spell_data,
)
from gan_core.gan.schedule import MAX_CHANGES_CHARS, MAX_LINK_CHARS, Change, check_changes
from gan_core.pytorch import script

ROOT = Path(__file__).resolve().parents[1]
TEMPERATURES = ROOT / "docs" / "data" / "temperatures.csv"
X = curve_grid(15).astype(np.float64)
DRAWN_BAND = Curves.between(quantised(X**2 - 0.2), quantised(np.sin(2 * X) + 2))
DRAWN_CURVES = Curves.around(quantised(np.stack([X**2, 2 - X**2, 0.5 + 0 * X])), 0.15)


def saved(trainer: Trainer) -> bytes:
    buffer = io.BytesIO()
    trainer.save(buffer)
    return buffer.getvalue()


# -- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [Curves.tutorial(), DRAWN_BAND, DRAWN_CURVES,
                                  Curves.from_csv(TEMPERATURES)],
                         ids=["tutorial", "band", "curves", "csv"])
def test_a_checkpoint_carries_the_curves_and_resumes_exactly_with_them(data: Curves) -> None:
    trainer = Trainer(GANConfig(target="data", seed=9), data=data)
    trainer.train(120)
    resumed = Trainer.load(io.BytesIO(saved(trainer)))
    assert resumed.data == data and resumed.data.name == data.name
    assert resumed.data.notes == data.notes and resumed.data.layout == data.layout
    trainer.train(80)
    resumed.train(80)
    np.testing.assert_array_equal(resumed.state().g.params, trainer.state().g.params)
    assert resumed.history.eval.columns == trainer.history.eval.columns


def test_the_curves_in_a_checkpoint_are_plain_pytorch() -> None:
    data = Curves.from_csv(TEMPERATURES)
    trainer = Trainer(GANConfig(target="data"), data=data)
    ckpt = torch.load(io.BytesIO(saved(trainer)), weights_only=True)
    entry = ckpt["data"]
    assert entry["kind"] == "rows" and entry["values"].dtype == torch.float64
    np.testing.assert_array_equal(entry["values"].numpy(), data.values)
    assert entry["x"].tolist() == list(range(24)) and entry["layout"] == [1, 1]
    assert ckpt["config"]["target"] == "data" and ckpt["config"]["n_points"] == 24


def test_labels_travel_in_a_checkpoint() -> None:
    data = Curves.from_array(np.random.default_rng(0).standard_normal((20, 6)),
                             labels=[f"class {i % 2}" for i in range(20)])
    resumed = Trainer.load(io.BytesIO(saved(Trainer(GANConfig(target="data"), data=data))))
    assert resumed.data.labels == data.labels


def _tampered(change: object) -> bytes:
    """A genuine checkpoint of drawn curves, with ``change(ckpt)`` applied to its contents."""
    trainer = Trainer(GANConfig(target="data"), data=DRAWN_CURVES)
    ckpt = torch.load(io.BytesIO(saved(trainer)), weights_only=True)
    change(ckpt)
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    return buffer.getvalue()


def _set(path: tuple, value: object) -> object:
    def change(ckpt: dict) -> None:
        target = ckpt
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize(("change", "says"), [
    (lambda c: c.pop("data"), "data is missing: a run of target 'data' carries the curves"),
    (_set(("data", "values"), torch.full((3, 15), float("nan"), dtype=torch.float64)),
     "data: curves: row 1, column 1: nan is not a number"),
    (_set(("data", "values"), torch.zeros((3, 14), dtype=torch.float64)),
     "data: values has shape (3, 14); expected 1 to 10,000 curves of the config's 15 points"),
    (_set(("data", "values"), torch.zeros((10_001, 15), dtype=torch.float64)),
     "10,000 curves"),
    (_set(("data", "values"), torch.zeros((3, 15), dtype=torch.float32)),
     "data: values is float32, expected float64"),
    (_set(("data", "kind"), "mixture"), "data: kind is 'mixture'"),
    (_set(("data", "noise"), -1.0), "data: noise -1.0 is not a width above 0"),
    (_set(("data", "noise"), "wide"), "data: noise is 'wide', not a number"),
    (_set(("data", "x"), torch.tensor([3.0] * 15, dtype=torch.float64)),
     "data: x: positions must increase"),
    (_set(("data", "layout"), [5, 0]), "data: layout is [5, 0]"),
    (_set(("data", "notes"), ["x" * 501]), "data: notes is not at most 20 texts"),
    (_set(("data", "labels"), ["a"]), "data: labels"),
    (_set(("data", "extra"), 1), "data: unexpected entry 'extra'"),
])
def test_a_checkpoint_whose_curves_do_not_fit_is_refused_naming_them(change: object,
                                                                      says: str) -> None:
    with pytest.raises(CheckpointError, match=re.escape(says)):
        Trainer.load(io.BytesIO(_tampered(change)))


def test_a_checkpoint_of_a_built_in_family_carrying_curves_is_refused() -> None:
    ckpt = torch.load(io.BytesIO(saved(Trainer(GANConfig()))), weights_only=True)
    ckpt["data"] = torch.load(io.BytesIO(_tampered(lambda c: None)), weights_only=True)["data"]
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    with pytest.raises(CheckpointError, match="a run of target 'parabola' learns no curves"):
        Trainer.load(io.BytesIO(buffer.getvalue()))


# -- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [Curves.tutorial(), DRAWN_BAND, DRAWN_CURVES],
                         ids=["tutorial", "band", "curves"])
def test_drawn_curves_travel_in_a_link_exactly(data: Curves) -> None:
    query = link_query(GANConfig(target="data", seed=4), data=data)
    link = read_link(query)
    assert link.problems == {} and link.data == data
    assert link.spelled["data"] == query["data"]


def test_the_untouched_band_is_one_word_in_a_link_at_any_number_of_points() -> None:
    assert link_query(GANConfig(target="data"), data=Curves.tutorial())["data"] == "band"
    link = read_link({"target": "data", "n_points": "40", "data": "band"})
    assert link.data == Curves.tutorial(40)


def test_a_link_carries_values_on_a_grid_of_0_005() -> None:
    assert STEP == 0.005 and LOWEST == -10.24
    drawn = quantised(np.array([0.0012, 1.0024, -3.3333, 99.0, -99.0]))
    np.testing.assert_allclose(drawn, [0.0, 1.0, -3.335, 10.235, -10.24], atol=1e-9)
    band = Curves.between(np.sin(X), np.sin(X) + 1.2345)  # not on the grid: rounded
    carried = read_link(link_query(GANConfig(target="data"), data=band)).data
    assert np.abs(carried.values - band.values).max() <= STEP / 2 + 1e-12


def test_the_largest_drawing_and_the_longest_settings_fit_a_link_with_room_for_changes() -> None:
    x = curve_grid(100).astype(np.float64)
    largest = Curves.around(quantised(np.stack([np.sin(k * x) for k in range(1, 7)])), 0.37)
    config = GANConfig(target="data", n_points=100, seed=2**31 - 1, lr_g=3e-3)
    changes = check_changes([Change(100 * k, {"lr_g": 1e-3 if k % 2 else 3e-3})
                             for k in range(1, 40)], config)
    query = link_query(config, changes, Pacing(steps_per_tick=500, tick_seconds=2.5), largest)
    assert len(query["data"]) <= MAX_DATA_CHARS
    assert len(query["data"]) + len(query.get(SCHEDULE_KEY, "")) <= MAX_CHANGES_CHARS
    address = 200 + sum(len(k) + len(v) + 2 for k, v in query.items())
    assert address <= MAX_LINK_CHARS
    assert read_link(query).data == largest
    few = check_changes([Change(100, {"lr_g": 1e-3})], config)
    assert SCHEDULE_KEY in link_query(config, few, data=largest)


def test_a_link_to_a_run_of_a_csv_file_says_the_file_did_not_come_with_it() -> None:
    query = link_query(GANConfig(target="data", n_points=24),
                       data=Curves.from_csv(TEMPERATURES))
    assert query["data"] == "csv"
    link = read_link(query)
    assert link.data is None and link.data_from_csv
    assert "learned curves from a file, which a link cannot carry" in link.summary()


@pytest.mark.parametrize(("query", "says"), [
    ({"target": "data", "data": "band~AAAA"}, "4 characters are not whole curves of 15"),
    ({"target": "data", "data": "band~" + "A" * 120}, "4 curves of 15 points, not 2"),
    ({"target": "data", "data": "band~" + "A" * 60}, "the same curve"),
    ({"target": "data", "data": "curves~0.5~" + "A!" * 15}, "not whole curves"),
    ({"target": "data", "data": "curves~3~" + "AB" * 15}, "the noise '3' is not a width"),
    ({"target": "data", "data": "curves~nan~" + "AB" * 15}, "the noise 'nan'"),
    ({"target": "data", "data": "curves~0.1~" + "AB" * 15 * 7}, "7 curves of 15 points"),
    ({"target": "data", "data": "wave"}, "'wave' is not band"),
    ({"target": "data", "data": "x" * 5000}, "longer than"),
    ({"target": "data", "data": ["band", "band"]}, "given 2 times"),
    ({"data": "band"}, "curves are learned with target data, not parabola"),
])
def test_drawn_curves_a_link_cannot_use_are_named_in_its_one_warning(query: dict,
                                                                      says: str) -> None:
    link = read_link(query)
    assert list(link.problems) == ["data"] and says in link.problems["data"]
    assert link.data is None


def test_a_link_of_target_data_without_curves_starts_from_the_tutorials_band() -> None:
    link = read_link({"target": "data"})
    assert link.problems == {} and link.data is None  # the page draws its own start
    assert read_link({"target": "data", "data": "band"}).data == Curves.tutorial()


def test_spelling_curves_a_link_cannot_draw_says_csv() -> None:
    off_grid = Curves.from_array(np.random.default_rng(0).standard_normal((5, 4)),
                                 x=[0, 1, 2, 4])
    too_many = Curves.around(np.zeros((MAX_DRAWN_CURVES + 1, 15)) + np.arange(7)[:, None], 0.1)
    odd_noise = Curves.around(X, 0.123)
    assert {spell_data(c) for c in (off_grid, too_many, odd_noise)} == {"csv"}
    assert read_data(spell_data(DRAWN_CURVES), 15) == DRAWN_CURVES


# -- the PyTorch script ------------------------------------------------------------------------


def run_script(config: GANConfig, data: Curves) -> types.ModuleType:
    module = types.ModuleType("run")
    exec(compile(script(config, data), "run.py", "exec"), module.__dict__)
    return module


def test_a_drawn_bands_script_blends_its_bounds_as_the_run_does() -> None:
    run = run_script(GANConfig(target="data"), DRAWN_BAND)
    np.testing.assert_array_equal(run.LOWER, DRAWN_BAND.values[0])
    np.testing.assert_array_equal(run.UPPER, DRAWN_BAND.values[1])
    paintings = run.artist_works().numpy().astype(np.float64)
    u = (paintings - run.LOWER) / (run.UPPER - run.LOWER)
    assert np.ptp(u, axis=1).max() < 1e-5 and 0 <= u.min() and u.max() <= 1


def test_the_untouched_bands_script_is_the_tutorials_own_formula_as_a_blend() -> None:
    text = script(GANConfig(target="data"), Curves.tutorial())
    assert "LOWER = PAINT_POINTS[0] ** 2" in text and "UPPER = 2 * PAINT_POINTS[0] ** 2 + 1" in text
    assert "a * x^2 + (a - 1) with a ~ U(1, 2)" in text


def test_drawn_curves_scripts_draw_one_curve_plus_noise() -> None:
    run = run_script(GANConfig(target="data", batch_size=512), DRAWN_CURVES)
    np.testing.assert_array_equal(run.CURVES, DRAWN_CURVES.values)
    assert run.NOISE == 0.15
    paintings = run.artist_works().numpy().astype(np.float64)
    nearest = np.argmin(((paintings[:, None] - run.CURVES[None]) ** 2).sum(axis=2), axis=1)
    assert set(nearest) == {0, 1, 2}
    assert (paintings - run.CURVES[nearest]).std() == pytest.approx(0.15, rel=0.05)


def test_a_csv_runs_script_reads_the_file_given_with_data_as_the_page_did(
        tmp_path: Path) -> None:
    data = Curves.from_csv(TEMPERATURES)
    config = GANConfig(target="data", n_points=24)
    text = script(config, data)
    assert "--data temperatures.csv" in text and f"OFFSET = {data.offset!r}" in text
    run = run_script(config, data)
    np.testing.assert_allclose(run.read_data(str(TEMPERATURES)), data.training, atol=1e-6)
    assert "x = 0.0, 1.0, 2.0" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run.main(["--steps", "3", "--data", str(TEMPERATURES)])
    assert "step 3: D accuracy=" in out.getvalue()
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        run.main(["--steps", "3"])  # the file is needed
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match="cannot read curves from"):
        run.main(["--steps", "1", "--data", str(bad)])


@pytest.mark.parametrize("data", [Curves.tutorial(), DRAWN_BAND, DRAWN_CURVES,
                                  Curves.from_csv(TEMPERATURES),
                                  Curves.from_csv(ROOT / "docs" / "data" / "two-shapes.csv")],
                         ids=["tutorial", "band", "curves", "temperatures", "two-shapes"])
def test_every_script_of_your_data_is_lint_clean_and_defines_nothing_unused(
        data: Curves) -> None:
    text = script(GANConfig(target="data", n_points=data.n_points), data)
    compile(text, "run.py", "exec")
    assert ruff_findings(text) == ""
    assert unused_definitions(text) == set()
    assert ("OFFSET" in text) == data.normalised


def test_a_script_of_target_data_needs_the_curves() -> None:
    with pytest.raises(ValueError, match="needs the run's curves"):
        script(GANConfig(target="data"))

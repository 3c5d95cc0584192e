"""Your data on the page (driven by AppTest): the target in the sidebar, the three ways to bring
curves, a refused file changing nothing, links and checkpoints carrying the curves, and the
rest of the page working on them. Drawing with a mouse or a finger: tests/browser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from page_driver import metric, play, start, step_readout, trainer, weights
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, link_query
from gan_core.data import Curves
from gan_core.data.curves import curve_grid
from gan_core.files.link_data import quantised
from harness.hostile_csv import HOSTILE
from lab import your_data

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "data"
X = curve_grid(15).astype(np.float64)
DATA_READOUTS = ("In band", "Sliced W1", "Precision", "Recall", "Nearest real")


def texts(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption) + "\n".join(m.value for m in at.markdown)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key=your_data.UPLOAD).upload(name, data).run()


@pytest.fixture
def on_data() -> AppTest:
    """The page with the target "Your data" picked in the sidebar."""
    at = start()
    at.selectbox(key="target").set_value("data").run()
    assert not at.exception
    return at


# -- the target and its three ways ------------------------------------------------------------


def test_picking_your_data_learns_the_tutorials_band_and_shows_its_readouts(
        on_data: AppTest) -> None:
    run = trainer(on_data)
    assert run.config.target == "data" and run.data == Curves.tutorial()
    for label in DATA_READOUTS:
        assert metric(on_data, label)
    assert on_data.radio(key=your_data.SOURCE).value == "band"
    assert "this band is the tutorial's data" in texts(on_data)
    assert "differ by at most 3.6e-07" in texts(on_data)


def test_drawing_curves_learns_them_with_the_noise_the_slider_sets(on_data: AppTest) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    data = trainer(on_data).data
    assert data.kind == "around" and data.noise == 0.1 and data.n_curves == 2
    assert "New model: your data changed" in on_data.toast[0].value  # the page does not move
    on_data.slider(key=your_data.NOISE).set_value(0.35).run()
    assert trainer(on_data).data.noise == 0.35
    on_data.radio(key=your_data.SOURCE).set_value("band").run()
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    assert trainer(on_data).data.noise == 0.35  # the drawing and its noise are remembered


def test_points_per_curve_redraw_a_drawing_on_the_new_grid(on_data: AppTest) -> None:
    on_data.slider(key="n_points").set_value(31).run()
    assert trainer(on_data).data == Curves.tutorial(31)
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    assert trainer(on_data).data.n_points == 31


def test_an_uploaded_csv_is_learned_its_points_set_and_its_notes_shown(on_data: AppTest) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("csv").run()
    assert "No file yet" in texts(on_data)
    upload(on_data, "temperatures.csv", (EXAMPLES / "temperatures.csv").read_bytes())
    run = trainer(on_data)
    assert not on_data.exception and not on_data.error
    assert run.data.name == "temperatures.csv" and run.config.n_points == 24
    slider = on_data.slider(key="n_points")
    assert slider.value == 24 and slider.disabled
    shown = texts(on_data)
    assert "365 curves of 24 points (x from 0 to 23)" in shown
    assert "The first column ('day') names the rows" in shown
    assert "normalised copy, (y − 12.35) / 12.77" in shown
    play(on_data)
    assert step_readout(on_data) > 0 and np.isfinite(run.evaluate().sliced_w1)


@pytest.mark.parametrize("name", ["zip bomb renamed .csv", "semicolons and decimal commas",
                                  "NaN cell", "every row identical"])
def test_a_refused_file_changes_nothing_and_says_why(on_data: AppTest, name: str) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("csv").run()
    upload(on_data, "good.csv", (EXAMPLES / "two-shapes.csv").read_bytes())
    play(on_data)
    on_data.button(key="pause").click().run()
    before, step, kept = trainer(on_data), step_readout(on_data), weights(on_data)
    history = len(before.history)
    upload(on_data, "bad.csv", HOSTILE[name].build())
    assert len(on_data.error) == 1
    assert "Could not use 'bad.csv'" in on_data.error[0].value
    assert HOSTILE[name].says in on_data.error[0].value
    assert "Nothing changed" in on_data.error[0].value
    assert trainer(on_data) is before and step_readout(on_data) == step
    assert len(before.history) == history and before.data.name == "good.csv"
    np.testing.assert_array_equal(weights(on_data), kept)
    assert not on_data.exception


# -- links ------------------------------------------------------------------------------------


def test_a_link_with_drawn_curves_opens_on_them() -> None:
    drawn = Curves.around(quantised(np.stack([X, -X, 0 * X + 1])), 0.2)
    at = start(link_query(GANConfig(target="data", seed=3), data=drawn), pacing=False)
    assert trainer(at).data == drawn and not at.warning
    assert at.radio(key=your_data.SOURCE).value == "curves"
    assert at.slider(key=your_data.NOISE).value == 0.2
    assert at.query_params["data"] == link_query(GANConfig(target="data"), data=drawn)["data"]


def test_a_link_to_a_run_of_a_csv_file_says_so_in_its_one_warning() -> None:
    at = start({"target": "data", "data": "csv", "n_points": "24"}, pacing=False)
    assert len(at.warning) == 1
    assert "a link cannot carry: upload the same CSV file" in at.warning[0].value
    assert at.radio(key=your_data.SOURCE).value == "csv"
    assert "upload the same file here" in texts(at)
    assert trainer(at).data == Curves.tutorial(24)  # until the file comes


def test_the_url_follows_the_drawing_and_drops_it_for_a_family(on_data: AppTest) -> None:
    assert on_data.query_params["data"] == "band"
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    assert on_data.query_params["data"].startswith("curves~0.1~")
    on_data.selectbox(key="target").set_value("sine").run()
    assert "data" not in on_data.query_params


# -- checkpoints --------------------------------------------------------------------------------


def test_a_checkpoint_of_your_data_resumes_on_the_same_curves_with_the_page_following(
        on_data: AppTest) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    on_data.slider(key=your_data.NOISE).set_value(0.25).run()
    play(on_data)
    on_data.button(key="pause").click().run()
    saved = on_data.session_state["lab"].checkpoint()
    step, data = trainer(on_data).step, trainer(on_data).data

    other = start()
    other.file_uploader(key="upload").upload("run.pt", saved).run()
    assert not other.exception and not other.error
    assert step_readout(other) == step and trainer(other).data == data
    assert other.selectbox(key="target").value == "data"
    assert other.radio(key=your_data.SOURCE).value == "curves"
    other.run()  # the page's next run keeps learning the same curves: no new model
    assert trainer(other).step == step and not other.toast


def test_a_checkpoint_of_a_csv_run_resumes_with_its_curves() -> None:
    at = start()
    at.selectbox(key="target").set_value("data").run()
    at.radio(key=your_data.SOURCE).set_value("csv").run()
    upload(at, "temperatures.csv", (EXAMPLES / "temperatures.csv").read_bytes())
    play(at)
    saved = at.session_state["lab"].checkpoint()
    other = start()
    other.file_uploader(key="upload").upload("run.pt", saved).run()
    assert trainer(other).data.name == "temperatures.csv"
    assert other.slider(key="n_points").value == 24
    other.run()
    assert trainer(other).step == trainer(at).step


# -- the rest of the page, on your data ----------------------------------------------------------


def test_live_changes_presets_and_one_network_steps_work_on_your_data(on_data: AppTest) -> None:
    play(on_data)
    before = trainer(on_data)
    on_data.select_slider(key="lr_g").set_value(1e-3).run()
    assert trainer(on_data) is before and before.config.lr_g == 1e-3
    on_data.button(key="train_d").click().run()
    on_data.button(key="train_g").click().run()
    assert [c.action for c in before.changes][-2:] == [("train_d", 1), ("train_g", 1)]
    on_data.selectbox(key="preset").set_value("fast").run()
    run = trainer(on_data)
    assert run.config.target == "data" and run.config.lr_g == 3e-3
    assert run.data == Curves.tutorial()
    assert not on_data.exception


def test_forces_slow_motion_ghost_and_looking_back_work_on_your_data(on_data: AppTest) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    on_data.toggle(key="forces").set_value(True).run()
    assert any(c.value.startswith("Forces: each line is D's push") for c in on_data.caption)
    on_data.toggle(key="slow_motion").set_value(True).run()
    on_data.button(key="step").click().run()
    assert trainer(on_data).step == 1
    on_data.toggle(key="slow_motion").set_value(False).run()
    on_data.toggle(key="ghost").set_value(True).run()
    play(on_data)
    on_data.select_slider(key="lr_g").set_value(1e-3).run()
    play_on = on_data.run()
    assert trainer(play_on).ghost is not None
    on_data.button(key="pause").click().run()
    snapshots = trainer(on_data).snapshots
    assert not on_data.exception and len(snapshots) >= 1


def test_a_stability_map_of_your_data_trains_on_the_runs_curves(on_data: AppTest) -> None:
    on_data.radio(key=your_data.SOURCE).set_value("curves").run()
    on_data.session_state["view"] = "Stability map"
    on_data.run()
    on_data.slider(key="stability_x_n").set_value(2).run()
    on_data.slider(key="stability_y_n").set_value(2).run()
    on_data.select_slider(key="stability_steps").set_value(500).run()
    on_data.button(key="stability_run").click().run()
    grid = on_data.session_state["stability"].run.grid
    assert grid.data == trainer(on_data).data and grid.base.target == "data"
    assert not on_data.exception


def test_the_pytorch_tab_writes_the_drawn_curves_into_the_script(on_data: AppTest) -> None:
    on_data.session_state["view"] = "PyTorch"
    on_data.run()
    code = next(c.value for c in on_data.code if "artist_works" in c.value)
    assert "LOWER = PAINT_POINTS[0] ** 2" in code

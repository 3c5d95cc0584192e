"""A conditional run of your own curves on the page (AppTest): a CSV file with a label column,
Conditional turned on, the classes' readouts, bands and switch; a file without labels refused
with the reason, changing nothing. In a browser:
tests/browser/test_conditional_data_in_browser.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from page_driver import metric, play, start, step_readout, trainer
from streamlit.testing.v1 import AppTest

from gan_core.files.checkpoint import read_checkpoint
from lab import your_data

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "data"
LABELLED = (EXAMPLES / "labelled-shapes.csv").read_bytes()


def with_file(name: str, data: bytes) -> AppTest:
    """The page learning the file ``name`` under Your data."""
    at = start()
    at.selectbox(key="target").set_value("data").run()
    at.radio(key=your_data.SOURCE).set_value("csv").run()
    at.file_uploader(key=your_data.UPLOAD).upload(name, data).run()
    assert not at.exception and trainer(at).data.name == name
    return at


def test_a_file_with_labels_learns_each_class_once_conditional_is_on() -> None:
    at = with_file("labelled-shapes.csv", LABELLED)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    run = trainer(at)
    assert run.config.conditional and run.target.class_names == ("bump", "dip")
    assert run.state().g.params.size == (5 + 1) * 128 + 128 + 128 * 16 + 16  # one label column
    labels = [m.label for m in at.metric]
    for label in ("Class accuracy", "In band, bump", "In band, dip", "Sliced W1, bump",
                  "Sliced W1, dip", "Precision", "Recall"):
        assert label in labels
    at.button(key="step").click().run()
    readouts = trainer(at).readouts()
    assert metric(at, "Class accuracy") == f"{100 * readouts.class_accuracy:.1f}%"
    assert metric(at, "In band, dip") == f"{100 * readouts.classes[1].in_band:.1f}%"
    help_text = next(m.help for m in at.metric if m.label == "Class accuracy")
    assert "about 50%" in help_text and "your file's labels" in help_text
    assert not at.exception


def test_the_charts_draw_each_classs_band_at_the_datas_points_and_the_switch_picks_one() -> None:
    at = with_file("labelled-shapes.csv", LABELLED)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    element = at.get("vega_lite_chart")[0]
    spec = json.loads(element.proto.spec)
    lines = next(layer for layer in spec["layer"] if layer["data"] == {"name": "curves"})
    assert "G: bump" in lines["encoding"]["stroke"]["legend"]["labelExpr"]
    assert any("Discriminator map · class bump" in m.value for m in at.markdown)
    at.session_state["class_view"] = 1
    at.run()
    at.slider(key="label_blend").set_value(1.0).run()
    assert any("Discriminator map · class dip" in m.value for m in at.markdown)
    assert any("Latent explorer · asked for dip" in m.value for m in at.markdown)
    assert not at.exception


def test_a_conditional_run_of_your_data_plays_and_its_checkpoint_resumes_with_the_labels() -> None:
    at = with_file("labelled-shapes.csv", LABELLED)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    play(at)
    assert step_readout(at) > 0
    data = at.session_state["lab"].checkpoint()
    state = read_checkpoint(io.BytesIO(data))
    assert state.config.conditional and state.data.classes == ("bump", "dip")
    fresh = start()
    fresh.session_state["lab"].restore(data)
    assert trainer(fresh).target.class_names == ("bump", "dip")
    assert trainer(fresh).step == trainer(at).step


def test_conditional_on_a_file_without_labels_says_why_and_changes_nothing() -> None:
    at = with_file("two-shapes.csv", (EXAMPLES / "two-shapes.csv").read_bytes())
    before = trainer(at)
    step = step_readout(at)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    assert trainer(at) is before and not before.config.conditional
    assert step_readout(at) == step and trainer(at).data.name == "two-shapes.csv"
    assert at.sidebar.toggle(key="conditional").value is False  # back as the run has it
    shown = "\n".join(w.value for w in at.warning)
    assert "your data have no labels" in shown and "Nothing changed" in shown
    assert not at.exception


def test_with_conditional_on_a_file_without_labels_is_refused_and_the_run_kept() -> None:
    at = with_file("labelled-shapes.csv", LABELLED)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    before = trainer(at)
    at.file_uploader(key=your_data.UPLOAD).upload(
        "two-shapes.csv", (EXAMPLES / "two-shapes.csv").read_bytes()).run()
    assert trainer(at) is before and before.data.name == "labelled-shapes.csv"
    assert "your data have no labels" in "\n".join(w.value for w in at.warning)
    at.run()
    assert trainer(at) is before and at.sidebar.toggle(key="conditional").value is True
    assert not at.exception


def test_the_pytorch_tab_says_why_a_conditional_run_of_your_data_has_no_script() -> None:
    at = with_file("labelled-shapes.csv", LABELLED)
    at.sidebar.toggle(key="conditional").set_value(True).run()
    at.session_state["view"] = "PyTorch"
    at.run()
    assert not at.exception
    assert not any("artist_works" in c.value for c in at.code)  # no script shown
    assert "download_script" not in [b.key for b in at.get("download_button")]
    shown = "\n".join(i.value for i in at.info)
    assert "No script for this run" in shown and "a script of your data's classes is not " \
        "written" in shown
    assert "The checkpoint is plain PyTorch" in "\n".join(m.value for m in at.markdown)


def test_a_link_to_a_conditional_run_of_a_file_opens_without_classes_and_says_why() -> None:
    at = start({"target": "data", "data": "csv", "conditional": "true", "n_points": "16"})
    assert not at.exception and not trainer(at).config.conditional
    shown = "\n".join(w.value for w in at.warning)
    assert "which a link cannot carry" in shown
    assert "your data have no labels" in shown and "starts without Conditional" in shown
    assert at.sidebar.toggle(key="conditional").value is False
    at.radio(key=your_data.SOURCE).set_value("csv").run()
    at.file_uploader(key=your_data.UPLOAD).upload("labelled-shapes.csv", LABELLED).run()
    at.sidebar.toggle(key="conditional").set_value(True).run()
    assert trainer(at).config.conditional and trainer(at).target.class_names == ("bump", "dip")

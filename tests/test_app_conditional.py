"""A conditional run on the page, driven headless with Streamlit's AppTest (each ``run()`` is
a tick): the setting, its readouts and charts, the class switch, and everything else the page
does with a run."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from page_driver import CHUNK, play, start, step_readout, trainer
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, Trainer
from gan_core.files.checkpoint import read_checkpoint
from gan_core.gan.schedule import Change

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

READOUTS = ["Step", "D accuracy", "D score", "Class accuracy", "In band, lower",
            "In band, upper", "W1, lower", "W1, upper", "Shape error"]


def conditional() -> AppTest:
    return start({"conditional": "true"})


def curves_chart(at: AppTest) -> tuple[dict, set[str]]:
    """The curves chart's spec and the names of its datasets (the page's first chart)."""
    element = at.get("vega_lite_chart")[0]
    return json.loads(element.proto.spec), {d.name for d in element.proto.datasets}


def test_the_conditional_switch_is_a_model_setting_that_starts_a_fresh_model() -> None:
    at = play(start())
    assert step_readout(at) == CHUNK
    toggle = at.sidebar.toggle(key="conditional")
    assert toggle.label == "Conditional" and toggle.value is False
    toggle.set_value(True).run()
    run = trainer(at)
    # a new model (trained one tick since, as it plays), not a live change of the old one
    assert run.config.conditional and run.step == CHUNK and run.changes == ()
    assert run.state().g.params.size == (5 + 1) * 128 + 128 + 128 * 15 + 15
    assert any("New model: conditional changed" in i.value for i in at.info)
    at.run()
    assert trainer(at).step == 2 * CHUNK and not at.exception


def test_a_conditional_run_reads_class_accuracy_and_each_classs_band_and_w1() -> None:
    at = conditional()
    assert [m.label for m in at.metric] == READOUTS
    at.button(key="step").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Class accuracy"].endswith("%")
    help_text = next(m.help for m in at.metric if m.label == "Class accuracy")
    assert "Target 100%" in help_text and "about 50%" in help_text
    readouts = trainer(at).readouts()
    assert metrics["Class accuracy"] == f"{100 * readouts.class_accuracy:.1f}%"
    assert metrics["W1, upper"] == f"{readouts.classes[1].w1:.3f}"
    assert metrics["In band, lower"] == f"{100 * readouts.classes[0].in_band:.1f}%"


def test_the_curves_chart_draws_each_classs_band_and_colours_curves_by_class() -> None:
    at = conditional()
    spec, datasets = curves_chart(at)
    assert {"band", "curves", "highlighted"} <= datasets
    areas = [layer for layer in spec["layer"] if layer["data"] == {"name": "band"}]
    assert areas[0]["encoding"]["detail"]["field"] == "c"  # one band per class
    assert areas[0]["encoding"]["opacity"]["field"] == "f"  # the one not looked at faded
    lines = next(layer for layer in spec["layer"] if layer["data"] == {"name": "curves"})
    assert lines["encoding"]["stroke"]["field"] == "s"
    assert "G: lower" in lines["encoding"]["stroke"]["legend"]["labelExpr"]
    assert any(c.value.startswith("Conditional: each of G's curves") for c in at.caption)


def test_the_class_switch_picks_the_class_looked_at_and_sets_the_label() -> None:
    at = conditional()
    at.button(key="step").click().run()
    assert at.slider(key="label_blend").value == 0.0
    assert any("Discriminator map · class lower" in m.value for m in at.markdown)
    at.session_state["class_view"] = 1
    at.run()
    at.slider(key="label_blend").set_value(1.0).run()
    assert any("Discriminator map · class upper" in m.value for m in at.markdown)
    assert any("Latent explorer · asked for upper" in m.value for m in at.markdown)
    at.slider(key="label_blend").set_value(0.5).run()
    assert any("label 0.50, between lower (0) and upper (1)" in m.value for m in at.markdown)
    assert not at.exception


def test_a_link_with_conditional_replays_the_run_with_its_live_changes() -> None:
    start_config = GANConfig(conditional=True, seed=3)
    changes = (Change(2 * CHUNK, {"lr_g": 1e-3}, {"lr_g": 1e-4}),)
    reference = Trainer(start_config, schedule=changes)
    reference.train(4 * CHUNK)
    at = start({"conditional": "true", "seed": "3", "lr_g": "0.001",
                "changes": "lr_g-0.0001~40~lr_g-0.001"})
    play(at)
    for _ in range(3):
        at.run()
    run = trainer(at)
    assert run.step == 4 * CHUNK and run.config.conditional
    np.testing.assert_array_equal(run.state().g.params, reference.state().g.params)


def test_a_conditional_checkpoint_downloads_and_resumes_with_its_classes() -> None:
    at = conditional()
    at.button(key="step").click().run()
    data = at.session_state["lab"].checkpoint()
    state = read_checkpoint(io.BytesIO(data))
    assert state.config.conditional and state.g.params.size == (5 + 1) * 128 + 128 + 128 * 15 + 15
    fresh = start()
    fresh.session_state["lab"].restore(data)
    assert trainer(fresh).config.conditional and trainer(fresh).step == CHUNK


def test_slow_motion_forces_and_one_network_steps_work_on_a_conditional_run() -> None:
    at = conditional()
    at.toggle(key="forces").set_value(True).run()
    at.toggle(key="slow_motion").set_value(True).run()
    at.button(key="step").click().run()
    assert step_readout(at) == 1
    at.button(key="train_d").click().run()
    at.button(key="train_g").click().run()
    assert [c.action for c in trainer(at).changes] == [("train_d", 1), ("train_g", 1)]
    assert any("Slow motion" in m.value for m in at.markdown)
    assert not at.exception


def test_the_pytorch_tab_of_a_conditional_run_with_a_stabilizer_says_why_there_is_no_script(
        ) -> None:
    at = start({"conditional": "true", "r1": "1"})
    at.session_state["view"] = "PyTorch"
    at.run()
    assert not at.exception
    assert any("written without stabilizers; this run uses R1" in i.value for i in at.info)
    assert not at.code or all("artist_works" not in c.value for c in at.code)
    assert trainer(at).config.r1 == 1.0 and trainer(at).config.conditional
    assert "download_checkpoint_pytorch" in {b.key for b in at.get("download_button")}

"""The page shows why the run moves: D's forces, a step at a time, the optimal D, the events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from page_driver import CHUNK, play, start, step_readout, trainer
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, Trainer
from gan_core.views import charts as ch
from gan_core.views import inference

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")


def datasets(at: AppTest, name: str) -> list[dict[str, list[dict]]]:
    """Every chart that draws ``name``: its datasets as rows."""
    return [{d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist()
             for d in c.proto.datasets}
            for c in at.get("vega_lite_chart") if any(d.name == name for d in c.proto.datasets)]


def test_the_forces_toggle_draws_ds_push_on_every_point_at_one_stated_scale() -> None:
    at = start({"seed": "2"})
    at.button(key="step").click().run()
    assert not datasets(at, "forces")
    at.toggle(key="forces").set_value(True).run()
    [curves] = datasets(at, "forces")
    run = trainer(at)
    pushes = run.forces(inference.latent(run, inference.CURVES, 16))
    scale = ch.force_scale(pushes)
    rows = curves["forces"]
    assert len(rows) == pushes.size  # a line at every point of every generated curve
    np.testing.assert_allclose([r["tip"] - r["y"] for r in rows], scale * pushes.ravel(),
                               rtol=1e-5, atol=1e-6)
    assert any(f"drawn at {scale:g} × its size" in c.value for c in at.caption)


def test_slow_motion_plays_one_step_per_tick_and_shows_its_two_halves() -> None:
    at = start()
    at.toggle(key="slow_motion").set_value(True).run()
    play(at)
    assert step_readout(at) == 1
    at.run()
    assert step_readout(at) == 2
    phases = [c.value for c in at.caption if c.value.startswith(("Before the step", "G's update",
                                                                 "D's update"))]
    assert phases == ["Before the step: D's push on G's curves",
                      "G's update: the curves move along the push",
                      "D's update: D judges again, its push changes"]
    # The status line says what a tick trains in slow motion: one step.
    assert any(c.value.startswith("Playing · 1 step every 0.25 s ·") for c in at.caption)
    assert len(datasets(at, "forces")) == 2  # before, and after D's update
    at.button(key="pause").click().run()
    at.button(key="step").click().run()  # paused, in slow motion: a single step
    assert step_readout(at) == 3 and not at.exception


def test_train_d_shows_ds_push_before_and_after_with_the_curves_unmoved() -> None:
    at = start()
    at.button(key="train_d").click().run()
    captions = [c.value for c in at.caption]
    assert "D alone updated: the curves stay, the push changes" in captions
    before, after = (d["forces"] for d in datasets(at, "forces"))
    assert [r["y"] for r in before] == [r["y"] for r in after]  # G did not move
    assert [r["tip"] for r in before] != [r["tip"] for r in after]  # D's push did


def test_readout_targets_follow_the_loss_least_squares_settling_near_0_62() -> None:
    at = start({"loss": "least_squares"})
    accuracy = next(m for m in at.metric if m.label == "D accuracy")
    assert "Target 0.622" in accuracy.help


def test_a_two_parameter_target_is_judged_on_the_joint_law_and_on_shape() -> None:
    at = start({"target": "sine"})
    labels = [m.label for m in at.metric]
    assert "W1, joint" in labels and "W1" not in labels and "Shape error" in labels
    for _ in range(100 // CHUNK):  # the history draws from its second evaluation
        at.button(key="step").click().run()
    assert datasets(at, "joint_w1") and not datasets(at, "w1")


def test_the_optimal_d_is_drawn_beside_the_learned_one_with_the_jsd_they_imply() -> None:
    at = start()
    [theory] = datasets(at, "theory")
    view = trainer(at).theory()
    np.testing.assert_allclose([r["d_learned"] for r in theory["theory"]], view.d_learned,
                               rtol=1e-6)
    assert any(f"divergence is {view.jsd:.3f} nats" in c.value for c in at.caption)


def test_an_event_is_marked_on_the_history_and_explained_in_a_sentence() -> None:
    at = start()
    lab = at.session_state["lab"]
    lab.trainer = Trainer(GANConfig(lr_d=1e-2, lr_g=1e-5))  # D learns far faster than G
    lab.trainer.train(1500)
    at.run()
    said = [c.value for c in at.caption if "D overpowers G" in c.value]
    assert len(said) == 1 and "steps" in said[0]
    marked = datasets(at, "events")
    assert marked and all(d["events"][0]["label"].startswith("D overpowers G") for d in marked)


def test_the_latent_explorer_moves_one_input_of_g_and_follows_the_run() -> None:
    at = start({"seed": "4"})
    [first] = datasets(at, "sweep")
    expected = inference.latent_sweep(trainer(at), 0, 0.0)
    np.testing.assert_allclose([r["y"] for r in first["sweep"]], expected.curves.ravel(),
                               rtol=1e-5, atol=1e-6)
    at.selectbox(key="latent_dim_view").set_value(3).run()
    at.slider(key="latent_pos").set_value(1.5).run()
    [moved] = datasets(at, "sweep")
    chosen = inference.latent_sweep(trainer(at), 3, 1.5)
    np.testing.assert_allclose([r["y"] for r in moved["sweep"]], chosen.curves.ravel(),
                               rtol=1e-5, atol=1e-6)
    bold = {round(r["t"], 6) for r in moved["sweep"] if r["current"]}
    assert bold == {1.5}  # the chosen position's curve is the bold one
    step = trainer(at).step
    play(at)
    at.run()
    [later] = datasets(at, "sweep")
    assert trainer(at).step > step
    np.testing.assert_allclose([r["y"] for r in later["sweep"]],
                               inference.latent_sweep(trainer(at), 3, 1.5).curves.ravel(),
                               rtol=1e-5, atol=1e-6)  # G moved on, and the chart with it

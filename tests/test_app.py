"""The live page, driven headless with Streamlit's AppTest: each ``run()`` is one tick."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest
from page_driver import CHUNK, play, start, step_readout, trainer, weights
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, Trainer

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")


@pytest.fixture(scope="module")
def fresh() -> AppTest:
    return start()


def test_page_renders_readouts_controls_and_every_chart(fresh: AppTest) -> None:
    assert [m.label for m in fresh.metric] == ["Step", "D accuracy", "D score", "In band", "W1",
                                               "Shape error"]
    assert step_readout(fresh) == 0
    assert {b.key for b in fresh.button} >= {"play", "pause", "step", "reset"}
    # Before any training no history has two rows (the evaluations have the one at step 0):
    # a caption stands in for each panel (a single point has no extent for its axes).
    assert len(fresh.get("vega_lite_chart")) == 5
    assert sum("fills in as it trains" in c.value for c in fresh.caption) == 6
    assert not fresh.warning


def test_after_an_evaluation_every_chart_is_drawn() -> None:
    at = start()
    for _ in range(100 // CHUNK):  # the second evaluation is at step 100
        at.button(key="step").click().run()
    assert len(at.get("vega_lite_chart")) == 11
    assert not any("fills in as it trains" in c.value for c in at.caption)


def test_every_setting_has_a_widget_with_help_text(fresh: AppTest) -> None:
    for name, param in GANConfig.params().items():
        widget = next(w for w in fresh.sidebar if getattr(w, "key", None) == name)
        assert widget.label == param.label and widget.help == param.help


def test_curve_chart_draws_the_envelope_band_its_bounds_and_the_curves(fresh: AppTest) -> None:
    chart = fresh.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    layers = spec["layer"]
    assert layers[0]["mark"]["type"] == "area" and layers[0]["data"] == {"name": "band"}
    assert layers[0]["encoding"]["y"]["field"] == "lower"
    assert layers[0]["encoding"]["y2"]["field"] == "upper"
    assert {"lower", "upper"} <= set(layers[1]["transform"][0]["fold"])
    assert layers[2]["data"] == {"name": "curves"} and layers[2]["mark"]["type"] == "line"
    datasets = {d.name for d in chart.proto.datasets}
    assert {"band", "curves"} <= datasets
    low, high = layers[0]["encoding"]["y"]["scale"]["domain"]  # fixed: Vega updates in place
    assert low < 0 and high > 3  # room around the band x^2 .. 2x^2 + 1


def test_play_advances_one_chunk_per_tick_and_pause_stops_it() -> None:
    at = play(start())
    assert step_readout(at) == CHUNK
    at.run()
    assert step_readout(at) == 2 * CHUNK
    at.button(key="pause").click().run()
    paused_at = step_readout(at)
    at.run().run()
    assert step_readout(at) == paused_at
    assert not at.exception


def test_step_trains_one_chunk_while_paused() -> None:
    at = start()
    at.button(key="step").click().run()
    assert step_readout(at) == CHUNK
    at.run()
    assert step_readout(at) == CHUNK


def test_reset_starts_a_fresh_model_from_the_same_seed() -> None:
    at = start()
    initial = weights(at)
    at.button(key="step").click().run()
    assert not np.array_equal(weights(at), initial)
    at.button(key="reset").click().run()
    assert step_readout(at) == 0
    np.testing.assert_array_equal(weights(at), initial)


def test_learning_rate_change_mid_run_keeps_step_weights_and_history() -> None:
    at = play(start())
    at.run()
    before_step, before_weights = trainer(at).step, weights(at)
    history_rows = len(trainer(at).history.train)
    at.select_slider(key="lr_g").set_value(1e-3).run()
    assert trainer(at).config.lr_g == 1e-3
    # the change applied to the same model, which then trained one more chunk
    assert step_readout(at) == before_step + CHUNK
    assert len(trainer(at).history.train) > history_rows
    assert [t.value for t in at.toast] == ["Applied live: Generator learning rate 0.0001 → 0.001"]
    assert not np.array_equal(weights(at), before_weights)
    at.select_slider(key="lr_g").set_value(1e-4).run()
    assert step_readout(at) == before_step + 2 * CHUNK


def test_shape_change_starts_a_new_model_and_keeps_playing() -> None:
    at = play(start())
    at.slider(key="hidden").set_value(64).run()
    assert trainer(at).config.hidden == 64
    assert trainer(at).step == CHUNK, trainer(at).step  # a fresh model, one chunk since
    assert at.session_state["lab"].playing
    assert "hidden units" in at.info[0].value


def test_valid_query_params_set_the_widgets_and_the_model() -> None:
    at = start({"lr_g": "0.001", "seed": "3", "loss": "hinge", "hidden": "64"})
    assert at.select_slider(key="lr_g").value == 1e-3
    assert at.number_input(key="seed").value == 3
    assert at.selectbox(key="loss").value == "hinge"
    assert at.slider(key="hidden").value == 64
    assert trainer(at).config == GANConfig(lr_g=1e-3, seed=3, loss="hinge", hidden=64)
    assert at.session_state["lab"].pacing.steps_per_tick == CHUNK
    assert not at.warning


@pytest.mark.parametrize("query", [
    {"bogus": "1"},
    {"lr_g": "abc"},
    {"batch_size": "100000"},
    {"loss": "earth_mover"},
    {"spectral_norm": "yes", "r1": "0.7"},
    {"seed": "1.5", "hidden": "-3", "lr_d": "nan", "evil": "<script>"},
])
def test_garbage_query_params_give_one_warning_and_default_settings(query: dict) -> None:
    at = start(query)
    assert len(at.warning) == 1 and "ignored" in at.warning[0].value
    assert not at.exception
    assert trainer(at).config == GANConfig()
    play(at)
    assert step_readout(at) == CHUNK


def test_the_runs_checkpoint_uploaded_in_a_new_session_resumes_at_its_step_and_settings() -> None:
    at = play(start({"seed": "5"}))
    at.button(key="pause").click().run()
    saved_step, saved_weights = trainer(at).step, weights(at)
    # The bytes "Download checkpoint" serves; the browser test
    # test_an_uploaded_checkpoint_resumes_in_a_fresh_browser_at_its_step_and_plays_on clicks it.
    checkpoint = at.session_state["lab"].checkpoint()

    other = start()
    other.file_uploader(key="upload").upload("run.pt", checkpoint).run()
    assert not other.exception and not other.error
    assert step_readout(other) == saved_step
    np.testing.assert_array_equal(weights(other), saved_weights)
    assert other.number_input(key="seed").value == 5  # widgets follow the checkpoint
    assert "Resumed" in other.info[0].value


class _RunsCode:
    def __reduce__(self):  # the attack a pickle can carry
        return (exec, ("import builtins; builtins.PWNED_BY_UPLOAD = True",))


@pytest.mark.parametrize("payload", [
    b"\x00\x01garbage" * 100,
    pickle.dumps(_RunsCode()),
    pickle.dumps({"format": "gan-curve-lab/1", "x": _RunsCode()}),
], ids=["random bytes", "pickle that runs code", "checkpoint-like pickle that runs code"])
def test_bad_upload_is_rejected_and_the_session_is_untouched(payload: bytes) -> None:
    import builtins

    at = play(start())
    at.button(key="pause").click().run()
    before_step, before_weights = trainer(at).step, weights(at)
    before_trainer = trainer(at)
    at.file_uploader(key="upload").upload("evil.pt", payload).run()
    assert not hasattr(builtins, "PWNED_BY_UPLOAD")
    assert len(at.error) == 1 and "Could not load" in at.error[0].value
    assert trainer(at) is before_trainer and trainer(at).step == before_step
    np.testing.assert_array_equal(weights(at), before_weights)
    assert not at.exception


def test_upload_whose_shapes_do_not_match_its_config_is_rejected() -> None:
    import torch

    buffer = io.BytesIO()
    Trainer(GANConfig(hidden=32)).save(buffer)
    raw = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    raw["config"]["hidden"] = 128  # claims 128 hidden units around 32-unit weights
    evil = io.BytesIO()
    torch.save(raw, evil)

    at = start()
    at.file_uploader(key="upload").upload("wrong.pt", evil.getvalue()).run()
    assert "shape" in at.error[0].value
    assert trainer(at).config.hidden == 128 and trainer(at).step == 0


def test_huge_learning_rate_ends_paused_with_a_warning_and_finite_weights() -> None:
    at = start({"lr_g": "10", "lr_d": "10", "optimizer": "sgd"})
    play(at)
    for _ in range(20):
        if not at.session_state["lab"].playing:
            break
        at.run()
    lab = at.session_state["lab"]
    assert not lab.playing and lab.diverged is not None
    assert any("diverged" in w.value for w in at.warning)
    assert np.isfinite(weights(at)).all()
    assert not at.exception
    at.button(key="reset").click().run()
    assert step_readout(at) == 0 and not any("diverged" in w.value for w in at.warning)


# -- stability map -------------------------------------------------------------------------------

def open_stability_tab(at: AppTest) -> AppTest:
    """Switch tabs as a click would: only the open tab's content runs."""
    assert not [c for c in at.get("vega_lite_chart")
                if any(d.name == "cells" for d in c.proto.datasets)]
    assert "stability_x_n" not in at.session_state
    at.session_state["view"] = "Stability map"
    return at.run()


def run_tiny_grid(at: AppTest) -> AppTest:
    open_stability_tab(at)
    at.slider(key="stability_x_n").set_value(3).run()
    at.slider(key="stability_y_n").set_value(2).run()
    at.select_slider(key="stability_steps").set_value(500).run()
    at.button(key="stability_run").click().run()
    for _ in range(60):
        if not at.session_state["stability"].run.running:
            break
        at.run()
    return at


def stability_chart(at: AppTest):  # AppTest element types are internal
    return next(c for c in at.get("vega_lite_chart")
                if any(d.name == "cells" for d in c.proto.datasets))


def test_stability_map_runs_a_tiny_grid_to_completion_with_one_mark_per_cell() -> None:
    import pyarrow as pa

    at = run_tiny_grid(start())
    stability_run = at.session_state["stability"].run
    assert stability_run.done and stability_run.grid.step == 500 and stability_run.grid.members == 6
    assert "done" in at.get("progress")[0].proto.text
    chart = stability_chart(at)
    cells = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pylist()
    assert len(cells) == 6
    assert {(c["ix"], c["iy"]) for c in cells} == {(i, j) for i in range(3) for j in range(2)}
    spec = json.loads(chart.proto.spec)
    assert spec["layer"][0]["mark"]["type"] == "rect"
    assert [p["name"] for p in spec["params"]] == ["cell"]  # clicking a cell selects it
    # the live trainer was not touched by the stability map
    assert trainer(at).step == 0 and not at.exception


def test_stability_axes_only_offer_values_the_sidebar_can_show() -> None:
    at = run_tiny_grid(start())
    grid = at.session_state["stability"].run.grid
    offered = GANConfig.params()["lr_g"].grid()
    assert all(v in offered for v in grid.x_axis.values + grid.y_axis.values)
    assert grid.x_axis.values[0] == 1e-5 and grid.x_axis.values[-1] == 1e-2


def test_a_cell_config_reproduces_the_cell_as_a_single_trainer() -> None:
    at = run_tiny_grid(start())
    stability_run = at.session_state["stability"].run
    config = stability_run.cell_config(2, 1)
    grid = stability_run.grid
    assert (config.lr_g, config.lr_d) == (grid.x_axis.values[2], grid.y_axis.values[1])
    single = Trainer(config)
    single.train(500)
    g, d = stability_run.grid.member_weights(stability_run.grid.member_of(2, 1))
    np.testing.assert_array_equal(single.state().g.params, g)
    np.testing.assert_array_equal(single.state().d.params, d)


def test_with_other_visitors_playing_the_page_refreshes_less_often_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gan_core.serve import session
    from gan_core.serve.crowd import Crowd

    # A crowd whose clocks stand still plans from its first assumptions, on any machine.
    crowd = Crowd(cores=1, clock=lambda: 0.0, cpu_clock=lambda: 0.0, idle_clock=lambda: None)
    monkeypatch.setattr(session, "CROWD", crowd)
    others = [session.LabSession() for _ in range(9)]
    for other in others:
        other.play()  # ten playing in all share the server: each every 0.5 s
    at = play(start())
    lab = at.session_state["lab"]
    assert crowd.size() == 10 and lab.period == 0.5
    status = next(c.value for c in at.caption if "steps every" in c.value)
    assert f"{2 * CHUNK} steps every 0.5 s (slowed down" in status
    before = trainer(at).step
    at.run()
    assert 0 < trainer(at).step - before <= 2 * CHUNK  # as many steps per second, if the
    for other in others:                               # server has the time
        other.pause()
    at.run().run()
    assert lab.period == 0.25
    assert "slowed down" not in next(c.value for c in at.caption if "steps every" in c.value)


# -- PyTorch ---------------------------------------------------------------------------------


def test_the_pytorch_tab_shows_the_script_of_the_current_settings_and_follows_a_change() -> None:
    from gan_core.pytorch import script

    at = start()
    assert not [c for c in at.code if "artist_works" in c.value]  # only the open tab runs
    at.session_state["view"] = "PyTorch"
    at.run()
    code = next(c.value for c in at.code if "artist_works" in c.value)
    assert code == script(trainer(at).config).rstrip("\n")  # as st.code shows it
    assert any(c.value.startswith("import torch\nckpt = torch.load(") for c in at.code)
    at.selectbox(key="loss").set_value("hinge").run()
    changed = next(c.value for c in at.code if "artist_works" in c.value)
    assert changed == script(trainer(at).config).rstrip("\n") and "hinge" in changed.lower()
    assert not at.exception


# -- stabilizers -------------------------------------------------------------------------------


def test_a_link_with_every_stabilizer_opens_a_run_that_uses_them_and_says_so() -> None:
    at = start({"r1": "1", "r2": "0.5", "gp": "10", "spectral_norm": "true",
                "instance_noise": "0.1", "instance_noise_steps": "1000", "real_label": "0.9"})
    config = trainer(at).config
    assert (config.r1, config.r2, config.gp, config.spectral_norm) == (1.0, 0.5, 10.0, True)
    assert (config.instance_noise, config.instance_noise_steps, config.real_label) == (
        0.1, 1000, 0.9)
    assert at.toggle(key="spectral_norm").value is True
    line = next(c.value for c in at.caption if "steps every" in c.value)
    assert ("stabilizers: R1 γ 1, R2 γ 0.5, gradient penalty λ 10, spectral normalisation, "
            "instance noise σ 0.1 → 0 by step 1,000, real label 0.9") in line
    play(at)
    assert trainer(at).step > 0 and not at.exception


def test_a_critic_shows_its_gap_and_slope_instead_of_d_accuracy() -> None:
    at = play(start({"loss": "wasserstein", "gp": "10"}))
    labels = [m.label for m in at.metric]
    assert "Critic gap" in labels and "Critic slope" in labels
    assert "D accuracy" not in labels and "D score" not in labels
    m = trainer(at).readouts()
    assert metric_value(at, "Critic gap") == f"{m.d_score:.3f}"


def metric_value(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)

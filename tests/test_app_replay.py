"""The page keeps every live change: links that replay a run, looking back, ghosts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from page_driver import CHUNK, play, start, step_readout, trainer, weights
from run_state import assert_same_course, assert_same_run
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, Trainer
from gan_core.files.link import SCHEDULE_KEY
from gan_core.gan.schedule import Change, check_changes, format_changes

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

START = GANConfig(seed=3)
SCHEDULE = check_changes([Change(2 * CHUNK, {"lr_g": 1e-3}), Change(3 * CHUNK, {"train_d": 2}),
                          Change(3 * CHUNK, {"loss": "non_saturating"})], START)
END = GANConfig(seed=3, lr_g=1e-3, loss="non_saturating")


def link_to(config: GANConfig, changes=SCHEDULE) -> dict[str, str]:
    query = {name: GANConfig.params()[name].format(value)
             for name, value in config.to_mapping().items() if value != getattr(GANConfig(),
                                                                                 name)}
    return {**query, SCHEDULE_KEY: format_changes(changes)}


def chart_data(at: AppTest, dataset: str) -> dict[str, list[dict]]:
    """Every dataset of the chart that draws ``dataset``, as rows."""
    chart = next(c for c in at.get("vega_lite_chart")
                 if any(d.name == dataset for d in c.proto.datasets))
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist()
            for d in chart.proto.datasets}


def test_a_link_with_changes_opens_at_its_start_and_replays_the_run_exactly() -> None:
    at = start(link_to(END))
    assert not at.warning
    assert at.select_slider(key="lr_g").value == 1e-4  # the run's start, not the link's end
    assert at.selectbox(key="loss").value == "minimax"
    play(at)
    for _ in range(3):
        at.run()
    # The run went past its changes, and the sidebar followed it.
    assert step_readout(at) == 4 * CHUNK
    assert at.select_slider(key="lr_g").value == 1e-3
    assert at.selectbox(key="loss").value == "non_saturating"
    assert at.query_params[SCHEDULE_KEY] == format_changes(SCHEDULE)
    replay = Trainer(START, schedule=SCHEDULE)
    replay.train(4 * CHUNK)
    assert_same_course(trainer(at), replay)


def test_a_live_change_goes_into_the_link_and_a_new_tab_reaches_the_same_run() -> None:
    at = play(start({"seed": "3"}))
    at.run()
    at.select_slider(key="lr_g").set_value(1e-3).run()
    at.button(key="pause").click().run()
    at.button(key="train_d").click().run()
    ran = trainer(at)
    assert [c.values for c in ran.changes] == [{"lr_g": 1e-3}, {"train_d": 1}]
    query = dict(at.query_params)
    assert query[SCHEDULE_KEY] == format_changes(ran.changes)

    other = start({k: v for k, v in query.items()}, pacing=False)
    assert not other.warning
    other.session_state["lab"].trainer.train(ran.step)
    assert_same_course(other.session_state["lab"].trainer, ran)


def test_train_d_and_train_g_update_one_network_and_leave_the_other_bit_identical() -> None:
    at = start()
    before = trainer(at).state()
    at.button(key="train_d").click().run()
    after_d = trainer(at).state()
    np.testing.assert_array_equal(after_d.g.params, before.g.params)
    np.testing.assert_array_equal(after_d.g.m, before.g.m)
    assert not np.array_equal(after_d.d.params, before.d.params)
    at.button(key="train_g").click().run()
    after_g = trainer(at).state()
    np.testing.assert_array_equal(after_g.d.params, after_d.d.params)
    np.testing.assert_array_equal(after_g.d.v, after_d.d.v)
    assert not np.array_equal(after_g.g.params, after_d.g.params)
    assert step_readout(at) == 0 and not at.exception


def test_a_malformed_schedule_in_a_link_is_one_warning_and_the_settings_still_apply() -> None:
    at = start({"lr_g": "0.001", SCHEDULE_KEY: "lr_g-0.0001~300~lr_g-0.001~200~lr_d-0.001"})
    assert len(at.warning) == 1 and SCHEDULE_KEY in at.warning[0].value
    assert trainer(at).config == GANConfig(lr_g=1e-3)
    assert trainer(at).planned == () and SCHEDULE_KEY not in at.query_params


def test_looking_back_shows_an_earlier_moment_and_resuming_makes_it_live() -> None:
    at = start()
    for _ in range(6):
        at.button(key="step").click().run()  # 120 steps: a snapshot is kept at step 100
    at.run()
    live_weights = weights(at)
    snapshots = [s for s in trainer(at).snapshots if s < trainer(at).step]
    assert snapshots, "the run keeps earlier moments"
    earlier = snapshots[-1]
    at.select_slider(key="look_back").set_value(earlier).run()
    assert step_readout(at) == earlier  # the readouts show that moment...
    np.testing.assert_array_equal(weights(at), live_weights)  # ...the live run is untouched
    at.button(key="resume_here").click().run()
    assert trainer(at).step == earlier and step_readout(at) == earlier
    moment = Trainer(GANConfig())
    moment.train(earlier)
    assert_same_course(trainer(at), moment)


def test_a_ghost_keeps_the_old_setting_beside_the_run_until_dismissed() -> None:
    at = play(start())
    at.toggle(key="ghost").set_value(True).run()
    at.select_slider(key="lr_g").set_value(1e-3).run()
    at.run()
    ghost = trainer(at).ghost
    assert ghost is not None and ghost.kept == {"lr_g": 1e-4}
    curves = chart_data(at, "curves")["curves"]
    assert {row["k"] for row in curves} == {0, 1, 2, 3}  # real, generated, bold, ghost
    assert any("the ghost" in c.value for c in at.caption)
    at.button(key="drop_ghost").click().run()
    assert trainer(at).ghost is None
    assert {row["k"] for row in chart_data(at, "curves")["curves"]} == {0, 1, 2}


def test_a_run_whose_changes_outgrow_a_link_says_so_and_the_link_keeps_the_settings() -> None:
    at = start({"lr_d": "0.001"})
    lab = at.session_state["lab"]
    for _ in range(200):  # each a change of its own: far more than a link holds
        lab.train_alone("d")
    at.run()
    assert SCHEDULE_KEY not in at.query_params and at.query_params["lr_d"] == "0.001"
    assert any("no longer fit in a link" in box.value for box in at.info)


def test_a_burst_of_changes_to_one_setting_reads_as_one_and_its_ghost_keeps_the_first_value(
) -> None:
    """Five arrow presses on a slider are five live changes, each recorded (a link replays
    them), but one change to the eye: the toast runs from the value before the burst, and the
    ghost goes on with that value, not an intermediate one."""
    at = play(start({"seed": "2"}))
    at.toggle(key="ghost").set_value(True).run()
    values = (2e-4, 3e-4, 5e-4, 1e-3, 2e-3)
    for value in values:
        at.select_slider(key="lr_g").set_value(value).run()
    assert [t.value for t in at.toast][-1] == \
        "Applied live: Generator learning rate 0.0001 → 0.002"
    ghost = trainer(at).ghost
    assert ghost is not None and ghost.kept == {"lr_g": 1e-4}
    # What trained with what: every value at its step, so the link replays the run exactly.
    assert [c.settings for c in trainer(at).changes] == [{"lr_g": v} for v in values]
    assert at.query_params[SCHEDULE_KEY] == format_changes(trainer(at).changes)
    replay = Trainer(trainer(at).start_config, schedule=trainer(at).changes)
    replay.train(trainer(at).step)
    assert_same_run(trainer(at), replay)


def test_changes_further_apart_than_a_burst_each_keep_their_own_ghost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from lab import run as lab_run

    at = play(start())
    at.toggle(key="ghost").set_value(True).run()
    at.select_slider(key="lr_g").set_value(2e-4).run()
    monkeypatch.setattr(lab_run, "BURST_SECONDS", 0.0)  # the next change comes later
    at.select_slider(key="lr_g").set_value(5e-4).run()
    assert trainer(at).ghost.kept == {"lr_g": 2e-4}
    assert at.toast[-1].value == "Applied live: Generator learning rate 0.0002 → 0.0005"

"""A run's schedule: what a change holds, when a schedule is valid, and its spelling in a link."""

from __future__ import annotations

import math
import pickle
import re
from urllib.parse import quote_plus, urlencode

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from run_state import assert_same_course

from gan_core import GANConfig, Pacing, Trainer
from gan_core.files.link import SCHEDULE_KEY, link_query, read_link
from gan_core.files.link_data import DATA_KEY
from gan_core.gan.schedule import (
    ACTIONS,
    LIVE_FIELDS,
    MAX_CHANGES_CHARS,
    MAX_LINK_CHARS,
    MAX_UPDATES,
    Change,
    changes_from_plain,
    changes_to_plain,
    check_changes,
    end_config,
    format_changes,
    parse_changes,
    start_config,
)

START = GANConfig()


# -- a change ------------------------------------------------------------------------------


def test_a_change_holds_new_values_of_live_settings_or_one_action() -> None:
    change = Change(2000, {"lr_g": 1e-3, "loss": "hinge"})
    assert change.settings == {"lr_g": 1e-3, "loss": "hinge"} and change.action is None
    update = Change(2000, {"train_d": 5})
    assert update.settings == {} and update.action == ("train_d", 5)


def test_a_change_takes_values_as_a_link_or_numpy_spells_them() -> None:
    change = Change(10, {"lr_g": "0.001", "batch_size": np.int64(32), "beta1": 0})
    assert change.values == {"lr_g": 0.001, "batch_size": 32, "beta1": 0.0}
    assert type(change.values["batch_size"]) is int and type(change.values["beta1"]) is float


@pytest.mark.parametrize(("step", "values", "before", "problem"), [
    (-1, {"lr_g": 1e-3}, {}, "step -1 is not a step count"),
    (1.5, {"lr_g": 1e-3}, {}, "step 1.5 is not a step count"),
    (True, {"lr_g": 1e-3}, {}, "step True is not a step count"),
    (5, {}, {}, "at least one"),
    (5, {"seed": 3}, {}, "seed cannot change on a running model"),
    (5, {"hidden": 64}, {}, "hidden cannot change on a running model"),
    (5, {"lr_x": 1e-3}, {}, "'lr_x' is not a live setting or an action"),
    (5, {"lr_g": 100.0}, {}, "lr_g: 100.0 is not between 1e-06 and 10"),
    (5, {"lr_g": "fast"}, {}, "lr_g: 'fast' is not a valid float"),
    (5, {"loss": "earth_mover"}, {}, "loss: 'earth_mover' is not one of"),
    (5, {"train_d": 0}, {}, "train_d: 0 is not a number of updates between 1 and 10,000"),
    (5, {"train_g": MAX_UPDATES + 1}, {}, "train_g: 10001 is not a number of updates"),
    (5, {"train_d": 2.0}, {}, "train_d: 2.0 is not a number of updates"),
    (5, {"train_d": 2, "lr_g": 1e-3}, {}, "train_d is an entry of its own"),
    (5, {"lr_g": 1e-3}, {"lr_d": 1e-4}, "before names 'lr_d', which this change does not set"),
    (5, {"lr_g": 1e-3}, {"lr_g": 1e-3}, "lr_g changes to the value it already has (0.001)"),
])
def test_a_malformed_change_is_refused_naming_the_problem(step: object, values: dict,
                                                         before: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        Change(step, values, before)  # type: ignore[arg-type]


def test_a_recorded_change_cannot_be_edited() -> None:
    values = {"lr_g": 1e-3}
    change = Change(5, values)
    values["lr_g"] = 1.0  # the caller's dict is not the change's
    assert change.values["lr_g"] == 1e-3
    with pytest.raises(TypeError):
        change.values["lr_g"] = 1.0  # type: ignore[index]


def test_a_change_round_trips_through_plain_data_and_pickle() -> None:
    change = Change(2000, {"lr_g": 1e-3, "loss": "hinge"}, {"lr_g": 1e-4, "loss": "minimax"})
    plain = change.to_plain()
    assert plain == {"step": 2000, "values": {"lr_g": 1e-3, "loss": "hinge"},
                     "before": {"lr_g": 1e-4, "loss": "minimax"}}
    assert Change.from_plain(plain) == change
    assert pickle.loads(pickle.dumps(change)) == change
    schedule = (change, Change(2100, {"train_g": 3}))
    assert changes_from_plain(changes_to_plain(schedule)) == schedule


@pytest.mark.parametrize("plain", [None, "2000:lr_g=0.001", {"step": 1}, {"values": {}},
                                   {"step": 1, "values": {"lr_g": 1e-3}, "when": "now"}])
def test_plain_data_that_is_not_a_change_is_refused(plain: object) -> None:
    with pytest.raises(ValueError, match="is not a change"):
        Change.from_plain(plain)


def test_plain_data_that_is_not_a_list_of_changes_is_refused() -> None:
    with pytest.raises(ValueError, match="not a list of changes"):
        changes_from_plain({"step": 1, "values": {"lr_g": 1e-3}})


# -- a schedule ----------------------------------------------------------------------------


def test_checking_a_schedule_fills_in_each_settings_value_before_its_change() -> None:
    changes = check_changes([Change(100, {"lr_g": 1e-3}), Change(100, {"train_d": 2}),
                             Change(300, {"lr_g": 3e-3, "loss": "hinge"})], START)
    assert [dict(c.before) for c in changes] == [
        {"lr_g": 1e-4}, {}, {"lr_g": 1e-3, "loss": "minimax"}]
    assert end_config(START, changes) == START.replace(lr_g=3e-3, loss="hinge")
    assert start_config(end_config(START, changes), changes) == START


@pytest.mark.parametrize(("changes", "problem"), [
    ([Change(300, {"lr_g": 1e-3}), Change(200, {"lr_d": 1e-3})],
     "step 200 comes after step 300: a schedule's steps never go back"),
    ([Change(300, {"lr_g": 1e-3}, {"lr_g": 2e-4})], "step 300: lr_g was 0.0001 there, not 0.0002"),
    ([Change(300, {"lr_g": 1e-4})], "step 300: lr_g is already 0.0001"),
    ([Change(300, {"lr_g": 1e-3}), Change(400, {"lr_g": 1e-3})],
     "step 400: lr_g is already 0.001"),
    ([{"step": 3, "values": {"lr_g": 1e-3}}], "entry 1 ({'step': 3, 'values'"),
])
def test_an_inconsistent_schedule_is_refused_naming_the_problem(changes: list,
                                                                problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_changes(changes, START)


def test_changes_that_do_not_lead_to_a_config_give_no_start() -> None:
    changes = check_changes([Change(100, {"lr_g": 1e-3})], START)
    with pytest.raises(ValueError, match=re.escape("lr_g ends at 0.001 after the changes, but "
                                                  "the run has 0.0003")):
        start_config(START.replace(lr_g=3e-4), changes)
    with pytest.raises(ValueError, match="the value of lr_g before the change is not known"):
        start_config(START.replace(lr_g=1e-3), [Change(100, {"lr_g": 1e-3})])


# -- the link spelling ---------------------------------------------------------------------


EXAMPLE = check_changes([Change(2000, {"lr_g": 1e-3}), Change(3500, {"loss": "hinge"}),
                         Change(3500, {"train_d": 5})], START)


def test_a_schedule_spells_start_values_then_each_step_and_what_it_sets() -> None:
    assert format_changes(EXAMPLE) == \
        "lr_g-0.0001~loss-minimax~2000~lr_g-0.001~3500~loss-hinge~3500~train_d-5"
    several = check_changes([Change(0, {"train_g": 2}),
                             Change(10, {"lr_d": 5e-4, "beta1": 0.5, "optimizer": "sgd"})],
                            START)
    assert format_changes(several) == ("lr_d-0.0001~beta1-0.9~optimizer-adam~0~train_g-2~"
                                       "10~lr_d-0.0005~beta1-0.5~optimizer-sgd")
    assert format_changes(()) == ""


def test_a_spelled_schedule_reads_back_as_the_same_changes() -> None:
    end = end_config(START, EXAMPLE)
    assert parse_changes(format_changes(EXAMPLE), end) == EXAMPLE


def test_a_value_set_from_code_keeps_every_digit_in_a_link() -> None:
    changes = check_changes([Change(7, {"lr_g": 0.000123456789, "beta2": 0.91234567891})],
                            START)
    text = format_changes(changes)
    assert "lr_g-0.000123456789" in text and "beta2-0.91234567891" in text
    assert parse_changes(text, end_config(START, changes)) == changes


def test_a_schedule_too_long_for_a_link_spells_as_none() -> None:
    flips = [Change(step, {"lr_g": 1e-3 if step % 2 else 1e-4}) for step in range(1, 200)]
    changes = check_changes(flips, START)
    assert format_changes(changes[:80]) is not None
    assert format_changes(changes) is None
    query = link_query(end_config(START, changes), changes)
    assert SCHEDULE_KEY not in query  # the settings only: share a checkpoint for the rest


def longest_spelling(param) -> int:
    """The longest text a link can hold for a setting: every value its widget offers."""
    if param.choices:
        values = param.choices
    elif param.kind is bool:
        values = (False, True)
    elif param.log:
        values = param.grid()
    elif param.kind is float:
        n = round((param.high - param.low) / param.step)
        values = [float(f"{param.low + i * param.step:.10g}") for i in range(n + 1)]
    else:
        values = [int(param.low), int(param.high)]
    return max(len(param.format(v)) for v in values)


def test_the_longest_link_stays_within_the_bound_browsers_and_chat_apps_keep() -> None:
    params = {**GANConfig.params(), **Pacing.params()}
    settings_chars = sum(len(name) + 1 + longest_spelling(p) for name, p in params.items())
    settings_chars += len(params) - 1  # the '&' between them
    assert settings_chars < 380  # as MAX_CHANGES_CHARS's note says
    address = 200  # https://host/path?
    # Drawn curves (``data``) share the changes' characters (link_data.py).
    assert address + settings_chars + len(f"&{SCHEDULE_KEY}=&{DATA_KEY}=") + MAX_CHANGES_CHARS \
        <= MAX_LINK_CHARS


@pytest.mark.parametrize(("text", "problem"), [
    ("lr_g-0.0001~2000", "step 2000 sets nothing"),
    ("lr_g-0.0001~2000~3000~lr_g-0.001", "step 2000 sets nothing"),
    ("lr_g-0.0001~2000~lr_g-0.001~~3000~lr_d-0.001", "'' is neither a step nor name-value"),
    ("2000:lr_g=0.001", "'2000:lr_g=0.001' is neither a step nor name-value"),
    ("lr_g~2000", "'lr_g' is neither a step nor name-value"),
    ("2000~lr_g-0.001", "lr_g changes, but its value at the start is not given"),
    ("lr_g-0.0001~lr_d-0.0001~2000~lr_g-0.001",
     "lr_d is given a start value but never changes"),
    ("lr_g-0.0001~lr_g-0.0001~2000~lr_g-0.001", "the start value of lr_g is given twice"),
    ("seed-0~2000~seed-3", "'seed' is not a live setting, so it has no start value"),
    ("lr_g-0.0001~2000~seed-3", "seed cannot change on a running model"),
    ("lr_g-0.0001~2000~lr_x-3", "'lr_x' is not a live setting or an action"),
    ("lr_g-0.0001~2000~lr_g-0.001~lr_g-0.002", "step 2000: lr_g is given twice"),
    ("lr_g-0.0001~3000~lr_g-0.001~2000~lr_g-0.002", "step 2000 comes after step 3000"),
    ("lr_g-0.0001~2000~lr_g-fast", "lr_g: 'fast' is not a valid float"),
    ("lr_g-0.0001~2000~lr_g-nan", "lr_g: 'nan' is not a valid float"),
    ("lr_g-0.0001~2000~lr_g-50", "lr_g: 50.0 is not between 1e-06 and 10"),
    ("lr_g-0.0001~2000~lr_g-0.0001", "step 2000: lr_g is already 0.0001"),
    ("2000~train_d-0", "train_d: 0 is not a number of updates between 1 and 10,000"),
    ("2000~train_d-99999", "train_d: 99999 is not a number of updates"),
    ("2000~train_d-1.5", "train_d: '1.5' is not a number of updates"),
    ("2000~train_d-2~lr_g-0.001", "train_d is an entry of its own"),
    ("1234567890123~train_d-2", "step '1234567890123' is not a step count"),
    ("lr_g-0.0001~2000~lr_g-0.002", "the run has lr_g at 0.001, a value its changes never"),
    ("0~train_d-1~" * 200, "longer than 1,400 characters"),
])
def test_a_malformed_schedule_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^changes: .*" + re.escape(problem)):
        parse_changes(text, START.replace(lr_g=1e-3))


@st.composite
def schedules(draw: st.DrawFn) -> tuple[GANConfig, tuple[Change, ...]]:
    """A start config and a valid schedule from it: settings set to any value in range (not
    only those a widget offers), one-network updates, several entries at one step."""
    values = {
        "lr_g": st.floats(1e-6, 10.0), "lr_d": st.floats(1e-6, 10.0),
        "beta1": st.floats(0.0, 0.999), "beta2": st.floats(0.9, 0.9999),
        "momentum": st.floats(0.0, 0.99), "batch_size": st.integers(8, 512),
        "d_steps": st.integers(1, 10), "loss": st.sampled_from(START.params()["loss"].choices),
        "optimizer": st.sampled_from(("adam", "sgd")),
        "r1": st.floats(0.0, 100.0), "r2": st.floats(0.0, 100.0), "gp": st.floats(0.0, 100.0),
        "spectral_norm": st.booleans(), "instance_noise": st.floats(0.0, 1.0),
        "instance_noise_steps": st.integers(0, 100_000), "real_label": st.floats(0.5, 1.0),
    }
    assert set(values) == set(LIVE_FIELDS)
    config = start = GANConfig(seed=draw(st.integers(0, 9)))
    step, changes = 0, []
    for _ in range(draw(st.integers(0, 8))):
        step += draw(st.sampled_from([0, 1, 17, 2000]))
        if draw(st.booleans()):
            changes.append(Change(step, {draw(st.sampled_from(ACTIONS)):
                                         draw(st.integers(1, MAX_UPDATES))}))
            continue
        names = draw(st.lists(st.sampled_from(LIVE_FIELDS), min_size=1, max_size=3,
                              unique=True))
        now = config.to_mapping()
        new = {name: draw(values[name].filter(lambda v, old=now[name]: v != old))
               for name in names}
        changes.append(Change(step, new))
        config = config.replace(**new)
    return start, check_changes(changes, start)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules())
def test_every_schedule_spells_without_escapes_and_reads_back_exactly(
        schedule: tuple[GANConfig, tuple[Change, ...]]) -> None:
    start, changes = schedule
    text = format_changes(changes)
    assert text is not None
    assert quote_plus(text) == text  # the address bar shows it as written
    end = end_config(start, changes)
    assert parse_changes(text, end) == changes
    assert start_config(end, changes) == start


# -- read_link -----------------------------------------------------------------------------


def test_a_links_settings_are_the_runs_settings_now_and_its_changes_lead_there() -> None:
    link = read_link({"lr_g": "0.001", "loss": "hinge", SCHEDULE_KEY: format_changes(EXAMPLE)})
    assert link.problems == {}
    assert link.config == START.replace(lr_g=1e-3, loss="hinge")
    assert link.changes == EXAMPLE
    assert link.start == START
    assert link.spelled[SCHEDULE_KEY] == format_changes(EXAMPLE)


def test_a_link_without_changes_starts_at_its_settings() -> None:
    link = read_link({"lr_g": "0.001"})
    assert link.changes == () and link.start == link.config and SCHEDULE_KEY not in link.spelled


def test_a_bad_schedule_is_one_problem_and_the_settings_still_apply() -> None:
    link = read_link({"lr_g": "0.001", "batch_size": "32",
                      SCHEDULE_KEY: "lr_g-0.0001~3000~lr_g-0.001~2000~lr_d-0.001"})
    assert list(link.problems) == [SCHEDULE_KEY]
    assert "step 2000 comes after step 3000" in link.problems[SCHEDULE_KEY]
    assert link.config == START.replace(lr_g=1e-3, batch_size=32)
    assert link.changes == () and link.start == link.config


def test_a_schedule_that_never_reaches_a_refused_settings_default_is_refused_too() -> None:
    link = read_link({"lr_g": "fast", SCHEDULE_KEY: "lr_g-0.0003~2000~lr_g-0.001"})
    assert set(link.problems) == {"lr_g", SCHEDULE_KEY}
    assert "the run has lr_g at 0.0001, a value its changes never give it" in link.problems[
        SCHEDULE_KEY]
    assert link.config == START


def test_a_link_copied_mid_replay_holds_the_settings_of_that_moment_and_the_whole_run() -> None:
    """The page's widgets follow a replaying run, so its link may show any moment of it; the
    run still starts from the schedule's start values, which a page shows first."""
    text = format_changes(EXAMPLE)
    middle = read_link({"lr_g": "0.001", SCHEDULE_KEY: text})  # before the loss changed
    assert middle.problems == {} and middle.changes == EXAMPLE and middle.start == START
    assert middle.spelled["lr_g"] == "0.0001"  # the page opens at the start


def test_a_schedule_given_twice_is_refused() -> None:
    link = read_link({SCHEDULE_KEY: ["0~train_d-1", "0~train_d-2"]})
    assert link.problems == {SCHEDULE_KEY: "changes: given 2 times"}


def test_a_link_to_a_run_replays_it_exactly() -> None:
    run = Trainer(GANConfig(seed=4))
    run.train(30)
    run.reconfigure(run.config.replace(lr_g=1e-3, beta1=0.5))
    run.train(20)
    run.train_d(3)
    run.reconfigure(run.config.replace(loss="non_saturating"))
    run.train(10)
    query = link_query(run.config, run.changes, Pacing(steps_per_tick=50))
    url = "https://lab.example/?" + urlencode(query)  # as the page writes it
    assert len(url) < MAX_LINK_CHARS and "%" not in url
    link = read_link(query)
    assert link.problems == {} and link.pacing == Pacing(steps_per_tick=50)
    replay = Trainer(link.start, schedule=link.changes)
    replay.train(run.step)
    assert_same_course(replay, run)


def test_a_link_query_refuses_changes_that_never_lead_to_its_config() -> None:
    with pytest.raises(ValueError, match=re.escape("the run has lr_g at 0.0003")):
        link_query(START.replace(lr_g=3e-4), EXAMPLE)


def test_spellings_are_finite_numbers() -> None:
    for change in EXAMPLE:
        for value in change.values.values():
            assert not isinstance(value, float) or math.isfinite(value)

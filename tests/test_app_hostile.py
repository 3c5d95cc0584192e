"""The page under hostile input and impatient users: links, uploads, rapid clicking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from page_driver import play, start, step_readout, trainer, weights
from streamlit.testing.v1 import AppTest

from gan_core import GANConfig, Pacing, read_link
from gan_core.files.checkpoint import MAX_BYTES

PARAMS = {**GANConfig.params(), **Pacing.params()}
"""Every setting of the page: each has a widget bound to the URL under its name."""
PAGE_SETTINGS = settings(max_examples=8, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])
FUZZ_SETTINGS = settings(max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])


pytestmark = pytest.mark.usefixtures("no_tick_time_limit")


def offered_values(name: str) -> st.SearchStrategy:
    """Values the page's widget for ``name`` can show."""
    p = PARAMS[name]
    if p.kind is bool:
        return st.booleans()
    if p.choices:
        return st.sampled_from(p.choices)
    if p.kind is bool:
        return st.booleans()
    if p.log:
        return st.sampled_from(p.grid())
    if p.kind is int:
        return st.integers(int(p.low), int(p.high))
    digits = -math.floor(math.log10(p.step))
    return st.integers(0, round((p.high - p.low) / p.step)).map(
        lambda k: round(p.low + k * p.step, digits))


valid_links = st.dictionaries(st.sampled_from(sorted(PARAMS)), st.just(None), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: offered_values(k) for k in keys}))


def settings_of(at: AppTest) -> dict:
    lab = at.session_state["lab"]
    return {**lab.config.to_mapping(), **lab.pacing.to_mapping()}


@PAGE_SETTINGS
@given(values=valid_links)
@example(values={"conditional": True, "target": "sine"})
def test_every_valid_link_sets_exactly_its_settings(values: dict) -> None:
    at = start({k: PARAMS[k].format(v) for k, v in values.items()})
    assert not at.warning
    expected = {**GANConfig().to_mapping(), **Pacing(steps_per_tick=20).to_mapping(), **values}
    assert settings_of(at) == expected


# What Streamlit's widget deserializers make of URL text (read in streamlit/elements/widgets
# and runtime/state/session_state.py, 1.67): a number_input of ints parses the text with
# float() and then calls int(), which raises OverflowError (uncaught: the page crashes) for
# every spelling float() reads as infinite ("inf", "Infinity", "-1e309", 400 digits, with
# signs, underscores, surrounding whitespace or non-ASCII digits, all of which float() takes);
# sliders reject non-finite or out-of-range numbers and select widgets unknown options by
# falling back to their default, silently. So the page cleans the URL before any widget reads
# it, and the link means what gan_core.read_link says, nothing else.
DIGITS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९")


@st.composite
def numeric_spelling(draw: st.DrawFn) -> str:
    """A number as a person, a script or an attacker might spell it."""
    digits = draw(st.sampled_from(DIGITS))
    number = st.text(digits, min_size=1, max_size=draw(st.sampled_from([3, 12, 400])))
    text = draw(st.sampled_from(["", "+", "-", " ", "\t"])) + draw(number)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["_", ""])) + draw(number)
    if draw(st.booleans()):
        text += "." + draw(number)
    if draw(st.booleans()):
        text += draw(st.sampled_from(["e", "E", "e+", "e-"])) + draw(
            st.sampled_from(["2", "308", "309", "400", "-400", "99999"]))
    return text + draw(st.sampled_from(["", " ", "\n"]))


any_text = st.one_of(
    numeric_spelling(),
    st.sampled_from(["inf", "-inf", "+Infinity", "INF", "nan", "-NaN", "1e309", "-1e309",
                     "9" * 400, "1e-400", "0x10", "1_000", " 7 ", "", "true", "[]", "1,5"]),
    st.text(max_size=20),
)


def assert_link_handled(at: AppTest, query: dict[str, str]) -> None:
    """No exception; the one warning names every refused key; the rest are set."""
    link = read_link(query)
    assert not at.exception, [e.value for e in at.exception]
    if link.problems:
        assert len(at.warning) == 1
        for key in link.problems:
            assert key in at.warning[0].value, (key, at.warning[0].value)
    else:
        assert not at.warning
    assert at.session_state["lab"].config == link.config
    assert at.session_state["lab"].pacing == link.pacing


@FUZZ_SETTINGS
@given(key=st.sampled_from(sorted(PARAMS)), raw=any_text)
@example("seed", "inf")  # each of these crashed the page when Streamlit read it
@example("seed", "-1e309")
@example("seed", "9" * 400)
@example("hidden", " +Infinity ")
@example("seed", "١٢")  # Streamlit would take it as 12; a link means what read_link says
@example("batch_size", "1_28")
@example("conditional", " TRUE ")  # a switch: respelled true, as its toggle writes it
@example("conditional", "1")
@example("tick_seconds", "nan")
def test_any_text_for_any_setting_never_raises_and_a_refused_value_is_named(
        key: str, raw: str) -> None:
    at = start({key: raw}, pacing=False)
    assert_link_handled(at, {key: raw})


@FUZZ_SETTINGS
@given(query=st.dictionaries(st.sampled_from(sorted(PARAMS)), any_text, min_size=2, max_size=5))
def test_a_link_of_several_settings_sets_the_good_ones_and_names_each_bad_one(
        query: dict[str, str]) -> None:
    at = start(query, pacing=False)
    assert_link_handled(at, query)


@PAGE_SETTINGS
@given(key=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1,
                   max_size=20).filter(lambda k: k not in PARAMS and k.strip()))
def test_a_link_with_an_unknown_setting_warns_and_changes_nothing(key: str) -> None:
    at = start({key: "1"})
    assert len(at.warning) == 1
    assert trainer(at).config == GANConfig()


def test_a_cleaned_link_is_what_the_url_shows() -> None:
    at = start({"lr_g": "1e-3", "seed": "inf", "bogus": "1"}, pacing=False)
    assert dict(at.query_params) == {"lr_g": "0.001"}
    assert trainer(at).config == GANConfig(lr_g=1e-3)


def test_truncated_checkpoint_upload_is_refused_and_the_run_survives() -> None:
    source = play(start())
    data = source.session_state["lab"].checkpoint()
    at = play(start())
    at.button(key="pause").click().run()
    before, model = weights(at), trainer(at)
    at.file_uploader(key="upload").upload("cut.pt", data[: len(data) // 2]).run()
    assert "Could not load" in at.error[0].value
    assert trainer(at) is model
    np.testing.assert_array_equal(weights(at), before)


def test_upload_over_the_size_limit_is_refused_before_it_is_read() -> None:
    at = play(start())
    model = trainer(at)
    at.file_uploader(key="upload").upload("huge.pt", b"\0" * (MAX_BYTES + 1)).run()
    assert "larger than" in at.error[0].value
    assert trainer(at) is model and not at.exception


def test_impatient_clicking_never_sends_the_step_backwards_except_by_reset() -> None:
    at = play(start())
    steps = [step_readout(at)]
    actions = ["step", "lr", "play", "step", "pause", "step", "lr", "play", "reset", "play",
               "step", "lr", "pause", "play", "play", "step"]
    for i, action in enumerate(actions):
        if action == "lr":
            at.select_slider(key="lr_g").set_value([2e-4, 1e-3, 1e-4][i % 3]).run()
        elif at.button(key=action).disabled:  # Play while playing: a user cannot; rerun
            at.run()
        else:
            at.button(key=action).click().run()
        assert not at.exception, action
        steps.append(step_readout(at))
        if action != "reset":
            assert steps[-1] >= steps[-2], (action, steps)
    assert np.isfinite(weights(at)).all()

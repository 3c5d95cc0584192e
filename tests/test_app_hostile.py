"""The page under hostile input and impatient users: links, uploads, rapid clicking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from page_driver import play, start, step_readout, trainer, weights

from gan_core import GANConfig
from gan_core.checkpoint import MAX_BYTES

PARAMS = GANConfig.params()
PAGE_SETTINGS = settings(max_examples=8, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


pytestmark = pytest.mark.usefixtures("no_tick_time_limit")


def offered_values(name: str) -> st.SearchStrategy:
    """Values the page's widget for ``name`` can show."""
    p = PARAMS[name]
    if p.choices:
        return st.sampled_from(p.choices)
    if p.log:
        return st.sampled_from(p.grid())
    if p.kind is int:
        return st.integers(int(p.low), int(p.high))
    digits = -math.floor(math.log10(p.step))
    return st.integers(0, round((p.high - p.low) / p.step)).map(
        lambda k: round(p.low + k * p.step, digits))


valid_links = st.dictionaries(st.sampled_from(sorted(PARAMS)), st.just(None), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: offered_values(k) for k in keys}))


@PAGE_SETTINGS
@given(values=valid_links)
def test_every_valid_link_sets_exactly_its_settings(values: dict) -> None:
    at = start({k: str(v) for k, v in values.items()})
    assert not at.warning
    expected = GANConfig(**values)
    assert trainer(at).config == expected


garbage = st.one_of(
    st.text(min_size=1, max_size=12).filter(lambda s: s.strip() and s not in PARAMS),
    st.sampled_from(["nan", "inf", "-1", "1e9", "0x10", "true", "", "1.5e", "[]"]),
)


@PAGE_SETTINGS
@given(key=st.sampled_from(sorted(PARAMS)), raw=garbage)
def test_a_link_with_garbage_for_a_setting_warns_once_and_uses_the_default(key: str,
                                                                         raw: str) -> None:
    try:
        usable = GANConfig.from_mapping({key: raw})
        offered = getattr(usable, key) in (PARAMS[key].choices or PARAMS[key].grid()
                                           if PARAMS[key].choices or PARAMS[key].log
                                           else [getattr(usable, key)])
    except ValueError:
        usable, offered = None, False
    if usable is not None and offered:
        return  # not garbage after all (e.g. "1e9"-like strings that are valid numbers)
    at = start({key: raw})
    assert len(at.warning) == 1 and key in at.warning[0].value
    assert getattr(trainer(at).config, key) == getattr(GANConfig(), key)
    assert not at.exception


@PAGE_SETTINGS
@given(key=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1,
                   max_size=20).filter(lambda k: k not in PARAMS and k.strip()))
def test_a_link_with_an_unknown_setting_warns_and_changes_nothing(key: str) -> None:
    at = start({key: "1"})
    assert len(at.warning) == 1
    assert trainer(at).config == GANConfig()


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

"""The guided tour, driven headless: AppTest cannot run the browser's side of the tour's memory
(``lab/tour_memory.js``), so a test answers for the browser as that component would, through
the component's state, and reads what the page asks of it from the component's data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from page_driver import CHUNK, play, start, step_readout, trainer, weights
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from lab.explainer import AGAIN
from lab.tour import BACK, BOX, MEMORY, NEXT, SKIP, STEPS, STORAGE_KEY

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

LINK = {"lr_g": "0.001", "seed": "3"}


# -- the browser's side, as its component would play it ----------------------------------------

def question(at: AppTest) -> dict | None:
    """What the page asks the browser now; None when the memory component is not on the page."""
    found = [e for e in at.get("bidi_component") if e.key == MEMORY]
    assert len(found) <= 1
    return json.loads(found[0].proto.json) if found else None


def browser_answers(at: AppTest, dismissed: bool | None) -> AppTest:
    """The browser answers the open question: its stored dismissal after any write (None: it
    can store nothing); then the page runs on that answer."""
    asked = question(at)
    assert asked is not None, "the page asked the browser nothing"
    at.session_state[MEMORY]["answer"] = {"request": asked["request"], "dismissed": dismissed}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visit(query: dict[str, str] | None = None, stored: bool | None = False) -> AppTest:
    """A visit whose browser has (``stored``) or has not the dismissal stored."""
    return browser_answers(start(query), stored)


# -- the page's side ------------------------------------------------------------------------------

def box(at: AppTest) -> Block | None:
    try:
        found = at.main.get_by_key(BOX)
    except KeyError:
        return None
    assert isinstance(found, Block)
    return found


def shown_step(at: AppTest) -> int | None:
    """The step on show, from 1, as its counter says; None when the tour is closed."""
    tour = box(at)
    if tour is None:
        return None
    counter = re.search(r"step (\d+) of (\d+)", tour.caption[0].value)
    assert counter is not None and int(counter[2]) == len(STEPS)
    return int(counter[1])


def step_text(at: AppTest) -> str:
    tour = box(at)
    assert tour is not None
    return tour.markdown[0].value


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- tests ------------------------------------------------------------------------------------

def test_a_first_visit_asks_the_browser_and_shows_no_tour_before_it_answers() -> None:
    """No flash of a tour the browser may have dismissed: the page waits for its answer."""
    at = start()
    assert question(at) == {"request": 0, "write": None, "storageKey": STORAGE_KEY, "box": BOX}
    assert shown_step(at) is None
    at.run()  # a browser that never answers (no JavaScript) leaves a working page, no tour
    assert shown_step(at) is None and not at.exception


def test_a_browser_without_a_stored_dismissal_gets_the_tour_at_its_first_step() -> None:
    at = visit(stored=False)
    assert shown_step(at) == 1
    assert STEPS[0].title in step_text(at)
    assert question(at) is None, "the answer came: the memory component leaves the page"


def test_next_and_back_walk_the_steps_one_at_a_time() -> None:
    at = visit()
    assert at.button(key=BACK).disabled
    for number in range(2, len(STEPS) + 1):
        click(at, NEXT)
        assert shown_step(at) == number
        assert f"**{STEPS[number - 1].title}.**" in step_text(at)
        assert not at.button(key=BACK).disabled
    assert at.button(key=NEXT).label == "Done"
    click(at, BACK)
    assert shown_step(at) == len(STEPS) - 1
    assert at.button(key=NEXT).label == "Next"


def test_each_step_outlines_the_element_it_names_and_only_that_one() -> None:
    at = visit()
    for number, step in enumerate(STEPS, start=1):
        assert shown_step(at) == number
        assert re.findall(r"\.st-key-([\w-]+)", step_text(at)) == [step.target]
        if number < len(STEPS):
            click(at, NEXT)


def test_every_element_the_tour_names_is_on_the_page() -> None:
    at = visit()
    click(at, "step")  # every chart drawn
    drawn = {getattr(node, "key", None) for node in at.main}
    assert {step.target for step in STEPS} <= drawn


def test_skip_closes_the_tour_and_asks_the_browser_to_remember() -> None:
    at = visit()
    click(at, NEXT)
    click(at, SKIP)
    assert shown_step(at) is None
    asked = question(at)
    assert asked is not None and asked["write"] == "dismissed" and asked["request"] == 1
    browser_answers(at, dismissed=True)
    assert question(at) is None, "the browser stored it: nothing more to ask"
    at.run()
    assert shown_step(at) is None and question(at) is None


def test_done_on_the_last_step_dismisses_the_tour_as_skip_does() -> None:
    at = visit()
    for _ in STEPS:
        click(at, NEXT)
    assert shown_step(at) is None
    asked = question(at)
    assert asked is not None and asked["write"] == "dismissed"
    browser_answers(at, dismissed=True)
    assert shown_step(at) is None and question(at) is None


def test_a_browser_with_the_dismissal_stored_never_shows_the_tour() -> None:
    at = visit(stored=True)
    assert shown_step(at) is None
    assert question(at) is None, "once it answered, the page asks nothing more"
    play(at)
    at.run()
    assert shown_step(at) is None and question(at) is None


def test_a_browser_that_stores_nothing_gets_the_tour_and_the_tab_remembers_its_dismissal() -> None:
    at = visit(stored=None)
    assert shown_step(at) == 1
    click(at, SKIP)
    browser_answers(at, dismissed=None)  # the write went nowhere
    at.run()
    assert shown_step(at) is None and question(at) is None


def test_a_late_answer_to_an_earlier_question_is_ignored() -> None:
    at = visit()
    click(at, SKIP)
    # The first question's answer (tour not dismissed) arrives again, after the dismissal.
    at.session_state[MEMORY]["answer"] = {"request": 0, "dismissed": False}
    at.run()
    assert shown_step(at) is None
    assert question(at) is not None, "still waiting for the answer to the dismissal"


def test_take_the_tour_again_clears_the_stored_dismissal_and_shows_the_first_step() -> None:
    at = visit(stored=True)
    click(at, AGAIN)
    assert shown_step(at) == 1
    asked = question(at)
    assert asked is not None and asked["write"] == "cleared"
    browser_answers(at, dismissed=False)
    assert shown_step(at) == 1 and question(at) is None
    click(at, NEXT)
    assert shown_step(at) == 2


def test_a_click_on_an_earlier_openings_box_delivered_again_leaves_the_tour_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit can deliver a button's click once more with a later run: Skip, replayed
    with the click on Take the tour again, must not close the tour that click opened."""
    at = visit()
    skip = at.button(key=SKIP)
    click(at, SKIP)
    browser_answers(at, dismissed=True)
    tree = at._tree
    at.button(key=AGAIN).click()
    collect = type(tree).get_widget_states

    def with_the_old_click(self: object) -> object:
        states = collect(self)
        states.widgets.append(skip.click()._widget_state)
        return states

    monkeypatch.setattr(type(tree), "get_widget_states", with_the_old_click)
    at.run()
    monkeypatch.undo()
    assert not at.exception, [e.value for e in at.exception]
    assert shown_step(at) == 1


def test_a_links_settings_and_run_are_untouched_by_the_tour() -> None:
    at = start(LINK)
    query, config, initial = dict(at.query_params), trainer(at).config, weights(at)
    browser_answers(at, dismissed=False)
    click(at, NEXT)
    click(at, NEXT)
    click(at, BACK)
    click(at, SKIP)
    browser_answers(at, dismissed=True)
    assert dict(at.query_params) == query
    assert trainer(at).config == config and config.lr_g == 1e-3 and config.seed == 3
    assert at.select_slider(key="lr_g").value == 1e-3 and at.number_input(key="seed").value == 3
    assert not at.session_state["lab"].playing
    assert step_readout(at) == 0
    np.testing.assert_array_equal(weights(at), initial)


def test_the_run_plays_while_the_tour_is_open() -> None:
    at = visit(LINK)
    play(at)
    assert step_readout(at) == CHUNK and at.session_state["lab"].playing
    assert shown_step(at) == 1
    click(at, NEXT)
    assert shown_step(at) == 2 and at.session_state["lab"].playing
    assert step_readout(at) > CHUNK
    assert trainer(at).config.lr_g == 1e-3


@pytest.mark.parametrize(("loss", "target", "absent"), [
    ("minimax", "**0.5**", "0.62"), ("least_squares", "**0.62**", "**0.5**")])
def test_the_d_accuracy_step_names_the_target_of_the_current_loss(loss: str, target: str,
                                                                   absent: str) -> None:
    at = visit({"loss": loss})
    while "D accuracy" not in step_text(at):
        click(at, NEXT)
    assert target in step_text(at) and absent not in step_text(at)

"""The guided tour in a real browser: shown once per browser (its localStorage), never in the
way of a link's run or of Play, and gone for good once skipped or done."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from harness.visitors import button
from lab.tour import BOX, MEMORY, STEPS, STORAGE_KEY

from .conftest import VIEWPORT, App
from .test_app_in_browser import PHONE, pause, status, step, wait_for_step_above

pytestmark = pytest.mark.browser

# Records whether the tour's box or its memory component ever showed, even for a moment.
WATCH_TOUR = f"""
window.tourSeen = {{box: false, memory: false}};
new MutationObserver(() => {{
    if (document.querySelector(".st-key-{BOX}")) window.tourSeen.box = true;
    if (document.querySelector(".st-key-{MEMORY}")) window.tourSeen.memory = true;
}}).observe(document, {{childList: true, subtree: true}});
"""


def tour(page: Page) -> Locator:
    return page.locator(f".st-key-{BOX}")


def tour_button(page: Page, label: str) -> Locator:
    return tour(page).get_by_role("button", name=label, exact=True)


def reload(app: App) -> None:
    """Reload the page in the same browser context (so the same localStorage)."""
    app.page.reload()
    expect(app.page.locator("[data-testid=stApp]")).to_have_attribute(
        "data-test-script-state", "notRunning")


def memory(page: Page) -> Locator:
    """The component that reads and writes the browser's memory, there while a question is
    open."""
    return page.locator(f".st-key-{MEMORY}")


def stored(page: Page) -> str | None:
    return page.evaluate(f"() => window.localStorage.getItem({STORAGE_KEY!r})")


def wait_until_stored(page: Page, value: str | None) -> None:
    page.wait_for_function(f"value => window.localStorage.getItem({STORAGE_KEY!r}) === value",
                           arg=value)


def counter(number: int) -> str:
    return f"step {number} of {len(STEPS)}"


def close_the_tour(page: Page, label: str = "Skip tour") -> None:
    """Skip (or Done) and wait until the browser has stored the dismissal: the box goes as
    the memory component comes, which leaves once the browser answers."""
    tour_button(page, label).click()
    expect(tour(page)).to_have_count(0)
    wait_until_stored(page, "dismissed")
    expect(memory(page)).to_have_count(0)


def settled(page: Page) -> None:
    """No run of the page under way, and nothing on it left stale by one."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState"
        " === 'notRunning' && !document.querySelector('[data-stale=true]')")


def wait_for_the_browsers_answer(page: Page) -> None:
    """The page asked the browser and heard its answer: the memory component came and went."""
    page.wait_for_function("() => window.tourSeen.memory")
    expect(memory(page)).to_have_count(0)


def outline(page: Page, key: str) -> str:
    return page.evaluate(f"() => getComputedStyle(document.querySelector('.st-key-{key}'))"
                         ".outlineStyle")


def test_skipped_the_tour_stays_away_in_that_browser_and_greets_a_new_one(
        app: App, browser: Browser) -> None:
    page = app.page
    page.add_init_script(WATCH_TOUR)
    app.open()
    expect(tour(page)).to_contain_text(counter(1))
    assert stored(page) is None
    close_the_tour(page)

    reload(app)
    wait_for_the_browsers_answer(page)
    page.wait_for_timeout(1_000)
    assert page.evaluate("() => window.tourSeen.box") is False, "the tour showed again"

    # Another browser (a new context: its own localStorage) gets the tour.
    other = browser.new_context(viewport=VIEWPORT)
    try:
        problems: list[str] = []
        visitor = other.new_page()
        visitor.on("console", lambda m: problems.append(_problem(m)))
        visitor.goto(app.url)
        expect(tour(visitor)).to_contain_text(counter(1), timeout=60_000)
        assert [p for p in problems if p] == []
    finally:
        other.close()
    app.assert_clean()


def _problem(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}" if message.type in ("error", "warning") else ""


def test_next_and_back_walk_the_steps_outlining_each_and_done_dismisses(app: App) -> None:
    page = app.page
    app.open()
    expect(tour(page)).to_contain_text(counter(1))
    expect(tour(page)).to_contain_text(STEPS[0].title)
    assert outline(page, STEPS[0].target) == "solid"
    tour_button(page, "Next").click()
    expect(tour(page)).to_contain_text(counter(2))
    expect(tour(page)).to_contain_text("x² and 2x² + 1")
    assert outline(page, STEPS[1].target) == "solid"
    assert outline(page, STEPS[0].target) == "none"
    tour_button(page, "Back").click()
    expect(tour(page)).to_contain_text(counter(1))
    for number in range(2, len(STEPS) + 1):
        tour_button(page, "Next").click()
        expect(tour(page)).to_contain_text(counter(number))
    close_the_tour(page, "Done")
    assert outline(page, STEPS[1].target) == "none"
    app.assert_clean()


def test_a_link_plays_with_its_settings_while_the_tour_is_open(app: App) -> None:
    """Play is in reach and works; each click on the tour counts once, even while live ticks
    rerun beside it; the link's settings stay as they were."""
    page = app.page
    app.open("?lr_g=0.001&seed=3")
    expect(tour(page)).to_contain_text(counter(1))
    url = page.url
    button(page, "Play").click()  # fails if anything covered it
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, 0)
    for number in range(2, len(STEPS) + 1):
        tour_button(page, "Next").click()
        expect(tour(page)).to_contain_text(counter(number))
        page.wait_for_timeout(500)  # a few ticks: a click counted twice would show now
        expect(tour(page)).to_contain_text(counter(number))
    tour_button(page, "Back").click()
    expect(tour(page)).to_contain_text(counter(len(STEPS) - 1))
    expect(status(page)).to_contain_text("Playing")
    expect(status(page)).to_contain_text("lr G 0.001 /")
    close_the_tour(page)
    wait_for_step_above(page, step(page))
    pause(page)
    assert page.url == url
    expect(page.get_by_label("Seed", exact=True)).to_have_value("3")
    app.assert_clean()


def test_once_dismissed_the_tour_sends_nothing_while_the_run_plays(app: App) -> None:
    """Neither the tour's box nor its memory component travels with any later message: a live
    tick, or a whole page's rerun, carries nothing of the tour."""
    page = app.page
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(
            payload if isinstance(payload, bytes) else payload.encode())))
    app.open()
    expect(tour(page)).to_contain_text(counter(1))
    assert any(b"Guided tour" in f for f in frames)
    close_the_tour(page)
    page.wait_for_timeout(500)  # the answer's own rerun is over
    frames.clear()
    button(page, "Play").click()
    trained = wait_for_step_above(page, 0)
    wait_for_step_above(page, trained + 500)
    pause(page)
    assert len(frames) > 5
    for marker in (b"Guided tour", MEMORY.encode(), STORAGE_KEY.encode()):
        assert not any(marker in f for f in frames), marker
    app.assert_clean()


def test_take_the_tour_again_brings_it_back_and_the_browser_forgets_the_dismissal(
        app: App) -> None:
    page = app.page
    app.open()
    close_the_tour(page)

    page.get_by_test_id("stExpander").locator("summary").filter(
        has_text="What am I looking at?").click()
    settled(page)  # a visitor reading the explainer: no run of the page under way
    button(page, "Take the tour again").click()
    expect(tour(page)).to_contain_text(counter(1))
    expect(tour(page)).to_be_in_viewport(ratio=1)
    wait_until_stored(page, None)
    expect(memory(page)).to_have_count(0)

    reload(app)
    expect(tour(page)).to_contain_text(counter(1))
    app.assert_clean()


def test_on_a_phone_the_tour_fits_the_screen_and_leaves_play_in_reach(app: App) -> None:
    page = app.page
    page.set_viewport_size(PHONE)
    app.open("?seed=2")
    expect(tour(page)).to_contain_text(counter(1))
    play = button(page, "Play")
    expect(play).to_be_in_viewport()
    for number in range(1, len(STEPS) + 1):
        expect(tour(page)).to_contain_text(counter(number))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{width} px wide on a {PHONE['width']} px screen"
        box = tour(page).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        if number < len(STEPS):
            tour_button(page, "Next").click()
    play.click()
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, 0)
    expect(tour(page)).to_contain_text(counter(len(STEPS)))
    pause(page)
    assert re.search(r"seed=2", page.url)
    app.assert_clean()

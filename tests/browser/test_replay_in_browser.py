"""In a real browser: a link holds a run's live changes, and the lab shows why the run moves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from harness.visitors import button, toggle

from .test_app_in_browser import (
    curves_chart,
    metric,
    slider,
    step,
    wait_for_step_above,
    wait_until_paused,
)

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

READOUTS = ("Step", "D accuracy", "D score", "In band", "W1", "Shape error")


def readouts(page: Page) -> dict[str, str]:
    return {label: metric(page, label).inner_text() for label in READOUTS}


def click_step(page: Page, times: int) -> None:
    for _ in range(times):
        before = step(page)
        button(page, "Step").click()
        wait_for_step_above(page, before)
        wait_until_paused(page)


def test_a_link_with_a_mid_run_change_reaches_the_same_readouts_at_the_same_step(
        app: App) -> None:
    page = app.page
    app.open("?seed=4")
    click_step(page, 3)
    lr = slider(page, "Generator learning rate")
    lr.focus()
    page.keyboard.press("ArrowRight")  # 0.0001 -> 0.0002, live, at step 300
    expect(lr).to_have_attribute("aria-valuetext", "0.0002")
    wait_until_paused(page)
    click_step(page, 2)
    expect(metric(page, "Step")).to_have_text("500")
    shared = page.url
    assert "changes=" in shared and "lr_g=0.0002" in shared
    seen = readouts(page)

    other = page.context.browser.new_context(viewport={"width": 1500, "height": 1200})
    try:
        tab = other.new_page()
        tab.goto(shared)
        expect(tab.locator("[data-testid=stApp]")).to_have_attribute(
            "data-test-script-state", "notRunning", timeout=90_000)
        # The run starts where the shared one did; the change comes back at its step.
        expect(slider(tab, "Generator learning rate")).to_have_attribute("aria-valuetext",
                                                                         "0.0001")
        click_step(tab, 5)
        expect(slider(tab, "Generator learning rate")).to_have_attribute("aria-valuetext",
                                                                         "0.0002")
        assert readouts(tab) == seen
    finally:
        other.close()
    app.assert_clean()


def test_forces_and_slow_motion_show_ds_push_a_step_at_a_time(app: App) -> None:
    page = app.page
    app.open()
    toggle(page, "Forces").click()
    expect(page.get_by_text("Forces: each line is D's push")).to_be_visible()
    expect(curves_chart(page).locator("canvas.marks")).to_be_visible()
    toggle(page, "Slow motion").click()
    button(page, "Play").click()
    expect(page.get_by_text("G's update: the curves move along the push")).to_be_visible()
    first = wait_for_step_above(page, 0)
    second = wait_for_step_above(page, first)
    assert second - first < 10, "slow motion trains a step per tick"
    button(page, "Pause").click()
    wait_until_paused(page)
    paused = step(page)
    button(page, "Step").click()  # paused, in slow motion: one step
    expect(metric(page, "Step")).to_have_text(f"{paused + 1:,}")
    app.assert_clean()


def test_a_click_while_playing_acts_once(app: App) -> None:
    """While the page plays, Streamlit can deliver a click again with the next live tick:
    each Train D must be one update, recorded once in the link."""
    page = app.page
    app.open("?seed=6")
    button(page, "Play").click()
    wait_for_step_above(page, 0)
    clicks = 6
    for _ in range(clicks):
        button(page, "Train D").click()
        page.wait_for_timeout(900)
    button(page, "Pause").click()
    wait_until_paused(page)
    page.wait_for_timeout(1_000)
    assert page.url.count("train_d-") == clicks, page.url
    app.assert_clean()

"""The stability map in a real browser: a small grid trains, and a click loads a cell."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.visitors import button

from .test_app_in_browser import settled

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser


def test_clicking_a_cell_loads_its_settings_into_the_live_trainer_and_the_url(app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="Stability map").click()
    smallest_grid(page)
    button(page, "Run").click()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("4 GANs")
    expect(progress).to_contain_text("done", timeout=120_000)

    heatmap = page.locator(".st-key-stability_map").locator("canvas.marks, svg.marks")
    box = heatmap.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])

    expect(page.get_by_test_id("stAlert").filter(has_text="Loaded the cell")).to_be_visible()
    expect(page).to_have_url(re.compile(r"lr_[gd]="))
    app.assert_clean()


def smallest_grid(page: Page) -> None:
    """Set the stability tab's smallest grid: 2 x 2 cells, 500 steps (Home moves a slider to
    its first value)."""
    for label, count in (("Cells", 2), ("Steps", 1)):
        thumbs = page.get_by_role("group", name=label, exact=True).get_by_role("slider")
        expect(thumbs).to_have_count(count)
        for i in range(count):
            thumbs.nth(i).focus()
            thumbs.nth(i).press("Home")
            settled(page)


def thumbs(page: Page, key: str) -> Locator:
    """The thumbs of the stability tab's slider keyed ``key`` (two on a range)."""
    return page.locator(f".st-key-{key}").get_by_role("slider")


def press(page: Page, thumb: Locator, key: str, times: int = 1) -> None:
    for _ in range(times):
        thumb.focus()
        thumb.press(key)
        settled(page)


def estimate(page: Page) -> Locator:
    """The caption beside *Run* announcing the grid's time."""
    return page.get_by_test_id("stCaptionContainer").filter(
        has_text="on this server, as timed just now")


def announced(page: Page, grid: str) -> float:
    """The seconds the tab announces once it shows ``grid`` ("4 GANs × 2,000 steps")."""
    expect(estimate(page)).to_contain_text(f": {grid}.")
    text = estimate(page).inner_text()
    match = re.search(r"About (?:(\d+) min)?(?: ?(\d+) s(?:econds?)?)? on this server, as timed "
                      r"just now: (.+)\.", text)
    assert match and match[3] == grid, text
    return float(60 * int(match[1] or 0) + int(match[2] or 0))


def test_a_small_grid_takes_about_the_time_it_announced_and_its_ranges_set_the_cells(
        app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="Stability map").click()
    press(page, thumbs(page, "stability_x_n"), "Home")  # 2 x 2 cells
    press(page, thumbs(page, "stability_y_n"), "Home")
    press(page, thumbs(page, "stability_x_range_lr_g").first, "ArrowRight", 2)  # lr G from 3e-05
    press(page, thumbs(page, "stability_y_range_lr_d").last, "ArrowLeft", 2)  # lr D up to 0.003
    seconds = announced(page, "4 GANs × 2,000 steps")
    button(page, "Run").click()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("4 GANs")
    expect(progress).to_contain_text("done in", timeout=120_000)
    took = float(re.search(r"done in ([\d.]+) s", progress.inner_text())[1])
    # Measured on this machine, for this grid: the map takes about what it said.
    assert 0.4 * seconds - 1 <= took <= 2.5 * seconds + 1, (seconds, took)

    heatmap = page.locator(".st-key-stability_map").locator("canvas.marks, svg.marks")
    before = heatmap.screenshot()
    page.get_by_test_id("stButtonGroup").get_by_text("In band", exact=True).click()
    settled(page)
    page.wait_for_timeout(500)  # the chart's new colours drawn
    assert heatmap.screenshot() != before, "colouring by in band changed nothing"

    box = heatmap.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.7 * box["height"])
    expect(page.get_by_test_id("stAlert").filter(has_text="Loaded the cell")).to_be_visible()
    # The bottom-left cell: the lowest value of each range.
    expect(page).to_have_url(re.compile(r"lr_g=3e-05"))
    expect(page).to_have_url(re.compile(r"lr_d=1e-05"))
    app.assert_clean()


def test_the_axes_seeds_and_stop_set_and_end_the_grid(app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="Stability map").click()
    for label, option in (("X axis", "Adam beta1"), ("Y axis", "none")):
        page.get_by_role("combobox", name=label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()
        settled(page)
    expect(page.locator(".st-key-stability_y_n")).to_have_count(0)  # no Y axis: no cells
    announced(page, "6 GANs × 2,000 steps")
    press(page, thumbs(page, "stability_seeds"), "ArrowRight")  # 2 seeds per cell
    press(page, thumbs(page, "stability_steps"), "End")  # 10,000 steps
    announced(page, "12 GANs × 10,000 steps")
    button(page, "Run").click()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text(re.compile(r"12 GANs, step [1-9][\d,]* of 10,000"))
    expect(button(page, "Stop")).to_be_enabled()
    button(page, "Stop").click()
    expect(progress).to_contain_text("stopped")
    expect(button(page, "Stop")).to_be_disabled()
    stopped = progress.inner_text()
    page.wait_for_timeout(1_000)
    assert progress.inner_text() == stopped, "the grid went on after Stop"
    app.assert_clean()

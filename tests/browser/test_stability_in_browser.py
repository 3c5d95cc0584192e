"""The stability map in a real browser: a small grid trains, and a click loads a cell."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harness.visitors import button

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser


def test_clicking_a_cell_loads_its_settings_into_the_live_trainer_and_the_url(app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="Stability map").click()
    # The smallest grid: 2 x 2 cells, 500 steps (Home moves a slider to its first value).
    for label, count in (("Cells", 2), ("Steps", 1)):
        thumbs = page.get_by_role("group", name=label, exact=True).get_by_role("slider")
        expect(thumbs).to_have_count(count)
        for i in range(count):
            thumbs.nth(i).focus()
            thumbs.nth(i).press("Home")
            expect(page.locator("[data-testid=stApp]")).to_have_attribute(
                "data-test-script-state", "notRunning")
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

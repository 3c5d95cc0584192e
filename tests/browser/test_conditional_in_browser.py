"""The conditional GAN in a real browser, as a visitor uses it: Conditional turned on in the
sidebar, both classes learned, the class switched and the label blended in the latent explorer,
class accuracy read against its target; its stability map coloured by class accuracy."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.visitors import button

from .test_app_in_browser import (
    curves_chart,
    metric,
    pause,
    settled,
    slider,
    status,
    step,
    wait_for_step_above,
)
from .test_player_in_browser import PIXELS, scroll_to_chart
from .test_stability_in_browser import smallest_grid

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

# Pixels of the curves' canvas in each class's colour (gan_core.views.charts.CLASS_COLORS: the
# lower class #2b8a3e, the upper #7048e8), drawn at opacity 0.7 over the band and the page.
CLASS_PIXELS = f"""
() => {{
  const data = ({PIXELS})(
    document.querySelector('[data-testid=labPlayer] [data-chart=curves] canvas.marks'));
  let lower = 0, upper = 0;
  for (let i = 0; i < data.length; i += 4) {{
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (g - r > 40 && g - b > 25) lower += 1;
    if (b - g > 70 && r - g > 15) upper += 1;
  }}
  return {{lower, upper}};
}}
"""


def heading(page: Page, text: str) -> Locator:
    """A heading of the panels below the live curves (drawn by the player)."""
    return page.get_by_test_id("labPanels").locator(".lab-heading").filter(has_text=text)


def option(page: Page, control: str, name: str) -> Locator:
    """One option of a segmented control."""
    return page.get_by_role("radiogroup", name=control, exact=True).get_by_role(
        "radio", name=name, exact=True)


def percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def turn_on_conditional(page: Page) -> Locator:
    """Click Conditional in the sidebar's Model group, as a visitor does; its checkbox."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Model", exact=True).click()
    toggle = sidebar.get_by_test_id("stCheckbox").filter(has_text="Conditional")
    toggle.locator("label").click()
    return toggle


def play_and_switch_classes(page: Page, classes: tuple[str, str], steps: int,
                            help_text: str) -> None:
    """Play a conditional run past ``steps`` and pause: G learned both ``classes`` (most curves
    land in the band of the class they were asked for, and the chart holds curves of both
    colours) and Class accuracy's help says ``help_text``. Then the class switch: the second
    class is looked at, its D map is shown, G is asked for it."""
    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, steps, timeout=90)
    pause(page)
    assert percent(metric(page, "Class accuracy").inner_text()) >= 0.8
    assert min(percent(metric(page, f"In band, {c}").inner_text()) for c in classes) >= 0.8
    drawn = page.evaluate(CLASS_PIXELS)  # the first class in class 0's colour, the second in 1's
    assert drawn["lower"] > 200 and drawn["upper"] > 200, drawn
    expect(curves_chart(page)).to_be_visible()
    help_button = page.get_by_test_id("labReadout").filter(
        has=page.get_by_text("Class accuracy", exact=True)).get_by_role("button")
    help_button.hover()
    expect(page.get_by_role("tooltip")).to_contain_text(help_text)

    first, second = classes
    expect(heading(page, f"Discriminator map · class {first}")).to_have_count(1)
    scroll_to_chart(page, "latent")
    option(page, "Class", second).click()
    settled(page)
    expect(heading(page, f"Discriminator map · class {second}")).to_have_count(1)
    expect(heading(page, f"Latent explorer · asked for {second}")).to_have_count(1)


def test_a_visitor_turns_on_conditional_watches_both_classes_switches_the_class_and_blends(
        app: App) -> None:
    page = app.page
    app.open("?steps_per_tick=300")
    turn_on_conditional(page)
    expect(page).to_have_url(re.compile(r"conditional=true"))
    expect(page.get_by_test_id("stAlert").filter(has_text="New model: conditional changed")
           ).to_be_visible()
    expect(status(page)).to_contain_text("target: Parabolas (tutorial), conditional")
    for label in ("Class accuracy", "In band, lower", "In band, upper", "W1, lower",
                  "W1, upper"):
        expect(metric(page, label)).to_be_visible()

    play_and_switch_classes(page, ("lower", "upper"), 3_000, "Target 100%")
    label = slider(page, "Label")
    expect(label).to_have_attribute("aria-valuetext", "1.00")
    latent = page.locator("[data-testid=labPanels] [data-chart=latent] canvas.marks")
    before = latent.screenshot()

    # The label blended half way: G paints for a label no real curve has.
    label.focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    expect(label).to_have_attribute("aria-valuetext", "0.50")
    settled(page)
    expect(heading(page, "label 0.50, between lower (0) and upper (1)")).to_have_count(1)
    assert latent.screenshot() != before
    assert step(page) >= 3_000  # looking changed nothing
    app.assert_clean()


def test_a_conditional_stability_map_is_coloured_by_class_accuracy(app: App) -> None:
    page = app.page
    app.open("?conditional=true")
    page.get_by_role("tab", name="Stability map").click()
    smallest_grid(page)
    option(page, "Colour by", "Class accuracy").click()
    settled(page)
    button(page, "Run").click()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("4 GANs")
    expect(progress).to_contain_text("done", timeout=120_000)
    heatmap = page.locator(".st-key-stability_map").locator("canvas.marks, svg.marks")
    expect(heatmap).to_be_visible()
    expect(option(page, "Colour by", "Class accuracy")).to_have_attribute("aria-checked", "true")
    app.assert_clean()

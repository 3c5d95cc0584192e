"""How the page looks in a real browser: light or dark as the visitor's system is, nothing raw
at step 0, nothing cut off or pushed about, and the controls with the curves on a phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.server import ARTIFACTS
from harness.visitors import button, toggle
from lab.tour import BOX

from .test_app_in_browser import (
    PHONE,
    curves_chart,
    pause,
    player,
    status,
    wait_for_step_above,
    wait_until_paused,
)
from .test_player_in_browser import PIXELS

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

# Shares of a canvas's pixels: dark (the page's dark background), light (text, on dark), tinted
# blue (the band between the bounds, on dark), and near a colour given as [r, g, b].
SHARES = f"""
([c, colour]) => {{
  const data = ({PIXELS})(c);
  const n = data.length / 4;
  let dark = 0, light = 0, band = 0, near = 0;
  for (let i = 0; i < data.length; i += 4) {{
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    const y = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    if (y < 0.15) dark += 1;
    if (y > 0.6) light += 1;
    if (y < 0.35 && b > r + 12 && b > g + 6) band += 1;
    if (colour && Math.abs(r - colour[0]) + Math.abs(g - colour[1]) + Math.abs(b - colour[2]) < 60)
      near += 1;
  }}
  return {{dark: dark / n, light: light / n, band: band / n, near}};
}}
"""
LUMINANCE = """
([el, property]) => {
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = getComputedStyle(el)[property];
  const [r, g, b] = probe.fillStyle.startsWith('#')
    ? [1, 3, 5].map(i => parseInt(probe.fillStyle.slice(i, i + 2), 16))
    : probe.fillStyle.match(/\\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
"""


def luminance(locator: Locator, css_property: str) -> float:
    return locator.evaluate(f"el => ({LUMINANCE})([el, {css_property!r}])")


def shares(canvas: Locator, colour: tuple[int, int, int] | None = None) -> dict[str, float]:
    return canvas.evaluate(f"c => ({SHARES})([c, {list(colour) if colour else 'null'}])")


def chart_canvas(page: Page, chart: str) -> Locator:
    return page.locator(f"[data-testid=labChart][data-chart={chart}] canvas.marks").first


def test_a_visitor_whose_system_is_dark_gets_a_dark_page_with_every_chart_legible(
        app: App) -> None:
    dark = app.another(color_scheme="dark")
    page = dark.page
    dark.open()
    expect(player(page)).to_have_attribute("data-settled", "true")
    assert luminance(page.get_by_test_id("stApp"), "backgroundColor") < 0.15
    assert luminance(status(page), "color") > 0.5  # light text on it
    assert luminance(page.get_by_test_id("labReadoutValue").first, "color") > 0.5
    button(page, "Play").click()
    wait_for_step_above(page, 1_000)
    pause(page)
    # The curves: a dark chart, the band a visible tint of blue on it, light axis labels.
    curves = shares(chart_canvas(page, "curves"))
    assert curves["dark"] > 0.4 and curves["band"] > 0.05 and curves["light"] > 0.002, curves
    # The histogram's true law, once near-black on white, reads on the dark background.
    law = shares(chart_canvas(page, "distribution"), (0x7A, 0x81, 0x94))
    assert law["near"] > 100, law
    # The panels take the theme too: their charts drawn on dark.
    panels = page.get_by_test_id("labPanels")
    panels.locator("[data-chart=dmap]").scroll_into_view_if_needed()
    expect(panels.locator("[data-chart=dmap] canvas.marks")).to_be_visible()
    losses = shares(panels.locator("[data-chart=history_losses] canvas.marks"))
    assert losses["dark"] > 0.5 and losses["light"] > 0.001, losses
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "screenshot-dark.png")
    # And a light system still gets the light page.
    app.open()
    assert luminance(app.page.get_by_test_id("stApp"), "backgroundColor") > 0.9
    app.assert_clean()


def test_at_step_0_the_history_waits_for_a_line_and_the_d_map_shows_gs_curves(
        app: App) -> None:
    page = app.page
    app.open()
    panels = page.get_by_test_id("labPanels")
    expect(panels).to_have_attribute("data-step", "0")
    # Six empty-state captions, and no history chart drawn from a single point.
    expect(panels.get_by_test_id("labCaption").filter(has_text="fills in as it trains")) \
        .to_have_count(6)
    expect(panels.locator("[data-chart^=history_]")).to_have_count(0)
    # The D map: an untrained G's curves lie off the plane of parabolas, drawn at its edge.
    dmap = panels.locator("[data-chart=dmap] canvas.marks")
    dmap.scroll_into_view_if_needed()
    expect(dmap).to_be_visible()
    expect(panels.locator("[data-chart=dmap]")).to_have_attribute("data-step", "0")
    assert shares(dmap, (0x4A, 0xD6, 0x31))["near"] > 20, "no green G curves on the D map"
    # One Step later, two evaluations: every history panel draws.
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    button(page, "Step").click()
    expect(panels).to_have_attribute("data-step", "100")
    expect(panels.locator("[data-chart^=history_]")).to_have_count(6)
    app.assert_clean()


def test_the_slow_motion_strip_has_its_captions_on_one_line_and_its_charts_level(
        app: App) -> None:
    page = app.page
    app.open()
    toggle(page, "Slow motion").click()
    wait_until_paused(page)
    button(page, "Step").click()
    heading = page.get_by_text("Slow motion · step 0 → 1")
    expect(heading).to_be_visible()
    captions = [page.get_by_test_id("stCaptionContainer").filter(has_text=text) for text in (
        "Before the step", "G's update", "D's update")]
    heights = {round(c.bounding_box()["height"]) for c in captions}
    assert len(heights) == 1, f"a caption wrapped: heights {heights}"
    charts = [page.locator(f".st-key-phase_{i} canvas, .st-key-phase_{i} svg.marks").first
              for i in range(3)]
    for chart in charts:
        expect(chart).to_be_visible()
    tops = [round(c.bounding_box()["y"]) for c in charts]
    assert max(tops) - min(tops) <= 2, f"the strip's charts are not level: {tops}"
    for i, chart in enumerate(charts):  # nothing drawn past the chart's column
        column = page.locator(f".st-key-phase_{i}")
        assert chart.bounding_box()["width"] <= column.bounding_box()["width"] + 1
    app.assert_clean()


def test_the_pytorch_tabs_code_fits_its_column(app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="PyTorch").click()
    blocks = page.get_by_test_id("stCode")
    expect(blocks).to_have_count(3)
    expect(blocks.first).to_contain_text("def train_step")
    for block in blocks.all():
        overflow = block.locator("pre").evaluate("e => e.scrollWidth - e.clientWidth")
        assert overflow <= 1, f"a code block hides {overflow} px of its lines"
    app.assert_clean()


def test_on_a_phone_play_and_the_curves_share_the_first_screen_with_the_tour(app: App) -> None:
    page = app.page
    page.set_viewport_size(PHONE)
    app.open()
    tour = page.locator(f".st-key-{BOX}")
    expect(tour).to_contain_text("step 1 of")
    chart = curves_chart(page)
    expect(chart.locator("canvas.marks")).to_be_visible()

    def first_screen() -> None:
        expect(button(page, "Play")).to_be_in_viewport(ratio=1)
        box = chart.bounding_box()
        seen = (PHONE["height"] - box["y"]) / box["height"]
        assert seen >= 0.4, f"{seen:.0%} of the curves chart on the first screen"

    first_screen()
    tour.get_by_role("button", name="Next", exact=True).click()  # the step about this chart
    expect(tour).to_contain_text("step 2 of")
    first_screen()
    app.assert_clean()


def test_pausing_brings_the_look_back_slider_without_moving_the_live_view(app: App) -> None:
    page = app.page
    app.open()
    button(page, "Play").click()
    wait_for_step_above(page, 1_200)
    chart = curves_chart(page)
    playing = chart.bounding_box()["y"]
    slider = page.get_by_role("group", name="Look back", exact=True)
    expect(slider).to_have_count(0)
    pause(page)
    expect(slider).to_be_visible()
    assert chart.bounding_box()["y"] == playing, "the live view moved when the slider came"
    app.assert_clean()

"""The app in a real browser: it renders, trains live, follows its URL and survives impatience."""

from __future__ import annotations

import io
import re
import time
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Locator, Page, expect

from harness.server import ARTIFACTS
from harness.visitors import button

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

# -- the page's parts ---------------------------------------------------------------------------

def slider(page: Page, label: str) -> Locator:
    """The (keyboard-focusable) thumb of a slider or select_slider."""
    # The thumb is labelled by itself and its group ("Seed Seed"); the group's name is exact.
    return page.get_by_role("group", name=label, exact=True).get_by_role("slider")


def metric(page: Page, label: str) -> Locator:
    """A readout's value, as the live view's player shows it. While runs overlap, Streamlit
    leaves an interrupted run's elements on the page, marked stale, until the next run replaces
    them: read the current one."""
    label_el = page.get_by_test_id("labReadoutLabel").get_by_text(label, exact=True)
    current = page.locator("[data-testid=stElementContainer][data-stale=false]")
    return current.get_by_test_id("labReadout").filter(has=label_el).get_by_test_id(
        "labReadoutValue")


def step(page: Page) -> int:
    """The "Step" readout."""
    return int(metric(page, "Step").inner_text().replace(",", ""))


def curves_chart(page: Page) -> Locator:
    current = page.locator("[data-testid=stElementContainer][data-stale=false]")
    return current.locator("[data-testid=labChart][data-chart=curves]")


def chart_marks(chart: Locator) -> Locator:
    """What vega draws into: not the toolbar's icons, which are svg too."""
    return chart.locator("canvas.marks, svg.marks")


def status(page: Page) -> Locator:
    """The line under the buttons: playing or paused, pace, loss and learning rates of the
    frame on show (the player writes it)."""
    return page.get_by_test_id("labStatusLine")


def wait_for_step_above(page: Page, floor: int, timeout: float = 30.0) -> int:
    """Poll the step readout until it exceeds ``floor``; return it."""
    deadline = time.monotonic() + timeout
    while (value := step(page)) <= floor:
        assert time.monotonic() < deadline, f"step stuck at {value} (waited for > {floor})"
        page.wait_for_timeout(200)
    return value


def player(page: Page) -> Locator:
    return page.get_by_test_id("labPlayer")


def settled(page: Page) -> None:
    """No run of the page under way: what a run changes is on the page."""
    expect(page.locator("[data-testid=stApp]")).to_have_attribute(
        "data-test-script-state", "notRunning")


def wait_until_paused(page: Page) -> None:
    """Play enabled, no run in flight and the player showing a paused run's last frame: the
    step readout is final."""
    expect(button(page, "Play")).to_be_enabled()
    settled(page)
    expect(player(page)).to_have_attribute("data-playing", "false")
    expect(player(page)).to_have_attribute("data-settled", "true")


def pause(page: Page) -> None:
    """Press Pause as a visitor does, and wait until the page shows the paused run's last
    frame: what a test that played checks next is final."""
    button(page, "Pause").click()
    wait_until_paused(page)


def alerts(page: Page, kind: str) -> Locator:
    """``st.warning`` (kind "Warning"), ``st.error`` ("Error"), ``st.info`` ("Info") boxes."""
    return page.get_by_test_id("stAlert").filter(has=page.get_by_test_id(f"stAlertContent{kind}"))


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def changed_fraction(before: bytes, after: bytes) -> float:
    """Share of pixels that differ between two same-size PNG screenshots."""
    a, b = (Image.open(io.BytesIO(png)).convert("RGB") for png in (before, after))
    assert a.size == b.size, f"chart changed size: {a.size} -> {b.size}"
    mask = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return mask.histogram()[255] / (a.width * a.height)


# -- tests ------------------------------------------------------------------------------------

def test_page_renders_the_curve_chart(app: App) -> None:
    page = app.page
    app.open()
    expect(page).to_have_title("GAN Curve Lab")
    marks = chart_marks(curves_chart(page))
    expect(marks).to_have_count(1)
    expect(marks).to_be_visible()
    box = marks.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100, box
    for label in ("Step", "D accuracy", "D score", "In band", "W1"):
        expect(metric(page, label)).to_be_visible()
    assert step(page) == 0
    expect(alerts(page, "Warning")).to_have_count(0)
    expect(alerts(page, "Error")).to_have_count(0)
    app.assert_clean()


def test_play_trains_live_takes_a_new_learning_rate_and_pause_stops(app: App) -> None:
    page = app.page
    app.open()
    chart = curves_chart(page)
    expect(chart_marks(chart)).to_be_visible()
    before = chart.screenshot()

    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_enabled()
    expect(status(page)).to_contain_text("Playing")
    first = wait_for_step_above(page, 0)
    trained = wait_for_step_above(page, first + 200)  # at least three more ticks
    after = chart.screenshot()
    assert changed_fraction(before, after) > 0.01, "the curve chart did not change"

    # A live setting: the model keeps training from where it is.
    lr = slider(page, "Generator learning rate")
    expect(lr).to_have_attribute("aria-valuetext", "0.0001")
    lr.focus()
    page.keyboard.press("ArrowRight")
    expect(lr).to_have_attribute("aria-valuetext", "0.0002")
    expect(status(page)).to_contain_text("lr G 0.0002")
    assert "lr_g=0.0002" in page.url
    kept = step(page)
    assert kept >= trained, f"the learning rate change restarted training ({trained} -> {kept})"
    wait_for_step_above(page, kept + 100)
    expect(status(page)).to_contain_text("Playing")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "app-playing.png", full_page=True)

    pause(page)
    expect(status(page)).to_contain_text("Paused")
    paused = step(page)
    page.wait_for_timeout(2_000)
    assert step(page) == paused, "training went on after Pause"
    app.assert_clean()


def test_url_query_params_set_the_widgets(app: App) -> None:
    page = app.page
    app.open("?seed=3&loss=hinge&lr_g=0.001&hidden=64")
    expect(page.get_by_label("Seed", exact=True)).to_have_value("3")
    expect(page.get_by_role("combobox", name="Loss", exact=True)).to_have_value("hinge")
    expect(slider(page, "Generator learning rate")).to_have_attribute("aria-valuetext", "0.001")
    page.get_by_test_id("stExpander").locator("summary").filter(has_text="Model").click()
    expect(slider(page, "Hidden units")).to_have_attribute("aria-valuetext", "64")
    # ...and the run uses them, not only the widgets.
    expect(status(page)).to_contain_text("loss: hinge · lr G 0.001 /")
    expect(alerts(page, "Warning")).to_have_count(0)
    expect(alerts(page, "Error")).to_have_count(0)
    app.assert_clean()


def test_garbage_query_params_give_one_warning_and_a_working_page(app: App) -> None:
    """Among them values Streamlit's own widgets cannot take (seed=inf crashed the page):
    the link is cleaned before any widget reads it."""
    page = app.page
    app.open("?lr_g=abc&bogus=1&seed=inf&hidden=1e400&lr_d=1e-3")
    alert = alerts(page, "Warning")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Some settings in the link were ignored")
    for key in ("bogus", "lr_g", "seed", "hidden"):
        expect(alert).to_contain_text(key)
    expect(slider(page, "Generator learning rate")).to_have_attribute("aria-valuetext", "0.0001")
    expect(slider(page, "Discriminator learning rate")).to_have_attribute("aria-valuetext",
                                                                           "0.001")
    expect(page).to_have_url(re.compile(r"\?lr_d=0\.001$"))  # what is left, respelled
    no_exception(page)

    button(page, "Step").click()
    expect(metric(page, "Step")).to_have_text("100")
    app.assert_clean()


def test_a_preset_sets_the_widgets_and_the_url_without_a_warning(app: App) -> None:
    page = app.page
    app.open()
    box = page.get_by_role("combobox", name="Preset", exact=True)
    box.click()
    page.get_by_role("option", name="fast", exact=True).click()
    expect(slider(page, "Generator learning rate")).to_have_attribute("aria-valuetext", "0.003")
    expect(page).to_have_url(re.compile(r"lr_g=0\.003"))
    expect(status(page)).to_contain_text("loss: non saturating · lr G 0.003 / D 0.001")
    app.assert_clean()


def test_impatient_clicking_while_playing_leaves_a_working_page(app: App) -> None:
    page = app.page
    app.open()
    button(page, "Play").click()
    wait_for_step_above(page, 0)

    # Raw mouse clicks at the buttons' places, without waiting for a button to be enabled or a
    # run to finish, so that reruns overlap; keys move two live sliders back and forth.
    spots = {}
    for label in ("Play", "Pause", "Step", "Reset"):
        box = button(page, label).bounding_box()
        assert box is not None
        spots[label] = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    sliders = {"lr": slider(page, "Generator learning rate"), "batch": slider(page, "Batch size")}
    actions = ["Step", "Reset", "lr>", "Play", "Pause", "Step", "batch<", "Play", "Reset",
               "lr<", "Pause", "Step", "Play", "batch>", "Reset", "Pause", "Play", "lr>"] * 2
    for action in actions:
        if action in spots:
            page.mouse.click(*spots[action])
        else:
            sliders[action[:-1]].focus()
            page.keyboard.press("ArrowRight" if action.endswith(">") else "ArrowLeft")
        page.wait_for_timeout(60)

    # Let the queued reruns drain, then pause deterministically: the last click is Pause.
    page.wait_for_timeout(1_500)
    page.mouse.click(*spots["Pause"])
    wait_until_paused(page)
    page.wait_for_timeout(1_000)
    wait_until_paused(page)
    no_exception(page)

    paused = step(page)
    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, paused)
    expect(chart_marks(curves_chart(page))).to_be_visible()
    app.assert_clean()


PHONE = {"width": 390, "height": 844}


def test_on_a_phone_the_page_opens_on_the_content_with_play_in_reach(app: App) -> None:
    """A link opened from a chat app: no sidebar over the page, Play on the first screen,
    nothing wider than the screen; it plays, pauses and shows the step."""
    page = app.page
    page.set_viewport_size(PHONE)
    app.open("?seed=2")
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    play = button(page, "Play")
    expect(play).to_be_in_viewport()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
    for chart in page.locator("[data-testid=stVegaLiteChart], [data-testid=labChart]").all():
        box = chart.bounding_box()
        assert box is None or box["x"] + box["width"] <= PHONE["width"] + 1, box

    play.click()
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, 0)
    pause(page)
    paused = step(page)
    page.wait_for_timeout(1_500)
    assert step(page) == paused
    app.assert_clean()

"""Your data in a real browser, as a visitor brings it: drawing a band and drawing curves with a
mouse on a desktop and with a finger on a phone, uploading a CSV file, a hostile file that
leaves the run as it was, a drawn data set shared by link, and a checkpoint that comes back
with its curves."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from gan_core.data import Curves
from gan_core.data.curves import curve_grid
from gan_core.files.link_data import quantised, read_data, spell_data
from harness.hostile_csv import zip_bomb
from harness.server import ARTIFACTS
from harness.visitors import button

from .conftest import FAILED, SERVER_LOG, WATCH_EXCEPTIONS, App
from .test_app_in_browser import (
    alerts,
    chart_marks,
    curves_chart,
    metric,
    pause,
    settled,
    step,
    wait_until_paused,
)

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "data"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[App]:
    """A phone: a small touch screen, as Playwright's mobile emulation has it."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    context.add_init_script(WATCH_EXCEPTIONS)
    page = context.new_page()
    app = App(page, app_url, log_start=SERVER_LOG.stat().st_size)
    page.on("console", app.on_console)
    page.on("pageerror", app.on_page_error)
    try:
        yield app
        if request.node.stash.get(FAILED, False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"failed-{request.node.name}.png")
    finally:
        context.close()


# -- the page's parts --------------------------------------------------------------------------


def pad(page: Page) -> Locator:
    return page.get_by_test_id("labDrawingPad")


def drawing(page: Page) -> Locator:
    return page.get_by_test_id("labDrawing")


def point(page: Page, curve: int, index: int) -> tuple[float, float]:
    """Where a point of the drawing is on the screen (its centre, in CSS pixels)."""
    circle = pad(page).locator(f"circle[data-curve='{curve}'][data-point='{index}']")
    pad(page).scroll_into_view_if_needed()
    box = circle.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def url_data(page: Page) -> str | None:
    values = parse_qs(urlparse(page.url).query).get("data")
    return values[0] if values else None


def url_points(page: Page) -> int:
    return int(parse_qs(urlparse(page.url).query).get("n_points", ["15"])[0])


def wait_for_url_data(page: Page, before: str | None, timeout: float = 30.0) -> str:
    """The URL's drawing once it is no longer ``before``."""
    deadline = time.monotonic() + timeout
    while (now := url_data(page)) == before:
        assert time.monotonic() < deadline, f"the link's data stayed {before!r}"
        page.wait_for_timeout(200)
    assert now is not None
    return now


def mouse_drag(page: Page, start: tuple[float, float], end: tuple[float, float],
               steps: int = 12) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, steps + 1):
        t = k / steps
        page.mouse.move(start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
    page.mouse.up()


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float],
               steps: int = 12) -> None:
    """A finger's stroke, as the phone's touch screen reports it (touch events, which the
    browser also turns into pointer events of type touch)."""
    cdp: CDPSession = page.context.new_cdp_session(page)

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", *start)
    for k in range(1, steps + 1):
        t = k / steps
        touch("touchMove", start[0] + t * (end[0] - start[0]),
              start[1] + t * (end[1] - start[1]))
    touch("touchEnd", *end)
    cdp.detach()


def open_target_group(page: Page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    radio = sidebar.get_by_text("Draw curves", exact=True)
    if not radio.is_visible():
        sidebar.get_by_text("Target", exact=True).click()
    expect(radio).to_be_visible()


def choose(page: Page, source: str) -> None:
    """Pick how your curves come, in the sidebar's Target group."""
    open_target_group(page)
    page.get_by_test_id("stSidebar").get_by_text(source, exact=True).click()
    settled(page)


def curve_values(data: Curves, curve: int) -> np.ndarray:
    return data.values[curve]


def main_scroll(page: Page) -> float:
    return page.evaluate("() => document.querySelector('[data-testid=stMain]')"
                         "?.scrollTop ?? window.scrollY")


# -- drawing, with a mouse ---------------------------------------------------------------------


def test_drawing_a_band_with_the_mouse_redraws_it_and_the_run_learns_it(app: App) -> None:
    page = app.page
    app.open("?target=data")
    expect(pad(page)).to_be_visible()
    expect(drawing(page)).to_have_attribute("data-mode", "band")
    assert url_data(page) == "band"
    chart_before = curves_chart(page).screenshot()
    # Press on the upper curve a quarter of the way in and drag up and across to the middle.
    x0, y0 = point(page, 1, 3)
    x1, _ = point(page, 1, 7)
    mouse_drag(page, (x0, y0 - 40), (x1, y0 - 90))
    band = read_data(wait_for_url_data(page, "band"), 15)
    tutorial = Curves.tutorial()
    np.testing.assert_array_equal(band.values[0], quantised(tutorial.values[0]))  # lower kept
    raised = band.values[1] - tutorial.values[1]
    assert (raised[3:8] > 0.5).all() and np.abs(raised[9:]).max() < 0.01
    assert np.all(np.diff(band.values[1][3:8]) >= 0)  # the stroke's straight line, rising
    expect(page.get_by_test_id("stToast")).to_contain_text("New model: your data changed")
    expect(alerts(page, "Info")).to_have_count(0)  # nothing above the pad moved it
    expect(curves_chart(page).locator("canvas.marks, svg.marks")).to_be_visible()
    page.wait_for_timeout(1000)
    assert curves_chart(page).screenshot() != chart_before
    button(page, "Play").click()
    deadline = time.monotonic() + 30
    while step(page) < 200:
        assert time.monotonic() < deadline
        page.wait_for_timeout(250)
    for label in ("In band", "Sliced W1", "Precision", "Recall", "Nearest real"):
        expect(metric(page, label)).to_be_visible()
    pause(page)
    app.assert_clean()


def test_drawing_curves_with_the_mouse_adds_and_redraws_them(app: App) -> None:
    page = app.page
    app.open("?target=data")
    choose(page, "Draw curves")
    expect(drawing(page)).to_have_attribute("data-mode", "curves")
    before = wait_for_url_data(page, "band")
    assert before.startswith("curves~0.1~")
    drawing(page).locator("[data-action=add]").click()
    added = read_data(wait_for_url_data(page, before), 15)
    assert added.n_curves == 3
    x0, y0 = point(page, 2, 0)
    x1, y1 = point(page, 2, 14)
    mouse_drag(page, (x0, y0), (x1, y1 + 120), steps=20)  # a falling line across the pad
    drawn = read_data(wait_for_url_data(page, spelled(added)), 15)
    assert drawn.n_curves == 3 and np.all(np.diff(drawn.values[2]) < 0)
    np.testing.assert_array_equal(drawn.values[:2], added.values[:2])
    noise = page.get_by_role("group", name="Noise around the curves", exact=True).get_by_role(
        "slider")
    noise.focus()
    page.keyboard.press("ArrowRight")
    assert read_data(wait_for_url_data(page, spelled(drawn)), 15).noise == 0.11
    app.assert_clean()


def spelled(data: Curves) -> str:
    return spell_data(data)


# -- drawing, with a finger --------------------------------------------------------------------


def test_drawing_a_band_with_a_finger_on_a_phone(phone: App) -> None:
    page = phone.page
    phone.open("?target=data")
    pad(page).scroll_into_view_if_needed()
    expect(pad(page)).to_be_visible()
    box = pad(page).bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    scrolled = main_scroll(page)
    x0, y0 = point(page, 0, 2)
    x1, _ = point(page, 0, 12)
    touch_drag(page, (x0, y0), (x1, y0 - 30), steps=16)  # the lower curve, a rising line
    band = read_data(wait_for_url_data(page, "band"), 15)
    stroke = band.values[0][2:13]
    assert np.abs(np.diff(stroke, 2)).max() <= 0.011  # straight, to the values' 0.005 steps
    assert stroke[-1] - stroke[0] > 0.5  # from the press up to where the finger lifted
    np.testing.assert_array_equal(band.values[1], quantised(Curves.tutorial().values[1]))
    assert abs(main_scroll(page) - scrolled) < 2, "the page scrolled under the finger"
    phone.assert_clean()


def test_drawing_curves_with_a_finger_on_a_phone(phone: App) -> None:
    page = phone.page
    x = curve_grid(15).astype(np.float64)
    flat = Curves.around(quantised(np.stack([0 * x + 1, 0 * x + 3])), 0.2)
    phone.open("?target=data&data=" + spelled(flat))
    expect(drawing(page)).to_have_attribute("data-mode", "curves")
    before = url_data(page)
    pad(page).scroll_into_view_if_needed()
    x0, y0 = point(page, 0, 7)
    touch_drag(page, (x0, y0), (x0 + 2, y0 - 70), steps=8)  # the middle point of curve 1, up
    drawn = read_data(wait_for_url_data(page, before), 15)
    assert drawn.values[0][7] > 1.5 and drawn.noise == 0.2
    phone.assert_clean()


# -- a CSV file ---------------------------------------------------------------------------------


def upload_csv(page: Page, path_or_file: Path | dict) -> None:
    page.locator(".st-key-data_upload [data-testid=stFileUploaderDropzoneInput]").set_input_files(
        path_or_file)
    settled(page)


def panel(page: Page) -> Locator:
    return page.locator(".st-key-your_data")


def upload_example(app: App, name: str, query: str = "?target=data") -> None:
    """Open the page on ``query`` and upload ``name``, an example file of 600 curves of 16
    points in docs/data, under Your data, as a visitor does."""
    app.open(query)
    choose(app.page, "Upload a CSV")
    upload_csv(app.page, EXAMPLES / name)
    expect(panel(app.page)).to_contain_text(f"{name}: 600 curves of 16 points")


def test_uploading_a_csv_file_learns_its_curves_in_their_own_units(app: App) -> None:
    page = app.page
    app.open("?target=data")
    choose(page, "Upload a CSV")
    expect(panel(page)).to_contain_text("No file yet")
    upload_csv(page, EXAMPLES / "temperatures.csv")
    expect(panel(page)).to_contain_text("temperatures.csv: 365 curves of 24 points "
                                        "(x from 0 to 23)")
    expect(panel(page)).to_contain_text("The first column ('day') names the rows")
    expect(panel(page)).to_contain_text("normalised copy")
    assert url_data(page) == "csv" and url_points(page) == 24
    page.get_by_test_id("stSidebar").get_by_text("Model", exact=True).click()
    points = page.get_by_role("group", name="Points per curve", exact=True).get_by_role(
        "slider")
    expect(points).to_have_attribute("aria-valuetext", "24")
    expect(points).to_be_disabled()
    expect(chart_marks(curves_chart(page))).to_be_visible()
    button(page, "Play").click()
    deadline = time.monotonic() + 30
    while step(page) < 200:
        assert time.monotonic() < deadline
        page.wait_for_timeout(250)
    pause(page)
    recall = float(metric(page, "Recall").inner_text())
    assert 0 <= recall <= 1
    app.assert_clean()


def test_a_hostile_upload_is_refused_and_the_run_goes_on_as_it_was(app: App) -> None:
    page = app.page
    upload_example(app, "two-shapes.csv")
    wait_until_paused(page)
    trained = train_a_tick(page)
    in_band = metric(page, "In band").inner_text()
    # A zip archive renamed .csv (it inflates to 256 MB), then a file the browser will not send.
    upload_csv(page, {"name": "curves.csv", "mimeType": "text/csv", "buffer": zip_bomb()})
    expect(panel(page).get_by_test_id("stAlert")).to_contain_text(
        "Could not use 'curves.csv': this is a zip archive")
    expect(panel(page).get_by_test_id("stAlert")).to_contain_text("Nothing changed")
    upload_csv(page, {"name": "huge.csv", "mimeType": "text/csv",
                      "buffer": b"1,2,3,4\n" * (5 * 2**20 // 8)})
    expect(page.get_by_text(re.compile(r"File must be 2(\.0)?\s?MB or smaller"))).to_be_visible()
    assert step(page) == trained and metric(page, "In band").inner_text() == in_band
    expect(panel(page)).to_contain_text("two-shapes.csv: 600 curves of 16 points")
    assert url_data(page) == "csv" and url_points(page) == 16
    app.assert_clean()


def train_a_tick(page: Page) -> int:
    """Press Step and wait for its tick on the page; the step it shows."""
    button(page, "Step").click()
    deadline = time.monotonic() + 30
    while (trained := step(page)) == 0:
        assert time.monotonic() < deadline, "Step trained nothing"
        page.wait_for_timeout(200)
    wait_until_paused(page)
    return trained


# -- links and checkpoints ----------------------------------------------------------------------


def test_a_drawn_data_set_shared_by_link_opens_on_the_same_curves_and_run(app: App) -> None:
    page = app.page
    app.open("?target=data&seed=4")
    x0, y0 = point(page, 1, 10)
    mouse_drag(page, (x0, y0), (x0 + 30, y0 + 60))
    shared = wait_for_url_data(page, "band")
    settled(page)
    link = page.url
    drawn = read_data(shared, 15)
    readouts = {label: metric(page, label).inner_text() for label in ("In band", "Sliced W1")}

    other = page.context.new_page()
    other.goto(link)
    expect(other.locator("[data-testid=stApp]")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=90_000)
    upper = other.get_by_test_id("labDrawingPad").locator("path[data-curve='1']")
    expect(upper).to_have_attribute("data-values", re.compile(r"^-?[0-9]"))
    shown = np.array(upper.get_attribute("data-values").split(","), float)
    np.testing.assert_array_equal(shown, drawn.values[1])  # the drawing, as drawn
    assert url_data(other) == shared
    for label, value in readouts.items():
        expect(metric(other, label)).to_have_text(value)  # the same run: the same readouts
    expect(alerts(other, "Warning")).to_have_count(0)
    app.assert_clean()


def test_a_link_to_a_run_of_a_csv_file_says_the_file_did_not_come(app: App) -> None:
    page = app.page
    app.open("?target=data&data=csv&n_points=24")
    expect(alerts(page, "Warning")).to_contain_text("which a link cannot carry: upload the "
                                                    "same CSV file")
    expect(panel(page)).to_contain_text("upload the same file here")
    app.assert_clean()


def test_a_checkpoint_of_drawn_curves_resumes_with_them(app: App, tmp_path: Path) -> None:
    page = app.page
    app.open("?target=data")
    choose(page, "Draw curves")
    drawn = wait_for_url_data(page, "band")
    wait_until_paused(page)
    trained = train_a_tick(page)
    page.get_by_test_id("stSidebar").get_by_text("Save & resume").click()
    with page.expect_download() as download:
        button(page, "Download checkpoint").filter(visible=True).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    other = page.context.new_page()
    other.goto(app.url)
    expect(other.locator("[data-testid=stApp]")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=90_000)
    other.get_by_test_id("stSidebar").get_by_text("Save & resume").click()
    other.locator(".st-key-upload [data-testid=stFileUploaderDropzoneInput]").set_input_files(
        saved)
    expect(alerts(other, "Info")).to_contain_text(f"Resumed from 'gan-curve-lab.pt' at step "
                                                  f"{trained:,}")
    expect(other.get_by_test_id("labDrawing")).to_have_attribute("data-mode", "curves")
    assert url_data(other) == drawn and step(other) == trained
    app.assert_clean()

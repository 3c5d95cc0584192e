"""In a real browser: a link holds a run's live changes, and the lab shows why the run moves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from gan_core import GANConfig
from gan_core.files.link import SCHEDULE_KEY
from gan_core.gan.schedule import Change, check_changes, format_changes
from harness.visitors import button, toggle

from .test_app_in_browser import (
    curves_chart,
    metric,
    pause,
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
    pause(page)
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
    pause(page)
    page.wait_for_timeout(1_000)
    assert page.url.count("train_d-") == clicks, page.url
    app.assert_clean()


# Every change of what the page shows, as it happens: the step readout and status line of the
# frame on show, the sidebar's learning rate and the toasts on screen.
WATCH_MOMENT = """
() => {
  const seen = window.__moment = [];
  const read = () => {
    const step = [...document.querySelectorAll('[data-testid=labReadout]')].find(
      r => r.querySelector('[data-testid=labReadoutLabel]').innerText.trim() === 'Step');
    const lr = document.querySelector('.st-key-lr_g input[aria-valuetext]');
    return {
      step: step ? Number(step.querySelector('[data-testid=labReadoutValue]').innerText
                          .replace(/,/g, '')) : null,
      status: document.querySelector('[data-testid=labStatusLine]')?.innerText ?? '',
      sidebar: lr?.getAttribute('aria-valuetext') ?? null,
      toasts: [...document.querySelectorAll('[data-testid=stToast]')].map(t => t.innerText),
      at: performance.now(),
    };
  };
  let last = '';
  new MutationObserver(() => {
    const now = read();
    const key = JSON.stringify({...now, at: 0});
    if (key !== last) {
      last = key;
      seen.push(now);
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def test_a_replayed_link_shows_each_scheduled_change_with_the_frame_of_its_step(
        app: App) -> None:
    """The server trains ahead of the frames the browser plays; the sidebar's value, the status
    line and the change's toast all come with the frame of the change, never before it."""
    start = GANConfig(seed=3)
    changes = check_changes([Change(1_250, {"lr_g": 1e-3}), Change(2_050, {"lr_g": 2e-3})],
                            start)
    app.open(f"?seed=3&lr_g=0.002&{SCHEDULE_KEY}={format_changes(changes)}")
    page = app.page
    expect(slider(page, "Generator learning rate")).to_have_attribute("aria-valuetext", "0.0001")
    page.evaluate(WATCH_MOMENT)
    button(page, "Play").click()
    wait_for_step_above(page, 2_500, timeout=60)
    pause(page)
    seen = [s for s in page.evaluate("() => window.__moment")
            if s["step"] is not None and s["sidebar"] is not None]  # the page drawn

    def due(step: int) -> str:
        return "0.0001" if step < 1_250 else "0.001" if step < 2_050 else "0.002"

    for moment in seen:
        # The status line is the frame's own: always the value at its step.
        assert f"lr G {due(moment['step'])} /" in moment["status"], moment
        # The sidebar never runs ahead of the frame, and follows it within a tick.
        assert moment["sidebar"] in {due(moment["step"]), due(moment["step"] - 100)}, moment
        for toast in moment["toasts"]:
            if "changed at step 1,250" in toast:
                assert moment["step"] >= 1_250, moment
            if "changed at step 2,050" in toast:
                assert moment["step"] >= 2_050, moment
    toasts = {t for m in seen for t in m["toasts"]}
    for text in ("changed at step 1,250: Generator learning rate 0.0001 → 0.001",
                 "changed at step 2,050: Generator learning rate 0.001 → 0.002"):
        assert any(text in t for t in toasts), toasts
    assert {m["sidebar"] for m in seen} >= {"0.0001", "0.001", "0.002"}
    # The browser tells the server the moment it shows the change: the sidebar follows at
    # once, not after the wait the server allows a browser that never says.
    for at_step, value in ((1_250, "0.001"), (2_050, "0.002")):
        shown = next(m["at"] for m in seen if m["step"] >= at_step)
        followed = next(m["at"] for m in seen if m["sidebar"] == value)
        assert followed - shown < 2_500, (at_step, followed - shown)
    expect(slider(page, "Generator learning rate")).to_have_attribute("aria-valuetext", "0.002")
    app.assert_clean()

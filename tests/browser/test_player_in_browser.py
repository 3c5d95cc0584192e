"""The live view's player in a real browser: every tick the run trains is shown, in order,
several times a second, in charts that never go blank; Pause stops it on the server's step."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from harness.visitors import button, toggle

from .conftest import VIEWPORT
from .test_app_in_browser import (
    curves_chart,
    metric,
    pause,
    player,
    slider,
    status,
    step,
    wait_for_step_above,
    wait_until_paused,
)

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

# Every frame the player shows, as the page shows it: when, the readouts, the "Last tick" line
# and a checksum of the curves' canvas; and, every animation frame, how much of the canvas is
# drawn and whether it is still the same canvas.
WATCH = """
() => {
  const root = document.querySelector('[data-testid=labPlayer]');
  const canvas = () => root.querySelector('[data-chart=curves] canvas.marks');
  const first = canvas();
  const watch = window.__watch = {frames: [], fewestInked: Infinity, sameCanvas: true,
                                  heights: new Set(), on: true};
  // Read through a copy: reading Vega's own canvas often makes Chromium warn.
  const copy = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const pixels = (c, x, y, w, h) => {
    copy.canvas.width = w;
    copy.canvas.height = h;
    copy.drawImage(c, x, y, w, h, 0, 0, w, h);
    return copy.getImageData(0, 0, w, h).data;
  };
  const checksum = c => {
    const data = pixels(c, 0, 0, c.width, c.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) >>> 0;
    return sum;
  };
  let last = null;
  new MutationObserver(() => {
    if (!watch.on) return;
    const values = [...root.querySelectorAll('[data-testid=labReadout]')].map(
      cell => [cell.querySelector('[data-testid=labReadoutLabel]').innerText.trim(),
               cell.querySelector('[data-testid=labReadoutValue]').innerText.trim()]);
    const tick = root.querySelector('[data-testid=labCaption]').innerText;
    const key = JSON.stringify([values, tick]);
    if (key === last) return;
    last = key;
    watch.frames.push({at: performance.now(), readouts: Object.fromEntries(values), tick,
                       canvas: checksum(canvas())});
  }).observe(root, {subtree: true, childList: true, characterData: true});
  const look = () => {
    if (!watch.on) return;
    const c = canvas();
    watch.sameCanvas &&= c === first;
    watch.heights.add(Math.round(c.getBoundingClientRect().height));
    // Ink down the middle of the plot: the band, the bounds and the curves cross it.
    const data = pixels(c, Math.floor(c.width / 2), 0, 1, c.height);
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] + data[i + 1] + data[i + 2] < 3 * 250) inked += 1;
    }
    watch.fewestInked = Math.min(watch.fewestInked, inked);
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}
"""

# A canvas's pixels, read through a copy: reading Vega's own canvas often makes Chromium warn.
PIXELS = """
c => {
  const copy = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  copy.canvas.width = c.width;
  copy.canvas.height = c.height;
  copy.drawImage(c, 0, 0);
  return copy.getImageData(0, 0, c.width, c.height).data;
}
"""

# Pixels of the curves' canvas near a colour of gan_core.views.charts: D's forces (#c2185b) and the
# ghost (#8e7cc3, drawn at opacity 0.7 over the band and the page).
COLOURED = f"""
kind => {{
  const data = ({PIXELS})(
    document.querySelector('[data-testid=labPlayer] [data-chart=curves] canvas.marks'));
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {{
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (kind === 'force' ? r > 150 && g < 90 && b > 50 && b < 150
                         : b - g > 35 && r - g > 5 && b > 180 && g < 190) n += 1;
  }}
  return n;
}}
"""


def watch(page: Page, seconds: float) -> dict:
    page.evaluate(WATCH)
    page.wait_for_timeout(1000 * seconds)
    return page.evaluate("() => { window.__watch.on = false; return {...window.__watch,"
                         " heights: [...window.__watch.heights]}; }")


def play_alone(page: Page) -> None:
    """Play, and wait until the page ticks at its own tick interval: visitors of earlier tests
    count as playing for a few seconds after they left, and slow the page down meanwhile."""
    button(page, "Play").click()
    expect(status(page)).to_contain_text("Playing · 100 steps every 0.25 s ·")
    wait_for_step_above(page, step(page) + 300)  # past the first runs


def test_playing_shows_every_tick_in_order_several_times_a_second(app: App) -> None:
    page = app.page
    app.open()
    play_alone(page)
    seen = watch(page, 6)
    frames = seen["frames"]
    steps = [int(f["readouts"]["Step"].replace(",", "")) for f in frames]
    span = (frames[-1]["at"] - frames[0]["at"]) / 1000
    assert len(frames) - 1 >= 3 * span, f"{len(frames)} frames in {span:.1f} s"
    assert steps == sorted(steps) and len(set(steps)) == len(steps), steps
    assert all(f["tick"].startswith("Last tick: ") for f in frames)
    # Each frame is a tick the run trained: its curves and its readouts.
    assert len({f["canvas"] for f in frames}) == len(frames), "a frame left the curves as they were"
    for label in ("D accuracy", "D score", "In band", "W1", "Shape error"):
        assert len({f["readouts"][label] for f in frames}) > 1, f"{label} never changed"
    pause(page)
    app.assert_clean()


# Each step a panel chart shows (its slot's data-step), and when: a run of the page carries
# the panels of about two seconds and the player shows each in its turn. Slots are made anew
# when the panels' arrangement changes, so the watch reads the chart's slot afresh each time.
WATCH_PANELS = """
chart => {
  const root = document.querySelector('[data-testid=labPanels]');
  const seen = window.__panels = [];
  new MutationObserver(() => {
    const step = Number(root.querySelector(`[data-chart=${chart}]`)?.dataset.step);
    if (Number.isFinite(step) && (!seen.length || seen[seen.length - 1].step !== step)) {
      seen.push({at: performance.now(), step});
    }
  }).observe(root, {subtree: true, attributes: true, attributeFilter: ['data-step']});
}
"""


def scroll_to_chart(page: Page, chart: str) -> None:
    page.locator(f"[data-testid=labPanels] [data-chart={chart}]").scroll_into_view_if_needed()


def chart_step(page: Page, chart: str) -> int:
    """The step the panels' chart ``chart`` shows."""
    return int(page.locator(f"[data-testid=labPanels] [data-chart={chart}]")
               .get_attribute("data-step"))


def panels_step(page: Page) -> int:
    """The step of the panels last received (their captions are always written)."""
    return int(page.get_by_test_id("labPanels").get_attribute("data-step"))


def test_the_panels_move_on_at_least_once_a_second_with_the_run(app: App) -> None:
    page = app.page
    app.open()
    play_alone(page)
    scroll_to_chart(page, "theory")
    page.evaluate(WATCH_PANELS, "theory")
    page.wait_for_timeout(6_000)
    shown = page.evaluate("() => window.__panels")
    steps = [s["step"] for s in shown]
    gaps = [(b["at"] - a["at"]) / 1000 for a, b in itertools.pairwise(shown)]
    assert len(shown) >= 5, shown  # six seconds: about six panels
    assert steps == sorted(steps) and len(set(steps)) == len(steps), steps
    assert max(gaps) < 1.5, gaps  # about a second apart (a busy machine adds a little)
    # Each shows the run about where the live view is: within a run's worth of ticks.
    assert abs(step(page) - steps[-1]) <= 16 * 100, (step(page), steps[-1])
    pause(page)
    app.assert_clean()


def test_charts_out_of_sight_wait_and_catch_up_when_scrolled_to(app: App) -> None:
    """Below the fold the panels' charts are not drawn while the page plays (their captions
    still are); scrolled into sight, a chart shows the newest panels at once and moves on."""
    page = app.page
    app.open()
    play_alone(page)
    latent = page.locator("[data-testid=labPanels] [data-chart=latent]")
    assert latent.evaluate("e => e.getBoundingClientRect().top") > 1.5 * VIEWPORT["height"]
    page.wait_for_timeout(1_500)
    held, received = chart_step(page, "latent"), panels_step(page)
    page.wait_for_timeout(3_000)
    assert chart_step(page, "latent") == held  # out of sight: not drawn...
    assert panels_step(page) >= received + 2 * 100  # ...while the panels kept coming
    scroll_to_chart(page, "latent")
    expect(latent).not_to_have_attribute("data-step", str(held), timeout=2_000)
    caught_up = chart_step(page, "latent")
    assert caught_up >= panels_step(page) - 16 * 100, (caught_up, panels_step(page))
    page.wait_for_timeout(2_500)
    assert chart_step(page, "latent") > caught_up  # in sight, it moves on with the panels
    pause(page)
    app.assert_clean()


CHECKSUM = f"""
c => {{
  const data = ({PIXELS})(c);
  let sum = 0;
  for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) >>> 0;
  return sum;
}}
"""


def test_the_curves_out_of_sight_wait_and_show_the_newest_tick_when_scrolled_to(
        app: App) -> None:
    """Scrolled down to the latent explorer, the curves far above are not drawn while the
    readouts go on; scrolled back, they show the run as the readouts do."""
    page = app.page
    app.open()
    play_alone(page)
    page.locator("[data-testid=labPanels] [data-chart=latent]").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    canvas = page.locator("[data-testid=labPlayer] [data-chart=curves] canvas.marks")
    assert canvas.evaluate("c => c.getBoundingClientRect().bottom") < -400
    page.wait_for_timeout(600)
    drawn, before = canvas.evaluate(CHECKSUM), step(page)
    page.wait_for_timeout(2_000)
    assert step(page) >= before + 4 * 100  # the readouts went on...
    assert canvas.evaluate(CHECKSUM) == drawn  # ...the curves, out of sight, waited
    page.get_by_test_id("labPlayer").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    assert canvas.evaluate(CHECKSUM) != drawn
    seen = watch(page, 2)  # and in sight, every frame draws its curves again
    assert len({f["canvas"] for f in seen["frames"]}) == len(seen["frames"]) >= 4, seen
    pause(page)
    app.assert_clean()


def pace(frames: list[dict]) -> float:
    """Steps per second the frames show."""
    steps = [int(f["readouts"]["Step"].replace(",", "")) for f in frames]
    return (steps[-1] - steps[0]) / ((frames[-1]["at"] - frames[0]["at"]) / 1000)


def test_a_slow_machine_sees_fewer_frames_at_their_own_times_and_keeps_up(app: App) -> None:
    """Chromium's CPU slowed tenfold (a cheap phone, or a laptop busy with other work): the
    player shows every second, third... tick rather than fall behind the run, and a click is
    still answered."""
    page = app.page
    app.open()
    play_alone(page)
    before = watch(page, 4)["frames"]
    fast = len(before)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 10})
    try:
        page.wait_for_timeout(4_000)  # the player measures its frames and adapts
        frames = watch(page, 6)["frames"]
        steps = [int(f["readouts"]["Step"].replace(",", "")) for f in frames]
        assert steps == sorted(steps) and len(set(steps)) == len(steps), steps
        assert len(frames) < 6 / 4 * fast, (len(frames), fast)  # fewer frames a second...
        jumps = [b - a for a, b in itertools.pairwise(steps)]
        assert max(jumps) >= 200, jumps  # ...each a whole number of ticks on from the last
        assert all(j % 100 == 0 for j in jumps), jumps
        # ...and the page keeps up with the run: it shows the steps go by about as fast as
        # before it was slowed down.
        assert pace(frames) > 0.7 * pace(before), (pace(frames), pace(before))
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    pause(page)
    app.assert_clean()


def test_the_curves_never_go_blank_or_jump_between_frames(app: App) -> None:
    page = app.page
    app.open()
    play_alone(page)
    seen = watch(page, 4)
    assert len(seen["frames"]) >= 8
    assert seen["sameCanvas"], "the curves were drawn anew on another canvas while playing"
    assert seen["fewestInked"] > 50, f"a frame had {seen['fewestInked']} inked pixels"
    assert len(seen["heights"]) == 1, f"the chart changed height: {seen['heights']}"
    pause(page)
    app.assert_clean()


def test_pause_stops_at_once_on_the_step_the_server_reached(app: App) -> None:
    page = app.page
    app.open()
    button(page, "Play").click()
    wait_for_step_above(page, 500)
    pause(page)
    paused = step(page)
    page.wait_for_timeout(1_500)
    assert step(page) == paused, "frames went on playing after Pause"
    # Step trains exactly one tick (100 steps) from where the server's run stands: the readout
    # lands 100 further only if the paused step shown was the server's.
    button(page, "Step").click()
    expect(metric(page, "Step")).to_have_text(f"{paused + 100:,}")
    app.assert_clean()


def test_forces_and_a_ghost_draw_on_the_live_curves(app: App) -> None:
    page = app.page
    app.open()
    expect(curves_chart(page).locator("canvas.marks")).to_be_visible()
    assert page.evaluate(COLOURED, "force") == 0
    toggle(page, "Forces").click()
    expect(page.get_by_text("Forces: each line is D's push")).to_be_visible()
    wait_until_paused(page)
    assert page.evaluate(COLOURED, "force") > 50, "no magenta force lines on the curves"

    before = page.evaluate(COLOURED, "ghost")  # a few where lines blend
    toggle(page, "Ghost").click()
    button(page, "Play").click()
    wait_for_step_above(page, 200)
    lr = slider(page, "Generator learning rate")
    lr.focus()
    page.keyboard.press("ArrowRight")  # a live change, kept beside its ghost
    expect(page.get_by_text("Dashed: the ghost")).to_be_visible()
    first = step(page)
    wait_for_step_above(page, first + 200)  # the ghost plays along
    ghost = page.evaluate(COLOURED, "ghost")
    assert ghost > before + 100, f"no dashed ghost curves ({before} -> {ghost} pixels)"
    assert page.evaluate(COLOURED, "force") > 50
    expect(player(page)).to_have_attribute("data-playing", "true")
    pause(page)
    app.assert_clean()


def test_the_readouts_keep_their_help_and_wrap_on_a_phone(app: App) -> None:
    page = app.page
    page.set_viewport_size({"width": 390, "height": 844})
    app.open()
    help_ = page.get_by_role("button", name="Help for Step", exact=True)
    tip = page.get_by_role("tooltip").filter(has_text="Training steps so far")
    box = None
    for _ in range(3):  # a run of the page that redraws the readouts closes an open tooltip
        help_.hover()
        expect(tip).to_be_visible()
        box = tip.bounding_box()
        if box is not None:
            break
        page.mouse.move(5, 5)
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()
    # Six readouts in rows of a few on a 390 px screen, none wider than it.
    tops = {round(cell.bounding_box()["y"]) for cell in page.get_by_test_id("labReadout").all()}
    assert len(tops) >= 2, f"the readouts did not wrap: rows at {tops}"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    app.assert_clean()

"""Every control does what its label says, used as a visitor uses it: clicked, typed into,
dragged with the keyboard, downloaded and uploaded in headless Chromium. docs/controls.md lists
every control with the test that covers it (``tests/test_controls_table.py`` holds it to the
page)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from gan_core.gan.config import GROUPS
from gan_core.gan.history import History
from harness.visitors import button, toggle
from lab.settings import PARAMS

from .test_app_in_browser import (
    alerts,
    metric,
    pause,
    settled,
    slider,
    status,
    step,
    wait_for_step_above,
    wait_until_paused,
)
from .test_player_in_browser import CHECKSUM

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

READOUTS = ("Step", "D accuracy", "D score", "In band", "W1", "Shape error")
CSV_HEADER = ["step", *History.TRAIN_COLUMNS, *History.EVAL_COLUMNS]


# -- the page's parts ---------------------------------------------------------------------------

def readouts(page: Page) -> dict[str, str]:
    return {label: metric(page, label).inner_text() for label in READOUTS}


def click_step(page: Page, times: int = 1) -> None:
    for _ in range(times):
        before = step(page)
        button(page, "Step").click()
        wait_for_step_above(page, before)
        wait_until_paused(page)


def expander(page: Page, label: str, where: str = "stSidebar") -> Locator:
    """An expander, opened."""
    box = page.get_by_test_id(where).get_by_test_id("stExpander").filter(
        has=page.locator("summary").filter(has_text=label))
    if box.locator("details").get_attribute("open") is None:
        box.locator("summary").click()
    return box


def download(page: Page, control: Locator, into: Path) -> Path:
    """What clicking a download button gives the visitor, saved under its own name."""
    with page.expect_download() as info:
        control.click()
    got = info.value
    assert got.failure() is None, got.failure()
    path = into / got.suggested_filename
    got.save_as(path)
    return path


def upload(page: Page, path: Path) -> None:
    """Drop a file on the sidebar's *Resume from a checkpoint*."""
    expander(page, "Save & resume")
    page.get_by_test_id("stSidebar").get_by_test_id("stFileUploaderDropzoneInput") \
        .set_input_files(path)


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stToast").filter(has_text=text)


# Every toast the page shows, kept: a toast is gone after four seconds.
WATCH_TOASTS = """
() => {
  const seen = window.__toasts = [];
  new MutationObserver(() => {
    for (const t of document.querySelectorAll('[data-testid=stToastText]')) {
      if (!seen.includes(t.innerText)) seen.push(t.innerText);
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
}
"""


def saw_toast(page: Page, text: str) -> None:
    """Wait until the page has shown a toast containing ``text`` (see WATCH_TOASTS)."""
    page.wait_for_function("text => window.__toasts.some(t => t.includes(text))", arg=text)


def tutorial_modules(ckpt: dict) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The tutorial's G and D, built from a checkpoint's config and loaded with its weights."""
    c = ckpt["config"]
    g = torch.nn.Sequential(torch.nn.Linear(c["latent_dim"], c["hidden"]), torch.nn.ReLU(),
                            torch.nn.Linear(c["hidden"], c["n_points"]))
    d = torch.nn.Sequential(torch.nn.Linear(c["n_points"], c["hidden"]), torch.nn.ReLU(),
                            torch.nn.Linear(c["hidden"], 1), torch.nn.Sigmoid())
    g.load_state_dict(ckpt["G"])
    d.load_state_dict(ckpt["D"])
    return g, d


# -- save and resume ------------------------------------------------------------------------------

def test_both_places_download_a_checkpoint_for_pytorch_and_a_csv_of_every_recorded_step(
        app: App, tmp_path: Path) -> None:
    page = app.page
    app.open("?seed=5")
    click_step(page, 3)
    save = expander(page, "Save & resume")
    sidebar = download(page, save.get_by_role("button", name="Download checkpoint"),
                       tmp_path / "sidebar")
    ckpt = torch.load(sidebar, weights_only=True)
    assert ckpt["step"] == 300 and ckpt["config"]["seed"] == 5
    g, d = tutorial_modules(ckpt)
    with torch.no_grad():
        judged = d(g(torch.randn(16, ckpt["config"]["latent_dim"])))
    assert judged.shape == (16, 1) and ((judged > 0) & (judged < 1)).all()

    history = download(page, save.get_by_role("button", name="Download history (CSV)"),
                       tmp_path / "sidebar")
    assert history.name == "gan-curve-lab-history.csv"
    rows = list(csv.reader(io.StringIO(history.read_text())))
    assert rows[0] == CSV_HEADER
    # One row per step with a record: the evaluations (0, 100, 200, 300) and the training
    # statistics, every fourth step.
    steps = [int(r[0]) for r in rows[1:]]
    assert steps == sorted({0, *range(4, 301, 4), 100, 200, 300})

    page.get_by_role("tab", name="PyTorch").click()
    tab = download(page, page.get_by_test_id("stMain").get_by_role(
        "button", name="Download checkpoint"), tmp_path / "tab")
    again = torch.load(tab, weights_only=True)
    assert again["step"] == 300
    for name in ("G", "D"):
        for key, value in ckpt[name].items():
            assert torch.equal(again[name][key], value), f"{name}.{key}"
    app.assert_clean()


def test_an_uploaded_checkpoint_resumes_in_a_fresh_browser_at_its_step_and_plays_on(
        app: App, tmp_path: Path) -> None:
    page = app.page
    app.open("?seed=5&lr_d=0.0003")
    click_step(page, 3)
    button(page, "Train D").click()  # a moment only this run reached
    expect(page.get_by_test_id("labNote")).to_contain_text("D updated alone ×1")
    wait_until_paused(page)
    seen = readouts(page)
    saved = download(page, expander(page, "Save & resume").get_by_role(
        "button", name="Download checkpoint"), tmp_path)

    fresh = app.another()  # another browser: no session, no storage, nothing of the first
    fresh.open()
    other = fresh.page
    expect(metric(other, "Step")).to_have_text("0")
    upload(other, saved)
    expect(alerts(other, "Info").filter(
        has_text="Resumed from 'gan-curve-lab.pt' at step 300.")).to_be_visible()
    wait_until_paused(other)
    assert readouts(other) == seen
    expect(other.get_by_label("Seed", exact=True)).to_have_value("5")
    expect(slider(other, "Discriminator learning rate")).to_have_attribute("aria-valuetext",
                                                                            "0.0003")
    button(other, "Play").click()
    wait_for_step_above(other, 500)
    button(other, "Pause").click()
    wait_until_paused(other)
    app.assert_clean()


def test_run_py_from_the_pytorch_tab_trains_and_takes_a_run_to_pytorch_and_back(
        app: App, tmp_path: Path) -> None:
    """The script and checkpoint from the PyTorch tab: run.py trains 50 steps on its own;
    resumed from the checkpoint, trained on and saved, it uploads back into a fresh browser at
    the script's step."""
    page = app.page
    app.open("?seed=8")
    click_step(page, 2)
    page.get_by_role("tab", name="PyTorch").click()
    main = page.get_by_test_id("stMain")
    script = download(page, main.get_by_role("button", name="Download run.py"), tmp_path)
    ckpt = download(page, main.get_by_role("button", name="Download checkpoint"), tmp_path)
    assert (script.name, ckpt.name) == ("run.py", "gan-curve-lab.pt")

    def run_py(*args: str) -> str:
        result = subprocess.run([sys.executable, "run.py", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert re.fullmatch(r"step 50: D accuracy=\d\.\d\d .*\n", run_py("--steps", "50"))
    out = run_py("--steps", "50", "--resume", ckpt.name, "--save", "back.pt")
    assert out.startswith("resumed at step 200\n") and out.endswith("saved step 250 to back.pt\n")

    fresh = app.another()
    fresh.open()
    upload(fresh.page, tmp_path / "back.pt")
    expect(alerts(fresh.page, "Info").filter(
        has_text="Resumed from 'back.pt' at step 250.")).to_be_visible()
    expect(fresh.page.get_by_label("Seed", exact=True)).to_have_value("8")
    button(fresh.page, "Play").click()
    wait_for_step_above(fresh.page, 400)
    button(fresh.page, "Pause").click()
    wait_until_paused(fresh.page)
    app.assert_clean()


# -- the controls over the live view -----------------------------------------------------------

def test_reset_brings_back_the_fresh_model_of_the_seed(app: App) -> None:
    page = app.page
    app.open("?seed=9")
    wait_until_paused(page)
    first = readouts(page)
    click_step(page, 2)
    assert readouts(page) != first
    button(page, "Reset").click()
    expect(metric(page, "Step")).to_have_text("0")
    wait_until_paused(page)
    assert readouts(page) == first
    app.assert_clean()


def test_train_d_and_train_g_say_what_they_did_and_mark_the_history(app: App) -> None:
    """One network's update moves no step: the page says so under the controls, the
    readouts say how far they moved, and the history marks each update."""
    page = app.page
    app.open("?seed=3")
    click_step(page)
    before = readouts(page)
    note = page.get_by_test_id("labNote")
    expect(note).to_be_hidden()
    for _ in range(3):
        button(page, "Train D").click()
        wait_until_paused(page)
    expect(note).to_have_text(re.compile(r"^D updated alone ×3 at step 100"))
    button(page, "Train G").click()
    expect(note).to_have_text(re.compile(r"^D updated alone ×3 and G updated alone ×1 at step "
                                         r"100: an update of one network adds no step"))
    wait_until_paused(page)
    after = readouts(page)
    assert after["Step"] == "100" and after["D accuracy"] != before["D accuracy"]
    deltas = page.get_by_test_id("labReadoutDelta")
    expect(deltas.nth(READOUTS.index("D accuracy"))).to_have_text(re.compile(r"^[+−]0\.\d{3}$"))
    expect(deltas.nth(READOUTS.index("Step"))).to_be_hidden()
    # The history's charts mark the four updates (a dotted line each).
    losses = page.locator("[data-testid=labPanels] [data-chart=history_losses]")
    losses.scroll_into_view_if_needed()
    expect(losses).to_have_attribute("data-changes", "4")
    assert page.url.count("train_d-1") == 3 and page.url.count("train_g-1") == 1
    # The run moves on: a full step, and the note names where the updates were.
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    click_step(page)
    expect(note).to_contain_text("at step 100")
    expect(deltas.nth(READOUTS.index("D accuracy"))).to_be_hidden()
    app.assert_clean()


def test_a_burst_on_a_slider_is_one_change_to_the_eye_and_dismiss_ghost_drops_its_ghost(
        app: App) -> None:
    page = app.page
    app.open("?seed=4")
    toggle(page, "Ghost").click()
    settled(page)
    button(page, "Play").click()
    wait_for_step_above(page, 200)
    lr = slider(page, "Generator learning rate")
    page.evaluate(WATCH_TOASTS)
    lr.focus()
    for _ in range(5):  # five quick presses, as a visitor's: well within a burst's time
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    settled(page)
    expect(lr).to_have_attribute("aria-valuetext", "0.002")
    saw_toast(page, "Applied live: Generator learning rate 0.0001 → 0.002")
    # One change to the eye: every toast of the burst runs from the value before it, each
    # replacing the last.
    told = page.evaluate("() => window.__toasts")
    assert all(t.startswith("Applied live: Generator learning rate 0.0001 → ") for t in told), \
        told
    assert page.get_by_test_id("stToast").count() <= 1
    ghost = page.get_by_test_id("labCaption").filter(has_text="Dashed: the ghost")
    expect(ghost).to_contain_text("with lr_g 0.0001, forked at step")
    expect(status(page)).to_contain_text("lr G 0.002 /")
    # Each change the run took is in the link, at the step it came, so a link replays the run
    # exactly (presses that reach the server together are one change: up to five).
    expect(page).to_have_url(re.compile(r"~lr_g-0\.002(~|&|$)"))
    taken = re.findall(r"~lr_g-([0-9.e-]+)", page.url)
    assert 1 <= len(taken) <= 5 and taken[-1] == "0.002", taken
    button(page, "Dismiss ghost").click()
    expect(ghost).to_have_count(0)
    expect(button(page, "Dismiss ghost")).to_have_count(0)
    pause(page)
    app.assert_clean()


def test_slow_motion_says_one_step_a_tick(app: App) -> None:
    page = app.page
    app.open()
    toggle(page, "Slow motion").click()
    expect(status(page)).to_contain_text("Paused · 1 step every 0.25 s ·")
    button(page, "Play").click()
    expect(status(page)).to_contain_text("Playing · 1 step every 0.25 s ·")
    first = wait_for_step_above(page, 0)
    assert wait_for_step_above(page, first) - first < 10
    pause(page)
    toggle(page, "Slow motion").click()
    expect(status(page)).to_contain_text("Paused · 100 steps every 0.25 s ·")
    app.assert_clean()


def test_look_back_shows_each_moment_with_its_own_settings_and_resume_goes_on_from_it(
        app: App) -> None:
    page = app.page
    app.open("?seed=2")
    button(page, "Play").click()
    wait_for_step_above(page, 400)
    lr = slider(page, "Generator learning rate")
    lr.focus()
    page.keyboard.press("ArrowRight")  # lr G 0.0001 -> 0.0002, live, at some step S
    expect(status(page)).to_contain_text("lr G 0.0002 /")
    changed_at = step(page)
    wait_for_step_above(page, changed_at + 600)
    pause(page)
    now = step(page)
    thumb = page.get_by_role("group", name="Look back", exact=True).get_by_role("slider")
    thumb.focus()
    page.keyboard.press("Home")  # the first moment kept: step 0
    expect(metric(page, "Step")).to_have_text("0")
    expect(status(page)).to_have_text(re.compile(
        r"^Paused · looking back at step 0 · .* lr G 0\.0001 / D 0\.0001$"))
    while step(page) < changed_at + 100:  # a moment after the change: its own lr
        before = step(page)
        page.keyboard.press("ArrowRight")
        expect(metric(page, "Step")).not_to_have_text(f"{before:,}")
    expect(status(page)).to_contain_text("lr G 0.0002 /")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    expect(metric(page, "Step")).to_have_text("100")
    button(page, "Resume from here").click()
    expect(alerts(page, "Info").filter(has_text="Resumed from step 100")).to_be_visible()
    expect(metric(page, "Step")).to_have_text("100")
    expect(status(page)).to_have_text(re.compile(r"^Paused · 100 steps .* lr G 0\.0001 /"))
    assert now > 100
    button(page, "Play").click()
    wait_for_step_above(page, 300)
    pause(page)
    app.assert_clean()


def test_the_latent_explorer_moves_one_input_of_g(app: App) -> None:
    page = app.page
    app.open("?seed=1")
    click_step(page, 3)
    latent = page.locator("[data-testid=labPanels] [data-chart=latent]")
    latent.scroll_into_view_if_needed()
    canvas = latent.locator("canvas.marks")
    expect(canvas).to_be_visible()
    drawn = canvas.evaluate(CHECKSUM)
    box = page.get_by_role("combobox", name="Latent direction", exact=True)
    box.click()
    page.get_by_role("option", name="z[3]", exact=True).click()
    expect(box).to_have_value("z[3]")
    page.wait_for_function(f"c => ({CHECKSUM})(c) !== {drawn}", arg=canvas.element_handle())
    moved = canvas.evaluate(CHECKSUM)
    position = page.get_by_role("group", name="Position", exact=True).get_by_role("slider")
    position.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_attribute("aria-valuetext", "0.50")
    page.wait_for_function(f"c => ({CHECKSUM})(c) !== {moved}", arg=canvas.element_handle())
    app.assert_clean()


# -- the settings ---------------------------------------------------------------------------------

def change(page: Page, name: str) -> str:
    """Move the widget of setting ``name`` to another value, as a visitor would; the value it
    shows then."""
    param = PARAMS[name]
    if param.choices:
        box = page.get_by_role("combobox", name=param.label, exact=True)
        current = box.input_value()
        other = next(c for c in param.choices if c != current)
        choice = page.get_by_role("option", name=other, exact=True)
        for _ in range(3):  # a run of the page that ends meanwhile closes an open list
            settled(page)
            box.click()
            try:
                choice.wait_for(timeout=5_000)
                break
            except PlaywrightTimeoutError:
                continue
        choice.click()
        expect(box).to_have_value(other)
        shown = other
    elif param.kind is bool:
        switch = toggle(page, param.label)
        before = switch.locator("input").is_checked()
        switch.click()
        expect(switch.locator("input")).to_be_checked(checked=not before)
        shown = "false" if before else "true"
    elif name == "seed":
        box = page.get_by_label(param.label, exact=True)
        box.fill("77")
        box.press("Enter")
        expect(box).to_have_value("77")
        shown = "77"
    else:
        thumb = slider(page, param.label)
        before = thumb.get_attribute("aria-valuetext")
        at_top = thumb.evaluate("e => Number(e.value) >= Number(e.max)")
        thumb.focus()
        page.keyboard.press("ArrowLeft" if at_top else "ArrowRight")
        expect(thumb).not_to_have_attribute("aria-valuetext", before or "")
        shown = thumb.get_attribute("aria-valuetext") or ""
    settled(page)
    return shown


@pytest.mark.parametrize("group", GROUPS)
def test_every_setting_of_the_group_applies_from_its_widget(app: App, group: str) -> None:
    """Each setting's widget, moved: a live setting is applied to the running model and said
    in a toast, any other starts a new model and says which; the URL holds it; the pace shows
    in the status line."""
    page = app.page
    app.open()
    page.evaluate(WATCH_TOASTS)
    expander(page, group)
    names = [name for name, param in PARAMS.items() if param.group == group]
    assert names
    for name in names:
        param = PARAMS[name]
        shown = change(page, name)
        expect(page).to_have_url(re.compile(rf"[?&]{name}="))
        if name == "steps_per_tick":
            expect(status(page)).to_contain_text(f"· {int(shown):,} steps every")
        elif name == "tick_seconds":
            expect(status(page)).to_contain_text(f" steps every {float(shown):g} s")
        elif param.live:
            saw_toast(page, f"Applied live: {param.label} ")
        else:
            expect(alerts(page, "Info").filter(
                has_text=f"New model: {param.label.lower()} changed")).to_be_visible()
    app.assert_clean()

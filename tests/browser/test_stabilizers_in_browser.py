"""The stabilizers in a real browser: each set in the sidebar as a visitor sets it, applied live
to the run; the Dirac-GAN panel following the sidebar; the stability map's comparison of the
default grid without and with R1."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from harness.visitors import button, toggle

from .test_app_in_browser import metric, settled, slider, status, step, wait_until_paused

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser


def press(page: Page, thumb: Locator, *keys: str) -> None:
    """Keys on a slider's thumb, as a visitor without a mouse moves it; each one a run."""
    for key in keys:
        thumb.focus()
        thumb.press(key)
        settled(page)


def applied(page: Page, text: str) -> None:
    """The toast that says a setting was taken live."""
    toast = page.get_by_test_id("stToast").filter(has_text="Applied live")
    expect(toast.filter(has_text=text).first).to_be_visible()


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    settled(page)


def test_every_stabilizer_set_in_the_sidebar_is_taken_live_and_trains(app: App) -> None:
    """Each setting moved as a visitor moves it: the run takes it live (a toast says so), the
    status line names it, the URL holds it, and the run trains on with it."""
    page = app.page
    app.open()
    button(page, "Step").click()
    settled(page)
    expect(metric(page, "Step")).to_have_text("100")

    r1 = slider(page, "R1 penalty γ")
    press(page, r1, *["ArrowRight"] * 13)  # 0, 0.001, ... 0.5, 1
    expect(r1).to_have_attribute("aria-valuetext", "1")
    applied(page, "R1 penalty γ 0 → 1")
    expect(status(page)).to_contain_text("stabilizers: R1 γ 1")

    r2 = slider(page, "R2 penalty γ")
    press(page, r2, *["ArrowRight"] * 10)
    expect(r2).to_have_attribute("aria-valuetext", "0.2")
    expect(status(page)).to_contain_text("R2 γ 0.2")

    toggle(page, "Spectral normalisation of D").click()
    settled(page)
    applied(page, "Spectral normalisation of D false → true")
    expect(status(page)).to_contain_text("spectral normalisation")

    noise = slider(page, "Instance noise σ")
    press(page, noise, *["ArrowRight"] * 9)  # 0, 0.001, ... 0.05, 0.1
    expect(noise).to_have_attribute("aria-valuetext", "0.1")
    anneal = slider(page, "Instance noise anneal (steps)")
    press(page, anneal, *["ArrowRight"] * 9)  # 0, 100, ... 5,000, 10,000
    expect(anneal).to_have_attribute("aria-valuetext", "10000")
    expect(status(page)).to_contain_text("instance noise σ 0.1 → 0 by step 10,000")

    label = slider(page, "Real label (one-sided smoothing)")
    press(page, label, "ArrowLeft", "ArrowLeft")
    expect(label).to_have_attribute("aria-valuetext", "0.90")
    expect(status(page)).to_contain_text("real label 0.9")
    for setting in ("r1=1", "r2=0.2", "spectral_norm=true", "instance_noise=0.1",
                    "instance_noise_steps=10000", "real_label=0.9"):
        expect(page).to_have_url(re.compile(rf"[?&]{re.escape(setting)}(&|$)"))

    button(page, "Step").click()  # trains with all of them on
    settled(page)
    expect(metric(page, "Step")).to_have_text("200")
    expect(metric(page, "D accuracy")).to_have_text(re.compile(r"^0\.\d{3}$"))
    app.assert_clean()


def test_the_wasserstein_critic_with_its_penalty_shows_a_critics_readouts(app: App) -> None:
    """There is no D accuracy for a critic: its gap and its slope are shown instead."""
    page = app.page
    app.open()
    choose(page, "Loss", "wasserstein")
    applied(page, "Loss minimax → wasserstein")
    gp = slider(page, "Gradient penalty λ (WGAN-GP)")
    press(page, gp, "End", "ArrowLeft", "ArrowLeft", "ArrowLeft", "ArrowLeft")  # 100, ..., 10
    expect(gp).to_have_attribute("aria-valuetext", "10")
    expect(status(page)).to_contain_text("loss: wasserstein")
    expect(status(page)).to_contain_text("gradient penalty λ 10")
    button(page, "Step").click()
    settled(page)
    wait_until_paused(page)
    assert step(page) == 100
    expect(metric(page, "Critic gap")).to_have_text(re.compile(r"^-?\d+\.\d{3}$"))
    expect(metric(page, "Critic slope")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    expect(page.get_by_test_id("labReadoutLabel").get_by_text("D accuracy", exact=True)) \
        .to_have_count(0)
    expect(page).to_have_url(re.compile(r"loss=wasserstein.*gp=10|gp=10.*loss=wasserstein"))
    app.assert_clean()


def dirac_caption(page: Page, updates: str) -> Locator:
    box = page.locator(f".st-key-dirac_{updates}_box")
    return box.get_by_test_id("stCaptionContainer")


def test_the_dirac_panel_follows_the_sidebar_and_starts_where_clicked(app: App) -> None:
    """Learning rates 1e-3: unregularised, both paths only spiral in; with R1 from the
    sidebar, both converge (Mescheder et al., Figure 1); spectral normalisation freezes D's
    one weight and the panel says so. A click on an arrow starts both paths there."""
    page = app.page
    app.open("?lr_g=0.001&lr_d=0.001")
    page.get_by_text("Why it circles: the Dirac-GAN").click()
    settled(page)
    for updates in ("simultaneous", "alternating"):
        expect(dirac_caption(page, updates)).to_contain_text("From θ = 1, ψ = 1: spirals in")

    press(page, slider(page, "R1 penalty γ"), *["ArrowRight"] * 13)
    for updates in ("simultaneous", "alternating"):
        expect(dirac_caption(page, updates)).to_contain_text("From θ = 1, ψ = 1: converges")

    toggle(page, "Spectral normalisation of D").click()
    settled(page)
    expect(dirac_caption(page, "simultaneous")).to_contain_text("runs off")
    expect(page.locator(".st-key-dirac").get_by_test_id("stCaptionContainer").filter(
        has_text="its slope is ±1 and can never turn")).to_be_visible()

    # A click anywhere on the plot picks the nearest arrow's tail (on an 11 x 11 grid over
    # [-2, 2]): here one left of the data line, so not the start (1, 1).
    chart = page.locator(".st-key-dirac_simultaneous_box").locator("canvas.marks, svg.marks")
    chart.scroll_into_view_if_needed()  # the mouse clicks where the visitor sees the plot
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5)
    settled(page)
    for updates in ("simultaneous", "alternating"):  # both paths start there
        expect(dirac_caption(page, updates)).to_contain_text(re.compile(r"From θ = -"))
    app.assert_clean()


def test_the_stability_map_compares_the_default_grid_without_and_with_r1(app: App) -> None:
    page = app.page
    app.open()
    page.get_by_role("tab", name="Stability map").click()
    settled(page)
    page.get_by_test_id("stButtonGroup").get_by_text("Without and with R1").click()
    settled(page)
    steps = slider(page, "Steps")
    press(page, steps, "Home")  # 500 steps: the same grids, quicker
    button(page, "Run").click()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_have_count(2)
    for i in range(2):
        expect(progress.nth(i)).to_contain_text("done", timeout=180_000)
    captions = [page.locator(f".st-key-stability_map_{i}_box").get_by_test_id(
        "stCaptionContainer") for i in range(2)]
    shares = []
    for caption in captions:
        expect(caption).to_contain_text(re.compile(r"Converged: \d+ of 36 cells \(\d+%\)$"))
        shares.append(int(re.search(r"(\d+) of 36", caption.inner_text()).group(1)))
    expect(page.get_by_text("Without R1", exact=True)).to_be_visible()
    expect(page.get_by_text("With R1, γ = 1", exact=True)).to_be_visible()
    for i in range(2):
        marks = page.locator(f".st-key-stability_map_{i}").locator("canvas.marks, svg.marks")
        expect(marks).to_be_visible()
    app.assert_clean()

"""A conditional run of your own curves in a real browser, as a visitor makes it: a CSV file with
a label column uploaded under Your data, Conditional turned on, both classes learned and read
(class accuracy, each class's in band and sliced W1), and the class switched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harness.visitors import button

from .test_app_in_browser import curves_chart, metric, pause, wait_for_step_above
from .test_conditional_in_browser import CLASS_PIXELS, heading, idle, option, percent
from .test_data_in_browser import EXAMPLES, choose, panel, upload_csv
from .test_player_in_browser import scroll_to_chart

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

FAST = "lr_g=0.003&lr_d=0.001&batch_size=128&loss=non_saturating&beta1=0&beta2=0.9"
"""The fast preset's training settings: the classes are learned in about 2,000 steps."""


def test_a_visitor_uploads_labelled_curves_turns_on_conditional_and_reads_both_classes(
        app: App) -> None:
    page = app.page
    app.open(f"?target=data&steps_per_tick=300&{FAST}")
    choose(page, "Upload a CSV")
    upload_csv(page, EXAMPLES / "labelled-shapes.csv")
    expect(panel(page)).to_contain_text("labelled-shapes.csv: 600 curves of 16 points")
    expect(panel(page)).to_contain_text("it was kept as the curves' labels")

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Model", exact=True).click()
    sidebar.get_by_test_id("stCheckbox").filter(has_text="Conditional").locator("label").click()
    expect(page).to_have_url(re.compile(r"conditional=true"))
    expect(page.get_by_test_id("stAlert").filter(has_text="New model: conditional changed")
           ).to_be_visible()
    for label in ("Class accuracy", "In band, bump", "In band, dip", "Sliced W1, bump",
                  "Sliced W1, dip", "Precision", "Recall"):
        expect(metric(page, label)).to_be_visible()

    button(page, "Play").click()
    expect(button(page, "Pause")).to_be_enabled()
    wait_for_step_above(page, 2_000, timeout=90)
    pause(page)
    # G paints the shape it is asked for: far above the 50% of a G that ignores its label
    # (0.99 at 2,000 steps on seeds 0-2, benchmarks/conditional_data.py), in both colours.
    assert percent(metric(page, "Class accuracy").inner_text()) >= 0.8
    assert min(percent(metric(page, f"In band, {c}").inner_text())
               for c in ("bump", "dip")) >= 0.8
    drawn = page.evaluate(CLASS_PIXELS)  # bump in class 0's colour, dip in class 1's
    assert drawn["lower"] > 200 and drawn["upper"] > 200, drawn
    expect(curves_chart(page)).to_be_visible()
    help_button = page.get_by_test_id("labReadout").filter(
        has=page.get_by_text("Class accuracy", exact=True)).get_by_role("button")
    help_button.hover()
    expect(page.get_by_role("tooltip")).to_contain_text("your file's labels")

    # The class switch: the dips are looked at, their D map shown, G asked for a dip.
    expect(heading(page, "Discriminator map · class bump")).to_have_count(1)
    scroll_to_chart(page, "latent")
    option(page, "Class", "dip").click()
    idle(page)
    expect(heading(page, "Discriminator map · class dip")).to_have_count(1)
    expect(heading(page, "Latent explorer · asked for dip")).to_have_count(1)
    app.assert_clean()


def test_conditional_on_a_file_without_labels_says_why_and_keeps_the_run(app: App) -> None:
    page = app.page
    app.open("?target=data")
    choose(page, "Upload a CSV")
    upload_csv(page, EXAMPLES / "two-shapes.csv")
    expect(panel(page)).to_contain_text("two-shapes.csv: 600 curves of 16 points")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Model", exact=True).click()
    toggle = sidebar.get_by_test_id("stCheckbox").filter(has_text="Conditional")
    toggle.locator("label").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="your data have no labels")
           ).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="Nothing changed")).to_be_visible()
    expect(toggle.locator("input")).not_to_be_checked()  # back as the run has it
    expect(page).not_to_have_url(re.compile(r"conditional=true"))
    expect(panel(page)).to_contain_text("two-shapes.csv")
    app.assert_clean()

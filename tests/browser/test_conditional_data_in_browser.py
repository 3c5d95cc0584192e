"""A conditional run of your own curves in a real browser, as a visitor makes it: a CSV file with
a label column uploaded under Your data, Conditional turned on, both classes learned and read
(class accuracy, each class's in band and sliced W1), and the class switched."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from .test_app_in_browser import metric
from .test_conditional_in_browser import play_and_switch_classes, turn_on_conditional
from .test_data_in_browser import panel, upload_example

if TYPE_CHECKING:
    from .conftest import App

pytestmark = pytest.mark.browser

FAST = "lr_g=0.003&lr_d=0.001&batch_size=128&loss=non_saturating&beta1=0&beta2=0.9"
"""The fast preset's training settings: the classes are learned in about 2,000 steps."""


def test_a_visitor_uploads_labelled_curves_turns_on_conditional_and_reads_both_classes(
        app: App) -> None:
    page = app.page
    upload_example(app, "labelled-shapes.csv", f"?target=data&steps_per_tick=300&{FAST}")
    expect(panel(page)).to_contain_text("it was kept as the curves' labels")

    turn_on_conditional(page)
    expect(page).to_have_url(re.compile(r"conditional=true"))
    expect(page.get_by_test_id("stAlert").filter(has_text="New model: conditional changed")
           ).to_be_visible()
    for label in ("Class accuracy", "In band, bump", "In band, dip", "Sliced W1, bump",
                  "Sliced W1, dip", "Precision", "Recall"):
        expect(metric(page, label)).to_be_visible()

    # G paints the shape it is asked for: far above the 50% of a G that ignores its label
    # (0.99 at 2,000 steps on seeds 0-2, benchmarks/conditional_data.py), in both colours.
    play_and_switch_classes(page, ("bump", "dip"), 2_000, "your file's labels")
    app.assert_clean()


def test_conditional_on_a_file_without_labels_says_why_and_keeps_the_run(app: App) -> None:
    page = app.page
    upload_example(app, "two-shapes.csv")
    toggle = turn_on_conditional(page)
    expect(page.get_by_test_id("stAlert").filter(has_text="your data have no labels")
           ).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="Nothing changed")).to_be_visible()
    expect(toggle.locator("input")).not_to_be_checked()  # back as the run has it
    expect(page).not_to_have_url(re.compile(r"conditional=true"))
    expect(panel(page)).to_contain_text("two-shapes.csv")
    app.assert_clean()

"""Three visitors at once: each trains, sees no error, keeps its own model and gets an answer.

The small version of ``benchmarks/load.py`` (eight visitors for a minute), with the same
helpers from ``harness/visitors.py``. The click that must be answered (within 2 s is the target, a
slower answer is reported) is a paused visitor's Play while the two others train, in the best
of ``TRIES``: all three pages render their charts
on the server's two cores, and a playing page busy with its own charts is late to send a click
and late to show the answer (the benchmark times every click and says where the time went).
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from harness.server import ARTIFACTS
from harness.visitors import (
    ANSWER_SECONDS,
    Visitor,
    check_reset_isolated,
    check_seeds_differ,
    observe_until,
    open_visitors,
)

from .conftest import FAILED

pytestmark = pytest.mark.browser

PLAY_SECONDS = 15.0
TRIES = 3
"""A click may be late once on a shared machine (another process had the cores); a server
that cannot answer is late every time."""


@pytest.fixture
def visitors(browser: Browser, app_url: str,
             request: pytest.FixtureRequest) -> Iterator[list[Visitor]]:
    """Three contexts on the app with seeds 1, 2 and 3; on failure, screenshots of each."""
    crowd = open_visitors(browser, app_url, [1, 2, 3])
    try:
        yield crowd
        if request.node.stash.get(FAILED, False):
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for visitor in crowd:
                visitor.page.screenshot(
                    path=ARTIFACTS / f"failed-{name}-session{visitor.index}.png", full_page=True)
    finally:
        for visitor in crowd:
            visitor.close()


def test_three_visitors_train_at_once_apart_and_answered(visitors: list[Visitor]) -> None:
    first, second, third = visitors
    seeds = check_seeds_differ(visitors)
    assert seeds.ok, seeds.detail

    first.play()
    second.play()
    start = time.monotonic()
    observe_until([first, second], start + 3)
    answers = [third.play()]  # while the two others train
    while not answers[-1].ok and len(answers) < TRIES:
        third.pause()
        answers.append(third.play())
    # Every click must be answered; within ANSWER_SECONDS is the target, but on a 2-core
    # machine that also runs the three Chromium pages it depends on the browsers' load, not
    # the server's (benchmarks/load.py measures it), so a slow answer is reported, not failed.
    assert math.isfinite(answers[-1].page_s), f"Play never answered: {answers}"
    if not answers[-1].ok:
        warnings.warn(f"Play answered in more than {ANSWER_SECONDS:g} s: {answers}",
                      stacklevel=1)

    observe_until(visitors, start + 0.4 * PLAY_SECONDS)
    reset = check_reset_isolated(first, second)
    assert reset.ok, reset.detail

    observe_until(visitors, start + PLAY_SECONDS)
    for visitor in visitors:
        assert visitor.advanced > 0, f"session {visitor.index} did not train"
        assert visitor.errors == [], f"session {visitor.index}: {visitor.errors}"

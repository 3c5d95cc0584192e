"""Regenerate docs/screenshot.png: the app after ~10 s of live training, in headless Chromium.

Run from anywhere: ``python scripts/screenshot.py [--seconds 10] [--steps 1500] [--out PATH]
[--link QUERY]``; ``--dark`` shows the page as a visitor whose system is dark sees it
(docs/screenshot-dark.png). It trains for ``--seconds`` and, on a slow machine, on until
``--steps`` steps, so that the picture shows the same stage of training wherever it is taken.
``--link`` opens the page with a link's settings; docs/conditional.png, the conditional run,
is::

    python scripts/screenshot.py --link "conditional=true&steps_per_tick=300" \
        --seconds 20 --steps 8000 --out docs/conditional.png

``python scripts/screenshot.py --your-data`` regenerates docs/your-data.png instead: a drawn
band (``drawn_band``, opened from its link) being learned, the drawing pad above the curves.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file from anywhere: the harness is at the root

from harness.browser import launch_chromium  # noqa: E402
from harness.server import ARTIFACTS, free_port, start_server, stop_server  # noqa: E402
from harness.visitors import button  # noqa: E402
from lab.tour import DISMISSED, STORAGE_KEY  # noqa: E402


def drawn_band() -> str:
    """The query of a link to a run of a hand-drawn band: a wave above a flatter curve, far
    from the tutorial's parabolas, as the drawing pad quantises it."""
    import numpy as np

    from gan_core import GANConfig, link_query
    from gan_core.data import Curves
    from gan_core.data.curves import curve_grid
    from gan_core.files.link_data import quantised

    x = curve_grid(15).astype(np.float64)
    lower = 0.6 * np.sin(np.pi * x) + 0.4 * x**2
    upper = lower + 0.7 + 0.8 * np.cos(np.pi * x / 2) ** 2
    band = Curves.between(quantised(lower), quantised(upper))
    query = link_query(GANConfig(target="data"), data=band)
    return "&".join(f"{key}={value}" for key, value in query.items())

VIEWPORT = {"width": 1500, "height": 1900}
IDLE = """() => document.querySelector("[data-testid=stApp]").dataset.testScriptState
    === "notRunning" && !document.querySelector("[data-stale=true]")"""


def step(page: Page) -> int:
    """The "Step" readout, as the live view's player shows it."""
    label = page.get_by_test_id("labReadoutLabel").get_by_text("Step", exact=True)
    value = page.get_by_test_id("labReadout").filter(has=label).get_by_test_id("labReadoutValue")
    return int(value.inner_text().replace(",", ""))


def train(page: Page, seconds: float, steps: int, timeout: float = 120.0) -> None:
    """Let the page play for ``seconds`` and until it shows ``steps`` steps."""
    page.wait_for_timeout(seconds * 1000)
    deadline = time.monotonic() + timeout
    while step(page) < steps and time.monotonic() < deadline:
        page.wait_for_timeout(250)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="training time to show")
    parser.add_argument("--steps", type=int, default=1500, help="and at least so many steps")
    parser.add_argument("--dark", action="store_true", help="a dark system's page")
    parser.add_argument("--out", type=Path, help="default docs/screenshot[-dark].png, or "
                        "docs/your-data.png with --your-data")
    parser.add_argument("--your-data", action="store_true",
                        help="a drawn band being learned (docs/your-data.png)")
    parser.add_argument("--link", default="", help="a link's query, as conditional=true")
    args = parser.parse_args()
    query = "?" + drawn_band() if args.your_data else (f"?{args.link}" if args.link else "")
    args.out = args.out or ROOT / "docs" / ("your-data.png" if args.your_data
                                            else f"screenshot{'-dark' if args.dark else ''}.png")

    port = free_port()
    proc = start_server(port, ARTIFACTS / "screenshot-server.log")
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport=VIEWPORT,
                                    color_scheme="dark" if args.dark else "light")
            # A returning visitor: the guided tour was dismissed in this browser before.
            page.add_init_script(
                f"window.localStorage.setItem({STORAGE_KEY!r}, {DISMISSED!r})")
            page.goto(f"http://127.0.0.1:{port}/{query}")
            expect(page.locator("[data-testid=stApp]")).to_have_attribute(
                "data-test-script-state", "notRunning", timeout=90_000)
            button(page, "Play").click()
            expect(button(page, "Pause")).to_be_enabled()
            train(page, args.seconds, args.steps)
            # Park the pointer on empty page: no tooltip, chart toolbar or sidebar button.
            page.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)
            # Best effort: between two live refreshes, with no run indicator and nothing
            # drawn faded as stale.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(IDLE, polling="raf", timeout=10_000)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            browser.close()
    finally:
        stop_server(proc)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

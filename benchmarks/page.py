"""What one playing page costs its browser and the server, per live refresh.

One server, one headless Chromium page playing at default settings except the tick interval,
for each interval asked for. CPU is counted for every Chromium process (renderer, GPU and
browser) and for the server; refreshes are the ones the visitor sees, counted where the Step
readout or the "Last tick" line changes on the page (the live view's player shows several ticks
from each run of the server; a page that redraws a tick a run shows one). A refresh costs the
browser several times what it costs the server, which is why the page keeps what it sends
small.

Charts out of sight are not drawn (``lab/player.js``), so the cost depends on what the page
shows: ``--views top`` is the page as it opens (the curves in sight, the panels below the fold,
on a 1500 x 1200 window), ``panels`` the page scrolled to the panels.

    python -m benchmarks.page [--ticks 0.25 1 3] [--seconds 15] [--views top panels]
"""

from __future__ import annotations

import argparse
import os
import time

from playwright.sync_api import sync_playwright

from harness.browser import launch_chromium
from harness.server import (
    ARTIFACTS,
    cpu_seconds,
    free_port,
    process_tree,
    start_server,
    stop_server,
)
from harness.visitors import Visitor

_COUNT_REFRESHES = """
() => {
  window.__refreshes = 0;
  let last = null;
  new MutationObserver(() => {
    const step = [...document.querySelectorAll('[data-testid=stMetric], [data-testid=labReadout]')]
      .map(e => e.innerText).find(t => t.startsWith('Step'));
    const tick = [...document.querySelectorAll(
      '[data-testid=stCaptionContainer], [data-testid=labCaption]')]
      .map(e => e.innerText).find(t => t.startsWith('Last tick'));
    const seen = `${step} ${tick}`;
    if (seen !== last) { last = seen; window.__refreshes += 1; }
  }).observe(document, {subtree: true, childList: true, characterData: true});
}
"""


VIEWS = {
    "top": None,
    "panels": "() => document.querySelector('[data-testid=labPanels]')"
              ".scrollIntoView({block: 'start'})",
}
"""Where the page is scrolled while it is measured: a script that scrolls it there."""


def measure(tick: float, seconds: float, view: str = "top",
            warmup: float = 5.0) -> dict[str, float | str]:
    """Play one page at ``tick`` seconds per refresh, scrolled to ``view``; CPU per refresh
    after ``warmup``."""
    port = free_port()
    proc = start_server(port, ARTIFACTS / "page-server.log")
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                visitor = Visitor.arrive(browser, f"http://127.0.0.1:{port}/", 0, 0,
                                         f"tick_seconds={tick:g}")
                visitor.wait_ready()
                visitor.play()
                if VIEWS[view] is not None:
                    visitor.page.evaluate(VIEWS[view])
                visitor.page.wait_for_timeout(1000 * warmup)
                visitor.page.evaluate(_COUNT_REFRESHES)
                me = os.getpid()
                chromium = set(process_tree(me)) - set(process_tree(proc.pid)) - {me}
                server = process_tree(proc.pid)
                browser_start, server_start = cpu_seconds(chromium), cpu_seconds(server)
                start = time.monotonic()
                visitor.page.wait_for_timeout(1000 * seconds)
                refreshes = visitor.page.evaluate("() => window.__refreshes")
                elapsed = time.monotonic() - start
                browser_cpu = cpu_seconds(chromium) - browser_start
                server_cpu = cpu_seconds(server) - server_start
                errors = visitor.errors
            finally:
                browser.close()
    finally:
        stop_server(proc)
    if errors:
        raise RuntimeError(f"the page reported errors: {errors}")
    per = max(refreshes, 1)
    return {"tick": tick, "view": view, "refreshes_per_s": refreshes / elapsed,
            "browser_cores": browser_cpu / elapsed, "server_cores": server_cpu / elapsed,
            "browser_ms_per_refresh": 1000 * browser_cpu / per,
            "server_ms_per_refresh": 1000 * server_cpu / per}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=float, nargs="+", default=[0.25, 1.0, 3.0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--views", nargs="+", choices=list(VIEWS), default=["top"])
    args = parser.parse_args(argv)
    print(f"{'view':>6} {'tick s':>6} {'refreshes/s':>11} {'browser cores':>13} "
          f"{'server cores':>12} {'browser ms/refresh':>18} {'server ms/refresh':>17}")
    for view in args.views:
        for tick in args.ticks:
            r = measure(tick, args.seconds, view)
            print(f"{r['view']:>6} {r['tick']:>6g} {r['refreshes_per_s']:>11.2f} "
                  f"{r['browser_cores']:>13.2f} {r['server_cores']:>12.2f} "
                  f"{r['browser_ms_per_refresh']:>18.0f} {r['server_ms_per_refresh']:>17.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

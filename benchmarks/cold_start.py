"""A cold first visit: how long until the first chart, and what the server holds in memory.

For each revision asked for (the working tree, and any git revision checked out into a
temporary worktree), alternating so that both see the same machine: start a fresh server,
read its RSS before any visitor (its baseline), open one page in headless Chromium and time
from navigation to the curve chart drawn, then read the server's RSS again and whether it has
loaded torch. Rounds alternate revisions; the table shows medians.

    python -m benchmarks.cold_start [--rounds 3] [--against REV]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browser import launch_chromium
from harness.server import ARTIFACTS, ROOT, free_port, start_server, stop_server

CHART = "canvas.marks"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def loaded_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def visit(root: Path, browser) -> dict[str, float]:
    """One fresh server from ``root``, one first visit."""
    port = free_port()
    proc = start_server(port, ARTIFACTS / "cold-start-server.log", root=root)
    try:
        time.sleep(1.0)  # let the server settle after its health check
        baseline = rss_mb(proc.pid)
        context = browser.new_context(viewport={"width": 1500, "height": 1200})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/")
        # The curves as the live view's player draws them, or as st.vega_lite_chart did.
        page.locator(f"[data-chart=curves] {CHART}, .st-key-curves {CHART}").first.wait_for(
            state="visible", timeout=120_000)
        first_chart = time.perf_counter() - start
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState"
            " === 'notRunning'", timeout=120_000)
        context.close()
        return {"first_chart_s": first_chart, "baseline_mb": baseline,
                "after_visit_mb": rss_mb(proc.pid), "torch": float(loaded_torch(proc.pid))}
    finally:
        stop_server(proc)


@contextlib.contextmanager
def checkout(rev: str | None) -> Iterator[Path]:
    """The working tree (``rev`` None) or a temporary worktree of ``rev``."""
    if rev is None:
        yield ROOT
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), rev], cwd=ROOT,
                       check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,
                           check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", help="a git revision to measure side by side")
    args = parser.parse_args(argv)
    labels = ["this tree"] + ([args.against] if args.against else [])
    results: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    with contextlib.ExitStack() as stack, sync_playwright() as playwright:
        roots = {"this tree": ROOT}
        if args.against:
            roots[args.against] = stack.enter_context(checkout(args.against))
        browser = launch_chromium(playwright)
        try:
            for _ in range(args.rounds):
                for label in labels:
                    results[label].append(visit(roots[label], browser))
        finally:
            browser.close()
    print(f"{'revision':>12} {'first chart s':>13} {'baseline MB':>11} {'after visit MB':>14} "
          f"{'torch loaded':>12}")
    for label, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"{label:>12} {med['first_chart_s']:>13.2f} {med['baseline_mb']:>11.0f} "
              f"{med['after_visit_mb']:>14.0f} {'yes' if med['torch'] else 'no':>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

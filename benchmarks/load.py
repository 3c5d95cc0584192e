"""Many visitors at once: does every one of them keep training, see no error, stay apart from
the others and get an answer to a click within 2 s, and what does each cost in server memory?

One Streamlit server and one headless Chromium with N browser contexts, so N Streamlit
sessions, each opened with its own ``?seed=``. All press Play and play for ``--seconds``;
meanwhile each pauses and plays again (click answer times), session 0 presses Reset while
session 1 is watched, and session 2 changes its Loss while session 3 is watched.

Server memory is VmRSS of the server and its children: at start, after a first visit that
was closed again (that visit imports torch and the app, once for all visitors: the baseline
for the growth per session) and at the end, with all N sessions still playing.

A click's answer time is taken in the page, from the click event to the page showing its
effect. Beside it: when the page sent its request and when the server's answer reached the
page's script. All N pages render their charts on the server's two cores, so a busy page
(``page busy``: its main thread's share of time in long tasks) is late to send and late to
show, which a visitor on their own machine is not.

    python -m benchmarks.load [--sessions 8] [--seconds 60] [--json PATH]

The clicks come one after another, so on a slow machine they can stretch the play past
``--seconds``; the report says how long everyone played. Exits 1 if a requirement fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from harness.browser import launch_chromium
from harness.server import (
    ARTIFACTS,
    cpu_seconds,
    free_port,
    machine_busy,
    process_tree,
    rss_mb,
    start_server,
    stop_server,
)
from harness.visitors import (
    ANSWER_SECONDS,
    Check,
    Visitor,
    check_reset_isolated,
    check_seeds_differ,
    check_setting_isolated,
    observe_until,
    open_visitors,
)

RSS_MB_PER_SESSION = 20.0


def cpu_split(server_pid: int) -> dict[str, float]:
    """CPU seconds so far: of the server, of the browser (Chromium and Playwright's driver,
    all the other processes under this one), of this process and of the whole machine."""
    server = set(process_tree(server_pid))
    me = os.getpid()
    browser = set(process_tree(me)) - server - {me}
    busy, _ = machine_busy()
    return {"server": cpu_seconds(server), "browser": cpu_seconds(browser),
            "driver script": cpu_seconds([me]), "machine": busy}


# -- the run ------------------------------------------------------------------------------------

def exercise(visitors: list[Visitor], seconds: float, server_pid: int) -> dict[str, Any]:
    """Play everyone for ``seconds``; pause/play each, Reset and change a setting meanwhile."""
    n = len(visitors)
    checks = [check_seeds_differ(visitors)]
    cpu_start, (_, total_start) = cpu_split(server_pid), machine_busy()
    for visitor in visitors:
        visitor.play()
    start = time.monotonic()
    observe_until(visitors, start + 0.2 * seconds)
    for visitor in visitors:  # everyone else keeps playing meanwhile
        visitor.pause()
        visitor.play()
    observe_until(visitors, start + 0.5 * seconds)
    checks.append(check_reset_isolated(visitors[0], visitors[1 % n]))
    checks.append(check_setting_isolated(visitors[2 % n], visitors[3 % n]))
    observe_until(visitors, start + seconds)
    played = time.monotonic() - start
    cpu_end, (_, total_end) = cpu_split(server_pid), machine_busy()
    cores = {who: (cpu_end[who] - cpu_start[who]) / played for who in cpu_start}
    cores["other processes"] = cores["machine"] - sum(
        cores[who] for who in ("server", "browser", "driver script"))
    return {
        "played_s": played,
        "page_busy": [v.busy_share() for v in visitors],
        "isolation": [asdict(c) for c in checks],
        "cores_used": cores,
        "machine_busy": (cpu_end["machine"] - cpu_start["machine"])
        / max(1e-9, total_end - total_start),
        "load_average": os.getloadavg()[0],
        "rss_end_mb": rss_mb(server_pid),
    }


def run(sessions: int, seconds: float) -> dict[str, Any]:
    """One server, one Chromium: a first visit, then ``sessions`` visitors exercised."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    proc = start_server(port, ARTIFACTS / "load-server.log")
    warm_errors: list[str] = []
    try:
        rss_start = rss_mb(proc.pid)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                first = Visitor.arrive(browser, base_url, -1, 0)
                first.wait_ready()
                warm_errors = first.errors
                first.close()
                rss_warm = rss_mb(proc.pid)
                visitors = open_visitors(browser, base_url, [k + 1 for k in range(sessions)])
                try:
                    result = exercise(visitors, seconds, proc.pid)
                finally:
                    for visitor in visitors:
                        visitor.close()
            finally:
                browser.close()
    finally:
        stop_server(proc)
    growth = (result["rss_end_mb"] - rss_warm) / sessions
    return {
        "sessions": sessions,
        "seconds": seconds,
        "wall_s": time.monotonic() - started,
        "cores": os.cpu_count(),
        "rss_start_mb": rss_start,
        "rss_warm_mb": rss_warm,
        "rss_growth_mb_per_session": growth,
        "rss_growth_mb_per_session_with_imports": (result["rss_end_mb"] - rss_start) / sessions,
        "first_visit_errors": warm_errors,
        **result,
        "visitors": [
            {
                "session": v.index,
                "seed": v.seed,
                "steps_advanced": v.advanced,
                "steps_per_s": v.steps_per_second,
                "errors": v.errors,
                "unanswered": v.unanswered,
                "median_tick_ms": v.median_tick_ms,
                "tick_ms": v.tick_ms,
                "tick_steps": v.tick_steps,
                "page_busy": busy,
                "answers": [asdict(a) for a in v.answers],
            }
            for v, busy in zip(visitors, result.pop("page_busy"), strict=True)
        ],
    }


# -- the report ---------------------------------------------------------------------------------

def _answer(row: dict[str, Any], action: str, key: str = "page_s") -> float:
    """The slowest answer of that kind in that session."""
    return max((a[key] for a in row["answers"] if a["action"] == action), default=float("nan"))


def report(r: dict[str, Any]) -> list[Check]:
    """Print the table and the requirement lines; return the requirements."""
    rows = r["visitors"]
    print(f"{r['sessions']} sessions playing for {r['played_s']:.0f} s on {r['cores']} cores "
          f"(run took {r['wall_s']:.0f} s)")
    print(f"{'session':>7} {'seed':>5} {'steps advanced':>14} {'steps/s':>8} {'errors':>6} "
          f"{'pause answer s':>14} {'(sent s)':>8} {'(arrived s)':>11} {'play answer s':>13} "
          f"{'server ms/tick':>17} {'page busy':>9}")
    for row in rows:
        print(f"{row['session']:>7} {row['seed']:>5} {row['steps_advanced']:>14,} "
              f"{row['steps_per_s']:>8.1f} {len(row['errors']):>6} "
              f"{_answer(row, 'pause'):>14.2f} {_answer(row, 'pause', 'sent_s'):>8.2f} "
              f"{_answer(row, 'pause', 'arrived_s'):>11.2f} {_answer(row, 'play'):>13.2f} "
              f"{row['median_tick_ms']:>17.0f} {100 * row['page_busy']:>8.0f}%")
    print(f"server RSS: {r['rss_start_mb']:.1f} MB at start, {r['rss_warm_mb']:.1f} MB after a "
          f"first visit (imports torch and the app), {r['rss_end_mb']:.1f} MB with "
          f"{r['sessions']} sessions playing")
    print(f"RSS growth per session: {r['rss_growth_mb_per_session']:.1f} MB over the warm "
          f"baseline ({r['rss_growth_mb_per_session_with_imports']:.1f} MB counting the "
          "one-time imports)")
    tick_ms = [ms for row in rows for ms in row["tick_ms"]]
    tick_steps = [n for row in rows for n in row["tick_steps"]]
    if tick_ms:
        print(f"server time per live tick (a time-capped chunk of training, the readouts "
              f"and the curves): median {statistics.median(tick_ms):.0f} ms, max "
              f"{max(tick_ms)} ms;"
              f" steps per tick: median {statistics.median(tick_steps):.0f}, max "
              f"{max(tick_steps)}")
    used = r["cores_used"]
    print(f"CPU while playing, in cores of {r['cores']}: server {used['server']:.2f}, browser "
          f"{used['browser']:.2f}, this script {used['driver script']:.2f}, other processes "
          f"{used['other processes']:.2f}; machine {100 * r['machine_busy']:.0f}% busy, load "
          f"average {r['load_average']:.1f}")
    for check in r["isolation"]:
        print(f"  {'ok  ' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")
    errors = [f"session {row['session']}: {e}" for row in rows for e in row["errors"]]
    errors += [f"first visit: {e}" for e in r["first_visit_errors"]]
    for error in errors[:20]:
        print(f"  error: {error}")
    for row in rows:
        for what in row["unanswered"]:
            print(f"  unanswered in session {row['session']}: {what}")
    answers = [{**a, "session": row["session"]} for row in rows for a in row["answers"]]
    slowest = max(answers, key=lambda a: a["page_s"])
    stalled = [f"session {row['session']}" for row in rows if row["steps_advanced"] <= 0]
    requirements = [
        Check("0 errors", not errors, f"{len(errors)} errors"),
        Check("every session advanced", not stalled,
              f"fewest steps {min(row['steps_advanced'] for row in rows):,}"
              + (f"; stalled: {', '.join(stalled)}" if stalled else "")),
        Check("sessions isolated", all(c["ok"] for c in r["isolation"]),
              f"{sum(c['ok'] for c in r['isolation'])} of {len(r['isolation'])} checks"),
        Check(f"RSS growth per session <= {RSS_MB_PER_SESSION:g} MB",
              r["rss_growth_mb_per_session"] <= RSS_MB_PER_SESSION,
              f"{r['rss_growth_mb_per_session']:.1f} MB"),
        Check(f"every click answered within {ANSWER_SECONDS:g} s",
              all(a["page_s"] < ANSWER_SECONDS for a in answers),
              f"{len(answers)} clicks, median {statistics.median(a['page_s'] for a in answers):.2f}"
              f" s, slowest {slowest['page_s']:.2f} s ({slowest['action']} in session "
              f"{slowest['session']}: sent after {slowest['sent_s']:.2f} s, answer in the page "
              f"after {slowest['arrived_s']:.2f} s; driver {slowest['driver_s']:.2f} s)"),
    ]
    for check in requirements:
        print(f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return requirements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="concurrent visitors (>= 2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they play")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.sessions < 2:
        parser.error("--sessions must be at least 2: isolation needs a second session")
    result = run(args.sessions, args.seconds)
    requirements = report(result)
    result["requirements"] = [asdict(c) for c in requirements]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(c.ok for c in requirements) else 1


if __name__ == "__main__":
    raise SystemExit(main())

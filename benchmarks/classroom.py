"""A classroom on one server: can 30 students press Play at once and all watch their GAN train?

For each visitor count: one Streamlit server on 127.0.0.1, a first visit that loads torch and
the app (then leaves), then N students, each a protocol-level visitor (``harness.protocol``:
the websocket messages of a browser tab, without the browser) with its own ``?seed=``, and
beside them ``--browsers`` real headless Chromium pages (``harness/visitors.py``) for the
end-to-end click time. Everyone presses Play within a short ramp and plays for ``--seconds``;
each pauses and plays again twice, one student changes its Loss and one presses Reset.

Measured per count: the refresh period each student actually sees (time between two "Step"
readouts while it plays), steps per second, the server's CPU (cores, /proc) and memory, click
answer times (a student's from sending the click to the message that shows its effect; a
browser's from the click event to the page showing it) and errors. The students all run on one
asyncio loop in this process: its CPU and how late its timers fire are reported, so that a slow
load generator is not mistaken for a slow server.

    python -m benchmarks.classroom [--visitors 1 8 16 30 50] [--seconds 60] [--browsers 2]
                                   [--heavy N] [--balancer] [--json PATH] [--profile DIR]

``--heavy N``: N of the students open a link that sets every Model and Training size and the
steps per tick at the page's maximum (the last N seeds): the others must still refresh as often.

``--balancer``: two replicas of the app behind HAProxy, sticky by cookie (``harness.balancer``,
the recipe of ``scripts/replicas.py``), each student loading the page first for its cookie as a
tab does; the figures are then also given per replica (its students, their training, its CPU
and memory).

``--profile DIR`` also samples the server with py-spy (``pip install py-spy``) while everyone
plays (the stacks of the thread holding the GIL) and splits its CPU in proportion: training,
readouts, chart data, Streamlit serialisation (elements, protobuf, arrow, hashing), websocket
I/O (including each message's hand-off from the script thread to the event loop) and the rest;
and again by run: full runs of the page, runs of the fast fragment, of the panels, and work
outside any run (the event loop).

Every count is measured; the checks apply to each count up to the classroom (30 students) and to
a class of 60, and the script exits 1 if one fails. Up to 30, clicks are answered within 1 s at
p95 and, at 30, each student trains at least 200 steps a second (the median student; 150 the
slowest); at 60, clicks within 2 s. Every count refreshes at least once a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from gan_core import GANConfig, Pacing
from harness.balancer import replica_of, replicas
from harness.browser import launch_chromium
from harness.protocol import LoopThread, Visitor, caption_with, metric_below, parse_number
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
from harness.visitors import Visitor as BrowserVisitor
from harness.visitors import observe_until

CLASSROOM = 30
LARGEST = "&".join(f"{name}={int(schema.params()[name].high)}" for schema, names in (
    (GANConfig, ("hidden", "batch_size", "n_points", "latent_dim", "d_steps")),
    (Pacing, ("steps_per_tick",))) for name in names)
"""A link's settings at the page's largest sizes and steps per tick."""
REFRESHES_PER_SECOND = 1.0
ANSWER_SECONDS = 2.0
"""Clicks at p95 for a class beyond the classroom (60 students)..."""
CLASS_ANSWER_SECONDS = 1.0
"""...and for the classroom and fewer."""
STEPS_PER_SECOND = 200.0
SLOWEST_STEPS_PER_SECOND = 150.0
"""Each student's training, steps per second: the median student's and the slowest's, in the
classroom (30 students)."""
BIG_CLASS = 60
RSS_LIMIT_MB = 1024.0
RAMP_SECONDS = 3.0
PAUSED_SECONDS = 2.0
PLAYING, PAUSED = "Playing ·", "Paused ·"


# -- a student's plan and what it saw ------------------------------------------------------------

@dataclass
class Plan:
    """When a student presses Play (seconds after the start), when it pauses (and plays again
    ``PAUSED_SECONDS`` later), and whether it also changes its Loss or presses Reset, when."""

    play_at: float
    pauses: list[float]
    change_loss_at: float | None = None
    reset_at: float | None = None


def plans(n: int, seconds: float, seed: int = 0) -> list[Plan]:
    """Play within the ramp; two pauses at random in the first and the second half of the
    play; student 0 changes its Loss halfway, student 1 (student 0 if alone) resets at 55 %."""
    rng = random.Random(seed)
    result = [Plan(RAMP_SECONDS * k / max(1, n),
                   [RAMP_SECONDS + seconds * rng.uniform(0.15, 0.35),
                    RAMP_SECONDS + seconds * rng.uniform(0.6, 0.8)]) for k in range(n)]
    if result:
        result[0].change_loss_at = RAMP_SECONDS + 0.5 * seconds
        result[min(1, n - 1)].reset_at = RAMP_SECONDS + 0.55 * seconds
    return result


@dataclass
class Student:
    visitor: Visitor
    seed: int
    heavy: bool = False
    windows: list[list[float]] = field(default_factory=list)  # [start, end] while playing
    failures: list[str] = field(default_factory=list)
    first_play: float | None = None

    def started(self, at: float) -> None:
        self.first_play = at if self.first_play is None else self.first_play
        self.windows.append([at, math.inf])

    def stopped(self, at: float) -> None:
        if self.windows and self.windows[-1][1] == math.inf:
            self.windows[-1][1] = at


async def _until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def attend(student: Student, plan: Plan, start: float, end: float) -> None:
    """Follow ``plan`` from ``start`` until ``end``; a failure is recorded, not raised."""
    visitor = student.visitor
    events = [(t, "pause") for t in plan.pauses]
    events += [(t, what) for t, what in ((plan.change_loss_at, "loss"), (plan.reset_at, "reset"))
               if t is not None]
    events.sort()
    try:
        await _until(start + plan.play_at)
        play = await visitor.click("Play", caption_with(PLAYING))
        student.started(play.sent_at + (play.answer_s if play.answered else 0.0))
        for at, what in events:
            await _until(start + at)
            if what == "pause":
                pause = await visitor.click("Pause", caption_with(PAUSED))
                student.stopped(pause.sent_at)
                await asyncio.sleep(PAUSED_SECONDS)
                play = await visitor.click("Play", caption_with(PLAYING))
                student.started(play.sent_at + (play.answer_s if play.answered else 0.0))
            elif what == "loss":
                await visitor.change("loss", "hinge", caption_with("loss: hinge"))
            else:
                await visitor.click("Reset", metric_below("Step", visitor.number("Step") or 0))
        await _until(end)
    except Exception as exc:  # the student's finding, reported with the others
        student.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        student.stopped(min(time.monotonic(), end))


async def open_students(base_url: str, seeds: list[int], heavy: int = 0,
                        load_page: bool = False) -> list[Student]:
    """All students arrive at once, the last ``heavy`` with the largest settings; one that
    cannot open is kept with its failure. ``load_page``: each loads the page first, as a tab
    does, and keeps its cookies (a balancer's)."""
    big = set(seeds[len(seeds) - heavy:]) if heavy else set()
    students = [Student(Visitor(base_url, f"seed={s}" + (f"&{LARGEST}" if s in big else ""),
                                f"student {s}", max_seconds=3600, load_page=load_page),
                        s, s in big)
                for s in seeds]
    opened = await asyncio.gather(
        *(s.visitor.open(timeout=300, ready=lambda v: v.number("Step") is not None)
          for s in students), return_exceptions=True)
    for student, outcome in zip(students, opened, strict=True):
        if isinstance(outcome, BaseException):
            student.failures.append(f"could not open: {type(outcome).__name__}: {outcome}")
    return students


async def lesson(students: list[Student], schedule: list[Plan], start: float,
                 end: float) -> list[float]:
    """Every open student follows its plan; returns how late the loop's timers fired (s)."""
    lags: list[float] = []

    async def watch_loop() -> None:
        while time.monotonic() < end:
            asked = time.monotonic()
            await asyncio.sleep(0.05)
            lags.append(time.monotonic() - asked - 0.05)

    await asyncio.gather(watch_loop(), *(attend(s, p, start, end) for s, p in
                                         zip(students, schedule, strict=True)
                                         if not s.failures))
    return lags


async def leave(students: list[Student]) -> None:
    await asyncio.gather(*(s.visitor.close() for s in students), return_exceptions=True)


async def first_visit(base_url: str, load_page: bool = False) -> list[str]:
    async with Visitor(base_url, "seed=0", "first visit", load_page=load_page) as visitor:
        await visitor.wait_for(lambda v: v.number("Step") is not None, 120)
        return visitor.errors


# -- what a student saw ---------------------------------------------------------------------------

def student_report(student: Student, end: float) -> dict[str, Any]:
    """What one student saw while it played. Its refresh period is the median time between two
    Step readouts in one playing window (none in any window: at least the longest window); the
    worst gap also counts the wait from the last readout to a Pause or the end. A refresh is a
    readout after the one that answered Play. Steps per second: from the first Play to the
    end."""
    visitor = student.visitor
    updates = [(t, parse_number(v)) for t, v in visitor.updates("Step")]
    gaps: list[float] = []
    worst = longest = 0.0
    refreshes, played = 0, 0.0
    for start, stop in student.windows:
        stop = min(stop, end)
        times = [t for t, _ in updates if start <= t <= stop]
        played += max(0.0, stop - start)
        longest = max(longest, stop - start)
        refreshes += max(0, len(times) - 1)
        window_gaps = [b - a for a, b in pairwise(times)]
        gaps += window_gaps
        worst = max(worst, *window_gaps, stop - (times[-1] if times else start))
    advanced, last = 0.0, None
    for t, step in updates:
        if step is None or student.first_play is None or t < student.first_play:
            last = step if step is not None else last
            continue
        if last is not None:
            advanced += step - last if step >= last else step
        last = step
    span = max(1e-9, end - student.first_play) if student.first_play else math.nan
    runs = [run for run in visitor.runs if student.first_play is not None
            and student.first_play <= run.at <= end]
    return {
        "seed": student.seed,
        "heavy": student.heavy,
        "played_s": played,
        "refreshes": refreshes,
        "refreshes_per_s": refreshes / played if played else 0.0,
        "period_s": statistics.median(gaps) if gaps else math.inf,
        "period_at_least_s": statistics.median(gaps) if gaps else longest,
        "worst_gap_s": worst,
        "steps_advanced": advanced,
        "steps_per_s": advanced / span if student.first_play else 0.0,
        "full_runs": sum(not run.fragment_ids for run in runs),
        "fragment_runs": sum(bool(run.fragment_ids) for run in runs),
        "answers": [asdict(a) for a in visitor.answers],
        "errors": visitor.errors + student.failures,
        "messages": visitor.messages,
        "bytes": visitor.bytes_received,
        "reruns_sent": visitor.reruns_sent,
        "cache_hits": visitor.cache_hits,
    }


def browser_report(page: BrowserVisitor) -> dict[str, Any]:
    return {
        "seed": page.seed,
        "steps_advanced": page.advanced,
        "steps_per_s": page.steps_per_second,
        "answers": [asdict(a) for a in page.answers],
        "errors": page.errors + [f"unanswered {u}" for u in page.unanswered],
    }


# -- the browsers ----------------------------------------------------------------------------------

def drive_browsers(pages: list[BrowserVisitor], start: float, seconds: float,
                   end: float) -> None:
    """Play within the ramp, pause and play again at 30 % and 70 % of the play, watch to the
    end (this thread's Playwright calls; the students play on their own loop meanwhile)."""
    for k, page in enumerate(pages):
        observe_until(pages, start + RAMP_SECONDS * (k + 0.5) / len(pages))
        page.play()
    for share in (0.3, 0.7):
        observe_until(pages, start + RAMP_SECONDS + share * seconds)
        for page in pages:
            page.pause()
            page.page.wait_for_timeout(1000 * PAUSED_SECONDS)
            page.play()
    observe_until(pages, end)


# -- the server ------------------------------------------------------------------------------------

class Sampler:
    """Peak resident memory of each server (with its children) and of all together, and the
    machine's load average (one minute's), sampled every ``every`` seconds."""

    def __init__(self, pids: list[int], every: float = 1.0) -> None:
        self.pids, self.every = pids, every
        self.peaks_mb = [0.0] * len(pids)
        self.total_peak_mb = 0.0
        self.load_averages: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = [rss_mb(pid) for pid in self.pids]
            self.peaks_mb = [max(p, n) for p, n in zip(self.peaks_mb, now, strict=True)]
            self.total_peak_mb = max(self.total_peak_mb, sum(now))
            self.load_averages.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def vm_hwm_mb(pid: int) -> float:
    """The process's own peak resident memory (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling, for ``seconds``, the stacks of whichever of ``pid``'s threads holds the
    GIL (the server runs Python on one core at most); None if py-spy is missing."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed (pip install py-spy): no profile")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", str(PROFILE_RATE),
                             "--duration", str(max(1, int(seconds))), "--gil",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


PROFILE_RATE = 100
ELEMENT_CALL = ("streamlit/elements/", "streamlit/delta_generator", "metrics_util.py",
                "streamlit/dataframe_util.py")
SERIALISING = ("serialize_forward_msg", "populate_hash_if_needed", "SerializeToString",
               "forward_msg_queue.py")
SOCKET = ("call_soon_threadsafe", "_write_to_self", "StarletteSessionClient._sender",
          "send_bytes", "receive_bytes", "websockets/", "uvicorn/protocols/websockets",
          "starlette/websockets.py", "selector_events.py", "asyncio/transports.py")
OWN_CODE = ("streamlit/", "gan_core/", "streamlit_app.py", "pyarrow/", "pandas/", "numpy/",
            "json/", "google/protobuf")
MACHINERY = ("streamlit/runtime/", "streamlit/commands/", "streamlit/watcher/")


RUNS = (("full run", ("streamlit_app.py",)), ("fast fragment", ("_fast (lab/live.py",)),
        ("panels fragment", ("panels (lab/panels.py",)))
"""Which run a sampled stack belongs to, by the outermost frame of the page it holds."""


def classify(stack: list[str]) -> tuple[str, str]:
    """Which run a sampled stack (outermost frame first) belongs to (a full run, a run of one
    of the two fragments, or none: the event loop and Streamlit's threads), and which part of
    the server's work it is."""
    def has(frames: list[str], marks: tuple[str, ...]) -> bool:
        return any(m in f for f in frames for m in marks)

    found = [(i, name) for name, marks in RUNS for i, f in enumerate(stack)
             if any(m in f for m in marks)]
    run = min(found)[1] if found else "outside runs"
    for frame in reversed(stack):  # innermost first: sending or receiving, or work?
        if any(m in frame for m in SOCKET):
            return run, "websocket I/O"
        if any(m in frame for m in OWN_CODE):
            break
    if has(stack, SERIALISING):
        return run, "Streamlit serialisation"
    if found:
        below = stack[min(found)[0]:]
        if has(below, ELEMENT_CALL):
            return run, "Streamlit serialisation"
        if has(below, ("gan_core/views/charts.py",)):
            return run, "chart data"
        if has(below, ("LabSession.tick ", "LabSession.advance ", "Trainer.train ")):
            return run, "training chunk"
        if has(below, ("readouts ", "Trainer.evaluate ", "gan_core/measure/metrics.py")):
            return run, "readouts/evaluation"
        return run, "page script: layout, state"
    if has(stack, MACHINERY):
        return run, "Streamlit run machinery"
    return run, "other"


def profile_split(raw: Path, seconds: float, cores: float) -> dict[str, dict[str, float]]:
    """Samples per part and per run from py-spy's raw output: share of the samples, and that
    share of the server's measured CPU (``cores``). ``held`` is the share of the time the GIL
    was held."""
    parts: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            run, part = classify(stack.split(";"))
            parts[part] += int(count)
            runs[f"in a {run}" if run != "outside runs" else run] += int(count)
    total = sum(parts.values()) or 1
    split = {part: {"samples": n, "share": n / total, "cores": cores * n / total}
             for counts in (parts, runs) for part, n in counts.most_common()}
    split["GIL held"] = {"samples": total, "share": total / (PROFILE_RATE * seconds),
                         "cores": math.nan}
    return split


# -- one count -------------------------------------------------------------------------------------

def run(n: int, seconds: float, browsers: int, profile: Path | None,
        heavy: int = 0, balancer: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    with contextlib.ExitStack() as servers:
        if balancer:  # two replicas behind HAProxy, sticky by cookie (docs/deploy.md)
            running = servers.enter_context(replicas(2, name=f"classroom-{n}"))
            base_url, pids = running.url, running.pids
            others = [running.balancer.pid]
        else:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}/"
            proc = start_server(port, ARTIFACTS / f"classroom-server-{n}.log")
            servers.callback(stop_server, proc)
            pids, others = [proc.pid], []
        rss_start = sum(rss_mb(pid) for pid in pids)
        with LoopThread() as loop, sync_playwright() as playwright:
            first_errors = []
            for _ in pids:  # every replica's first visitor loads the app (the balancer
                first_errors += loop.run(first_visit(base_url, balancer), 180)  # spreads them)
            rss_warm = sum(rss_mb(pid) for pid in pids)
            chromium = launch_chromium(playwright) if browsers else None
            pages: list[BrowserVisitor] = []
            students: list[Student] = []
            try:
                for k in range(browsers):
                    assert chromium is not None
                    pages.append(BrowserVisitor.arrive(chromium, base_url, k, 1000 + k))
                students = loop.run(open_students(base_url, [k + 1 for k in range(n)], heavy,
                                                  load_page=balancer), 400)
                for page in pages:
                    page.wait_ready()
                result = play(n, seconds, pids, loop, students, pages, profile, others)
            finally:
                if students:
                    loop.run(leave(students), 60)
                for page in pages:
                    page.close()
                if chromium is not None:
                    chromium.close()
    return {"visitors": n, "heavy": heavy, "browsers": browsers, "seconds": seconds,
            "wall_s": time.monotonic() - started, "rss_start_mb": rss_start,
            "rss_warm_mb": rss_warm, "first_visit_errors": first_errors,
            "replicas": len(pids), **result}


def play(n: int, seconds: float, pids: list[int], loop: LoopThread, students: list[Student],
         pages: list[BrowserVisitor], profile: Path | None,
         others: list[int] | None = None) -> dict[str, Any]:
    """Everyone plays; ``pids`` are the servers (a replica each behind a balancer, whose
    process is among ``others``: neither counts as a browser)."""
    schedule = plans(n, seconds, seed=n)
    start = time.monotonic() + 1.0
    end = start + RAMP_SECONDS + seconds
    trees = [set(process_tree(pid)) for pid in pids]
    server = set().union(*trees)
    me = os.getpid()
    browser_pids = set(process_tree(me)) - server - set(others or ()) - {me}
    cpu0 = {"server": cpu_seconds(server), "browsers": cpu_seconds(browser_pids),
            "this process": cpu_seconds([me]), "students": loop.cpu_seconds()}
    replica_cpu0 = [cpu_seconds(tree) for tree in trees]
    busy0, total0 = machine_busy()
    spy = (start_profiler(pids[0], RAMP_SECONDS + seconds, profile / f"classroom-{n}.txt")
           if profile else None)
    with Sampler(pids) as sampler:
        lesson_done = loop.submit(lesson(students, schedule, start, end))
        if pages:
            drive_browsers(pages, start, seconds, end)
        lags = lesson_done.result(RAMP_SECONDS + seconds + 600)
        played = time.monotonic() - start
        cpu1 = {"server": cpu_seconds(server), "browsers": cpu_seconds(browser_pids),
                "this process": cpu_seconds([me]), "students": loop.cpu_seconds()}
        replica_cpu1 = [cpu_seconds(tree) for tree in trees]
        busy1, total1 = machine_busy()
        rss_ends = [rss_mb(pid) for pid in pids]
    split = None
    if spy is not None:
        spy.wait(60)
    cores = {who: (cpu1[who] - cpu0[who]) / played for who in cpu0}
    cores["other processes"] = ((busy1 - busy0) / played - cores["server"] - cores["browsers"]
                                - cores["this process"])
    if spy is not None:
        split = profile_split(profile / f"classroom-{n}.txt", RAMP_SECONDS + seconds,
                              cores["server"])
    reports = [student_report(s, end) for s in students]
    replicas_seen = [{
        "pid": pid,
        "cores": (c1 - c0) / played,
        "rss_peak_mb": max(peak, rss_end),
        "vm_hwm_mb": vm_hwm_mb(pid),
        "students": [r["seed"] for r, s in zip(reports, students, strict=True)
                     if replica_of(s.visitor.cookies) in (None, f"r{i}")],
    } for i, (pid, c0, c1, peak, rss_end) in enumerate(
        zip(pids, replica_cpu0, replica_cpu1, sampler.peaks_mb, rss_ends, strict=True), 1)]
    return {
        "played_s": played,
        "cores_used": cores,
        "machine_busy": (busy1 - busy0) / max(1e-9, total1 - total0),
        "load_average": os.getloadavg()[0],
        "load_average_mean": statistics.fmean(sampler.load_averages or [math.nan]),
        "load_average_max": max(sampler.load_averages, default=math.nan),
        "loop_lag_s": {"p95": _quantile(lags, 0.95), "max": max(lags, default=math.nan)},
        # The servers together (a replica each): what the machine must hold.
        "rss_end_mb": sum(rss_ends),
        "rss_peak_mb": max(sampler.total_peak_mb, sum(rss_ends)),
        "server_vm_hwm_mb": sum(vm_hwm_mb(pid) for pid in pids),
        "per_replica": replicas_seen,
        "students": reports,
        "browser_pages": [browser_report(p) for p in pages],
        "profile": split,
    }


# -- the report ------------------------------------------------------------------------------------

def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank); inf counts as the largest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def clicks(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [a[key] for row in rows for a in row["answers"]]


def summary(r: dict[str, Any]) -> dict[str, Any]:
    students, pages = r["students"], r["browser_pages"]
    student_clicks, page_clicks = clicks(students, "answer_s"), clicks(pages, "page_s")
    every = student_clicks + page_clicks
    return {
        "median_period_s": statistics.median(s["period_at_least_s"] for s in students),
        "slowest_period_s": max(s["period_at_least_s"] for s in students),
        "all_periods_seen": all(math.isfinite(s["period_s"]) for s in students),
        "worst_gap_s": max(s["worst_gap_s"] for s in students),
        "fewest_refreshes_per_s": min(s["refreshes_per_s"] for s in students),
        "median_steps_per_s": statistics.median(s["steps_per_s"] for s in students),
        "fewest_steps_per_s": min(s["steps_per_s"] for s in students),
        "full_runs_per_student": statistics.median(s["full_runs"] for s in students),
        "fragment_runs_per_student": statistics.median(s["fragment_runs"] for s in students),
        "browser_steps_per_s": [p["steps_per_s"] for p in pages],
        "student_clicks": {"n": len(student_clicks), "p50": _quantile(student_clicks, 0.5),
                           "p95": _quantile(student_clicks, 0.95)},
        "browser_clicks": {"n": len(page_clicks), "p50": _quantile(page_clicks, 0.5),
                           "p95": _quantile(page_clicks, 0.95)},
        "all_clicks": {"n": len(every), "p50": _quantile(every, 0.5),
                       "p95": _quantile(every, 0.95)},
        "errors": [f"student {s['seed']}: {e}" for s in students for e in s["errors"]]
        + [f"browser {p['seed']}: {e}" for p in pages for e in p["errors"]]
        + [f"first visit: {e}" for e in r["first_visit_errors"]],
    }


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def checks(r: dict[str, Any], s: dict[str, Any]) -> list[Check]:
    """The classroom's requirements, for one count."""
    stalled = [row["seed"] for row in r["students"] + r["browser_pages"]
               if row["steps_advanced"] <= 0]
    slow = [row["seed"] for row in r["students"] if not row["period_s"] <= 1 / REFRESHES_PER_SECOND]
    answer = CLASS_ANSWER_SECONDS if r["visitors"] <= CLASSROOM else ANSWER_SECONDS
    training = [Check(f"students train at least {STEPS_PER_SECOND:g} steps/s (median) and "
                      f"{SLOWEST_STEPS_PER_SECOND:g} (slowest)",
                      s["median_steps_per_s"] >= STEPS_PER_SECOND
                      and s["fewest_steps_per_s"] >= SLOWEST_STEPS_PER_SECOND,
                      f"median {s['median_steps_per_s']:.0f}, slowest "
                      f"{s['fewest_steps_per_s']:.0f} steps/s")] \
        if r["visitors"] == CLASSROOM else []
    return [
        *training,
        Check(f"every student refreshes at least {REFRESHES_PER_SECOND:g}/s while playing",
              not slow, f"slowest refresh period {_period(s)} s, median {s['median_period_s']:.2f}"
              f" s" + (f"; {len(slow)} of {len(r['students'])} too slow" if slow else "")),
        Check("every visitor advances", not stalled,
              f"fewest {s['fewest_steps_per_s']:.1f} steps/s"
              + (f"; stalled: seeds {stalled}" if stalled else "")),
        Check(f"clicks answered within {answer:g} s at p95, browsers included",
              s["all_clicks"]["p95"] <= answer
              and not s["browser_clicks"]["p95"] > answer,
              f"all {s['all_clicks']['n']}: p95 {s['all_clicks']['p95']:.2f} s; browsers "
              f"{s['browser_clicks']['n']}: p95 {s['browser_clicks']['p95']:.2f} s"),
        Check("0 errors", not s["errors"], f"{len(s['errors'])} errors"),
        Check(f"server RSS <= {RSS_LIMIT_MB:g} MB", r["rss_peak_mb"] <= RSS_LIMIT_MB,
              f"peak {r['rss_peak_mb']:.0f} MB"),
    ]


def _period(s: dict[str, Any]) -> str:
    """The slowest period; ">20" if some student never saw two refreshes in a row."""
    value = s["slowest_period_s"]
    return f"{value:.2f}" if s["all_periods_seen"] else f">{value:.0f}"


def print_table(results: list[dict[str, Any]]) -> None:
    """One line per count. Refresh periods: the median over students and the slowest student's
    (each its median time between two readouts), and the longest wait any student had."""
    print(f"{'':>8} {'refresh period s':^22} {'refr/s':>6} {'steps/s':^11} {'server':^14} "
          f"{'click answer p50/p95 s':^36} {'':>6} {'cores':^11} {'load':>5}")
    print(f"{'visitors':>8} {'median':>7} {'slowest':>7} {'worst':>6} {'fewest':>6} "
          f"{'med':>5} {'min':>5} {'cores':>6} {'RSS MB':>7} {'students':>11} {'browsers':>11} "
          f"{'all':>11} {'errors':>6} {'gen':>5} {'other':>5} {'avg':>5}")
    for r in results:
        s, used = r["summary"], r["cores_used"]
        clicks_ = " ".join(f"{s[k]['p50']:>5.2f}/{s[k]['p95']:<5.2f}"
                           for k in ("student_clicks", "browser_clicks", "all_clicks"))
        print(f"{r['visitors']:>8} {s['median_period_s']:>7.2f} "
              f"{_period(s):>7} {s['worst_gap_s']:>6.1f} "
              f"{s['fewest_refreshes_per_s']:>6.2f} {s['median_steps_per_s']:>5.0f} "
              f"{s['fewest_steps_per_s']:>5.0f} {used['server']:>6.2f} {r['rss_peak_mb']:>7.0f} "
              f"{clicks_} {len(s['errors']):>6} {used['students']:>5.2f} "
              f"{used['other processes']:>5.2f} {r['load_average_mean']:>5.1f}")
    print("cores: gen = the students' event loop in this process (the load generator), other = "
          f"processes outside this benchmark; load avg: the machine's ({os.cpu_count()} cores) "
          "one-minute load average, mean while playing")


def print_details(r: dict[str, Any]) -> None:
    s = r["summary"]
    print(f"\n{r['visitors']} students + {r['browsers']} browsers, played {r['played_s']:.0f} s "
          f"(run took {r['wall_s']:.0f} s): machine {100 * r['machine_busy']:.0f}% busy; "
          f"server RSS {r['rss_start_mb']:.0f} MB at start, {r['rss_warm_mb']:.0f} after a "
          f"first visit, peak {r['rss_peak_mb']:.0f} (VmHWM {r['server_vm_hwm_mb']:.0f}); "
          f"browser pages {', '.join(f'{x:.0f}' for x in s['browser_steps_per_s'])} steps/s; "
          f"runs per student (median): {s['full_runs_per_student']:.0f} full, "
          f"{s['fragment_runs_per_student']:.0f} of a fragment")
    used = r["cores_used"]
    messages = sum(row["messages"] for row in r["students"])
    print(f"  cores used: server {used['server']:.2f}, students (load generator) "
          f"{used['students']:.2f} ({1e6 * used['students'] * r['played_s'] / max(1, messages):.0f}"
          f" µs per message received, {messages / r['played_s']:.0f} messages/s; its loop's "
          f"timers late by {1000 * r['loop_lag_s']['p95']:.0f} ms at p95, "
          f"{1000 * r['loop_lag_s']['max']:.0f} ms at most), browsers {used['browsers']:.2f}, "
          f"rest of this process {used['this process'] - used['students']:.2f}, other processes "
          f"{used['other processes']:.2f} (load average {r['load_average_mean']:.1f} on "
          f"average while playing, {r['load_average_max']:.1f} at most, {os.cpu_count()} cores)")
    for row in r["students"]:
        if row["heavy"]:
            print(f"  student {row['seed']} at the largest settings: refresh period "
                  f"{row['period_at_least_s']:.2f} s, {row['steps_per_s']:.1f} steps/s")
    if r.get("replicas", 1) > 1:
        for i, rep in enumerate(r["per_replica"], 1):
            own = [row for row in r["students"] if row["seed"] in rep["students"]]
            rate = statistics.median(row["steps_per_s"] for row in own) if own else math.nan
            print(f"  replica r{i}: {len(own)} students, median {rate:.0f} steps/s each, "
                  f"{rep['cores']:.2f} cores, RSS peak {rep['rss_peak_mb']:.0f} MB")
    for error in s["errors"][:10]:
        print(f"  error: {error}")
    if r["profile"]:
        held = r["profile"]["GIL held"]["share"]
        print(f"  server time while playing (py-spy --gil; GIL held {100 * held:.0f}% of the "
              "time), share of the samples and of the server's CPU:")
        for part, v in r["profile"].items():
            if part != "GIL held":
                print(f"    {part:<32} {100 * v['share']:5.1f}%  {v['cores']:.2f} cores")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 8, 16, 30, 50],
                        help="students per run, one run each")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they play")
    parser.add_argument("--browsers", type=int, default=2, help="real Chromium pages beside")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--balancer", action="store_true",
                        help="two replicas behind HAProxy, sticky by cookie (docs/deploy.md)")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy, to DIR")
    parser.add_argument("--heavy", type=int, default=0,
                        help="students of each count at the page's largest settings")
    args = parser.parse_args(argv)
    if min(args.visitors) < 1 or args.browsers < 0 or args.seconds < 10:
        parser.error("at least 1 student, 0 or more browsers and 10 s of play")
    if not 0 <= args.heavy <= min(args.visitors):
        parser.error("--heavy: between 0 and the smallest number of students")
    results, failed = [], []
    for n in args.visitors:
        result = run(n, args.seconds, args.browsers, args.profile, args.heavy, args.balancer)
        result["summary"] = summary(result)
        result["checks"] = ([asdict(c) for c in checks(result, result["summary"])]
                            if n <= CLASSROOM or n == BIG_CLASS else [])
        results.append(result)
        print_details(result)
        for check in result["checks"]:
            print(f"  {'PASS' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")
            if not check["ok"]:
                failed.append(f"{n} students: {check['name']}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
    print()
    print_table(results)
    print(f"\nchecks (every count up to {CLASSROOM} students, and {BIG_CLASS}): "
          + ("all pass" if not failed else f"{len(failed)} failed: {'; '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a playing page's browser CPU goes: per Chromium process and thread, and on the
renderer's main thread by kind of work, for one or more versions of the app side by side.

For each version: its own server, one headless Chromium page playing at default settings
except the tick interval. After a warm-up, an untraced window measures CPU from /proc (every
Chromium thread, so the renderer's main thread, its compositor, the GPU and browser processes
apart, and Playwright's driver on its own) and counts the live view's runs and the refreshes
the page shows (what the figures per refresh divide by); then a traced window records a
Chromium performance trace with V8's sampling profiler and splits the renderer main thread's
time by kind of work (see ``benchmarks.trace_split``); last, a window counts React's commits
and the components each one re-renders, by the Streamlit element they belong to. Tracing
slows the page: compare traced splits with each other, and cores with cores. "embeds" counts
canvases added while playing: a chart embedded anew (its spec or dataset names changed) draws
on a new canvas, one whose data alone changed keeps its own.

A version is ``LABEL=SOURCE``: SOURCE is a directory holding a checkout of the app or a git
revision of this repository (exported to artifacts/variants/LABEL). The first version is the
baseline of the ratios. ``--rounds`` alternates the versions (A B A B ...) so that a machine
busy with something else weighs on each alike.

    python -m benchmarks.browser_profile [--seconds 15] [--tick 0.25] [--out artifacts/trace.json]
        [--variant main=/work/main --variant new=HEAD] [--trace-seconds 8] [--rounds 1]
        [--viewport 390x844]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import streamlit
from playwright.sync_api import Page, sync_playwright

from benchmarks.trace_split import BUCKETS, Chunks, Split, events_of, marks, split
from harness.browser import launch_chromium
from harness.server import (
    ARTIFACTS,
    CLOCK_TICKS,
    ROOT,
    cpu_seconds,
    free_port,
    process_tree,
    start_server,
    stop_server,
)
from harness.visitors import Visitor, button

CATEGORIES = [
    "-*", "toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline",
    "disabled-by-default-devtools.timeline.frame", "v8.execute", "blink.user_timing",
    "disabled-by-default-v8.cpu_profiler", "disabled-by-default-v8.gc", "cc",
]
STATIC_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"

# Counts the live view's runs received (socket messages carrying its timing line, "Last tick"
# or, in older versions, "Last refresh": one per run, whether the run shows one tick or hands a
# player several; or the page's fetches of a live route) and its refreshes shown (the Step
# readout changing in the DOM, as st.metric or the player's readout, or the timing line where a
# page shows no Step); the slower panels sent (the discriminator map's heading in messages: a
# run may carry several panels, each shown in its turn); and canvases added to the page (Vega
# draws a chart it embeds anew on a new canvas: a chart whose data alone changed keeps its
# canvas). Installed before the app's scripts so that it sees the app's own socket.
_COUNTERS = """
(() => {
  const counts = {received: 0, shown: 0, panels: 0, canvases: 0};
  const decoder = new TextDecoder();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        if (!(event.data instanceof ArrayBuffer)) return;
        const text = decoder.decode(event.data);
        if (text.includes('Last refresh') || text.includes('Last tick')) counts.received += 1;
        counts.panels += text.split('Discriminator map').length - 1;
      });
    }
  };
  // A page may also fetch its live refreshes over HTTP (a route of the app at /live/...).
  const nativeFetch = window.fetch;
  window.fetch = async (...args) => {
    const response = await nativeFetch(...args);
    if (String(args[0]?.url ?? args[0]).includes('/live/')) counts.received += 1;
    return response;
  };
  let last = null;
  const look = records => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName === 'CANVAS' || node.querySelector?.('canvas')) counts.canvases += 1;
      }
    }
    const all = selector => [...document.querySelectorAll(selector)].map(e => e.innerText);
    const seen = all('[data-testid=stMetric], [data-testid=labReadout]')
      .find(t => t.startsWith('Step'))
      ?? all('[data-testid=stCaptionContainer], [data-testid=labCaption]')
        .find(t => t.startsWith('Last refresh') || t.startsWith('Last tick'));
    if (seen !== undefined && seen !== last) { last = seen; counts.shown += 1; }
  };
  addEventListener('DOMContentLoaded', () => new MutationObserver(look).observe(
    document, {subtree: true, childList: true, characterData: true}));
  window.__refreshCounts = () => ({...counts});
})();
"""

# Counts React's commits and the components each one rendered, through the hook React offers
# its DevTools (present before React loads, idle until switched on). A fiber rendered in a
# commit if it is not the one the previous commit left (React double-buffers fibers; a subtree
# React skipped keeps its old fibers) and React marked it as having done work.
_REACT_COMMITS = """
(() => {
  const stats = {on: false, commits: 0, fibers: 0, rendered: 0, byElement: {}};
  let previous = new WeakSet();
  const COMPONENTS = new Set([0, 1, 11, 14, 15]);  // function, class, forwardRef, memo
  const BLOCKS = new Set(['stSidebar', 'stVerticalBlock', 'stHorizontalBlock', 'stMain',
                          'stTabs', 'stColumn', 'stExpander']);
  const owner = fiber => {
    for (let f = fiber; f; f = f.return) {
      const node = f.tag === 5 ? f.stateNode : null;
      const id = node?.dataset?.testid;
      if (id === 'stElementContainer') {
        return node.querySelector('[data-testid]')?.dataset.testid ?? 'element';
      }
      if (BLOCKS.has(id)) return `${id} (layout)`;
    }
    return '(app shell)';
  };
  const walk = root => {
    const seen = new WeakSet();
    const todo = [root.current];
    while (todo.length) {
      const f = todo.pop();
      seen.add(f);
      stats.fibers += 1;
      if (!previous.has(f) && COMPONENTS.has(f.tag) && (f.flags & 1)) {
        stats.rendered += 1;
        const who = owner(f);
        stats.byElement[who] = (stats.byElement[who] ?? 0) + 1;
      }
      if (f.child) todo.push(f.child);
      if (f.sibling) todo.push(f.sibling);
    }
    previous = seen;
  };
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, renderers: new Map(), isDisabled: false,
    inject(renderer) { this.renderers.set(this.renderers.size + 1, renderer);
                       return this.renderers.size; },
    checkDCE() {}, onScheduleFiberRoot() {}, onCommitFiberUnmount() {},
    onPostCommitFiberRoot() {}, setStrictMode() {},
    onCommitFiberRoot(id, root) {
      if (!stats.on) { previous = new WeakSet(); return; }
      stats.commits += 1;
      walk(root);
    },
  };
  window.__reactCommits = stats;
})();
"""


# -- versions of the app -----------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    label: str
    root: Path

    @classmethod
    def parse(cls, text: str) -> Variant:
        """``LABEL=SOURCE``: a checkout directory or a git revision of this repository."""
        label, sep, source = text.partition("=")
        if not sep or not label or not source:
            raise argparse.ArgumentTypeError(f"expected LABEL=SOURCE, got {text!r}")
        if (path := Path(source)).is_dir():
            if not (path / "streamlit_app.py").exists():
                raise argparse.ArgumentTypeError(f"{source!r} holds no streamlit_app.py")
            return cls(label, path.resolve())
        try:
            subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{source}^{{commit}}"],
                           cwd=ROOT, check=True, capture_output=True)
        except subprocess.CalledProcessError:
            raise argparse.ArgumentTypeError(
                f"{source!r} is neither a directory nor a git revision") from None
        root = ARTIFACTS / "variants" / label
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", source], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
        return cls(label, root)


# -- CPU by Chromium process and thread, from /proc ---------------------------------------------

def _ticks(path: Path) -> tuple[str, float]:
    """(thread name, CPU seconds) from a /proc stat file."""
    text = path.read_text()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _kind(pid: int) -> str | None:
    """Chromium's process type (browser, renderer, gpu-process, utility...), or None for a
    process that is not Chromium (Playwright's driver)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    # Chromium's children rewrite their command line as one string of space-separated words.
    words = b" ".join(argv).split()
    if not words or b"chromium" not in words[0]:
        return None
    for arg in words[1:]:
        if arg.startswith(b"--type="):
            return arg[7:].decode()
    return "browser"


def thread_cpu(pids: list[int]) -> Counter[str]:
    """CPU seconds so far of every thread of these processes, keyed ``kind/thread`` (threads of
    one name added up); processes that are not Chromium count as ``driver``."""
    cpu: Counter[str] = Counter()
    for pid in pids:
        kind = _kind(pid) or "driver"
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                name, seconds = _ticks(task / "stat")
            except (OSError, ValueError):
                continue  # exited while we looked
            # A process's main thread carries the process's name ("chromium").
            cpu[f"{kind}/{'main' if task.name == str(pid) else name}"] += seconds
    return cpu


GROUPS = {  # report column -> predicate on "kind/thread"
    "renderer main": lambda k: k == "renderer/main",
    "renderer other": lambda k: k.startswith("renderer/") and k != "renderer/main",
    "gpu": lambda k: k.startswith("gpu-process/"),
    "browser+utility": lambda k: k.split("/")[0] in ("browser", "utility", "zygote"),
    "ended threads": lambda k: False,
}


# -- one measurement ------------------------------------------------------------------------

@dataclass
class Measurement:
    label: str
    seconds: float = 0.0
    runs: int = 0
    """Runs of the live view received."""
    shown: int = 0
    """Refreshes shown: what the per-refresh figures divide by."""
    panels: int = 0
    canvases: int = 0
    cpu: Counter[str] = field(default_factory=Counter)
    chromium_cpu: float = 0.0
    """Every Chromium process, threads that ended in the window included (/proc/PID/stat)."""
    driver_cpu: float = 0.0
    server_cpu: float = 0.0
    traced_shown: int = 0
    split: Split = field(default_factory=Split)
    react_runs: int = 0
    react: Counter[str] = field(default_factory=Counter)
    """React commits, fibers walked and components rendered in the React window, and the
    components rendered by the Streamlit element (or layout block) they belong to."""
    errors: list[str] = field(default_factory=list)
    per_round: list[float] = field(default_factory=list)
    """Chromium CPU ms per refresh shown, in each round."""

    def add(self, other: Measurement) -> None:
        self.per_round.append(1000 * other.chromium_seconds() / max(other.shown, 1))
        self.seconds += other.seconds
        self.runs += other.runs
        self.shown += other.shown
        self.panels += other.panels
        self.canvases += other.canvases
        self.cpu.update(other.cpu)
        self.chromium_cpu += other.chromium_cpu
        self.driver_cpu += other.driver_cpu
        self.server_cpu += other.server_cpu
        self.traced_shown += other.traced_shown
        for bucket in BUCKETS:
            self.split.ms[bucket] += other.split.ms[bucket]
        self.split.idle_ms += other.split.idle_ms
        self.split.window_ms += other.split.window_ms
        self.split.functions.update(other.split.functions)
        self.react_runs += other.react_runs
        self.react.update(other.react)
        self.errors += other.errors

    def chromium_seconds(self) -> float:
        return self.chromium_cpu

    def group_seconds(self, group: str) -> float:
        """CPU of a group of live threads; ``ended threads`` is what Chromium's threads that
        ended in the window used (the process totals count them, /proc/PID/task does not)."""
        if group == "ended threads":
            live = sum(v for k, v in self.cpu.items() if not k.startswith("driver/"))
            return max(0.0, self.chromium_cpu - live)
        return sum(v for k, v in self.cpu.items() if GROUPS[group](k))


def _counts(page: Page) -> dict[str, int]:
    return page.evaluate("() => window.__refreshCounts()")


def measure(variant: Variant, tick: float, seconds: float, trace_seconds: float,
            react_seconds: float, warmup: float, chunks: Chunks, out: Path | None,
            viewport: dict[str, int] | None) -> Measurement:
    """Play ``variant`` in one page: CPU untraced for ``seconds``, then a traced window, then
    a window counting React's commits."""
    result = Measurement(variant.label)
    port = free_port()
    proc = start_server(port, ARTIFACTS / f"profile-{variant.label}-server.log",
                        root=variant.root)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                visitor = Visitor.arrive(browser, f"http://127.0.0.1:{port}/", 0, 0,
                                         f"tick_seconds={tick:g}", viewport=viewport,
                                         init_scripts=(_COUNTERS, _REACT_COMMITS)
                                         if react_seconds > 0 else (_COUNTERS,))
                # Ready when the first run is done and Play is on the page (a version under
                # test may show its readouts otherwise than as metrics).
                visitor.page.wait_for_function(
                    "() => document.querySelector('[data-testid=stApp]')?.dataset"
                    ".testScriptState === 'notRunning' && document.querySelector("
                    "'.st-key-play button')", timeout=90_000)
                button(visitor.page, "Play").click()
                visitor.page.wait_for_function(
                    "() => [...document.querySelectorAll('.st-key-pause button')]"
                    ".some(b => b.offsetParent !== null && !b.disabled)", timeout=30_000)
                page = visitor.page
                page.wait_for_timeout(1000 * warmup)
                me = os.getpid()
                server = process_tree(proc.pid)
                others = [p for p in process_tree(me) if p != me and p not in server]
                chromium = [p for p in others if _kind(p)]
                driver = [p for p in others if p not in chromium]
                before, counts = thread_cpu(others), _counts(page)
                totals = [cpu_seconds(pids) for pids in (chromium, driver, server)]
                start = time.monotonic()
                page.wait_for_timeout(1000 * seconds)
                after, counts_after = thread_cpu(others), _counts(page)
                result.seconds = time.monotonic() - start
                result.chromium_cpu, result.driver_cpu, result.server_cpu = (
                    cpu_seconds(pids) - before_ for pids, before_ in zip(
                        (chromium, driver, server), totals, strict=True))
                result.cpu = Counter({k: after[k] - before.get(k, 0.0) for k in after})
                result.runs = counts_after["received"] - counts["received"]
                result.shown = counts_after["shown"] - counts["shown"]
                result.panels = counts_after["panels"] - counts["panels"]
                result.canvases = counts_after["canvases"] - counts["canvases"]
                if trace_seconds > 0:
                    browser.start_tracing(page=page, categories=CATEGORIES)
                    page.wait_for_timeout(1000)  # the profiler's start-up is not the page's
                    first = page.evaluate(
                        "() => { performance.mark('profile:start');"
                        " return window.__refreshCounts(); }")
                    page.wait_for_timeout(1000 * trace_seconds)
                    last = page.evaluate(
                        "() => { performance.mark('profile:end');"
                        " return window.__refreshCounts(); }")
                    trace = json.loads(browser.stop_tracing())
                    result.traced_shown = last["shown"] - first["shown"]
                    events = events_of(trace)
                    window = (marks(events, "profile:start")[-1], marks(events, "profile:end")[-1])
                    result.split = split(trace, chunks, window)
                    if out is not None:
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_text(json.dumps(trace))
                if react_seconds > 0:
                    first = page.evaluate("() => { window.__reactCommits.on = true;"
                                          " return window.__refreshCounts(); }")
                    page.wait_for_timeout(1000 * react_seconds)
                    stats = page.evaluate("() => { window.__reactCommits.on = false;"
                                          " return window.__reactCommits; }")
                    last = _counts(page)
                    result.react_runs = last["received"] - first["received"]
                    result.react = Counter({"commits": stats["commits"],
                                            "fibers": stats["fibers"],
                                            "rendered": stats["rendered"],
                                            **{f"by {k}": v for k, v in
                                               stats["byElement"].items()}})
                result.errors = list(visitor.errors)
            finally:
                browser.close()
    finally:
        stop_server(proc)
    return result


# -- report ---------------------------------------------------------------------------------

def _ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base > 0 else "   - "


def report(results: list[Measurement], top: int) -> None:
    base = results[0]
    print("\nUntraced: cores (CPU seconds per second) and Chromium CPU ms per refresh shown;"
          " runs/s: the live view's runs received; embeds: canvases added (a chart drawn anew)")
    cols = ["runs/s", "shown/s", "panels/s", "embeds", "chromium", *GROUPS, "driver", "server",
            "ms/refr", "rounds min-max", "vs base"]
    print(f"{'version':<14}" + "".join(f"{c:>{max(9, len(c) + 1)}}" for c in cols))
    for r in results:
        per = max(r.shown, 1)
        chromium = r.chromium_seconds()
        cells = [f"{r.runs / r.seconds:.2f}", f"{r.shown / r.seconds:.2f}",
                 f"{r.panels / r.seconds:.2f}", f"{r.canvases}",
                 f"{chromium / r.seconds:.3f}",
                 *(f"{r.group_seconds(g) / r.seconds:.3f}" for g in GROUPS),
                 f"{r.driver_cpu / r.seconds:.3f}",
                 f"{r.server_cpu / r.seconds:.3f}", f"{1000 * chromium / per:.1f}",
                 f"{min(r.per_round):.0f}-{max(r.per_round):.0f}",
                 _ratio(chromium / per, base.chromium_seconds() / max(base.shown, 1))]
        print(f"{r.label:<14}" + "".join(f"{c:>{max(9, len(h) + 1)}}"
                                          for c, h in zip(cells, cols, strict=True)))
    if any(r.react_runs for r in results):
        _report_react(results, top)
    if not any(r.split.window_ms for r in results):
        return
    print("\nTraced: renderer main thread, ms per refresh shown (share of busy time)")
    print(f"{'bucket':<18}" + "".join(f"{r.label:>22}" for r in results)
          + ("" if len(results) == 1 else f"{'vs base':>10}" * (len(results) - 1)))
    rows = [*BUCKETS, "busy", "idle"]
    for bucket in rows:
        line = f"{bucket:<18}"
        values = []
        for r in results:
            per = max(r.traced_shown, 1)
            ms = {"busy": r.split.busy_ms, "idle": r.split.idle_ms}.get(bucket,
                                                                       r.split.ms.get(bucket))
            share = ms / r.split.busy_ms if r.split.busy_ms and bucket != "idle" else 0
            values.append(ms / per)
            line += f"{ms / per:>13.1f} ({share:5.1%})"
        line += "".join(f"{_ratio(v, values[0]):>10}" for v in values[1:])
        print(line)
    print(f"{'refreshes traced':<18}" + "".join(
        f"{f'{r.traced_shown} in {r.split.window_ms / 1000:.1f} s':>22}" for r in results))
    for r in results:
        per = max(r.traced_shown, 1)
        print(f"\n{r.label}: busiest JavaScript (self ms per refresh; bucket, chunk, function)")
        for (bucket, chunk, where), ms in r.split.functions.most_common(top):
            print(f"  {ms / per:7.2f}  {bucket:<16} {chunk:<22} {where}")


def _report_react(results: list[Measurement], top: int) -> None:
    print("\nReact: commits and components rendered per run of the live view received")
    print(f"{'version':<14}{'commits':>10}{'fibers/commit':>15}{'renders/commit':>16}"
          f"{'renders':>10}  most renders by element or layout block")
    for r in results:
        per, commits = max(r.react_runs, 1), max(r.react["commits"], 1)
        owners = sorted(((k[3:], v) for k, v in r.react.items() if k.startswith("by ")),
                        key=lambda kv: -kv[1])[:top]
        print(f"{r.label:<14}{r.react['commits'] / per:>10.1f}"
              f"{r.react['fibers'] / commits:>15.0f}{r.react['rendered'] / commits:>16.0f}"
              f"{r.react['rendered'] / per:>10.0f}  "
              + ", ".join(f"{k} {v / per:.0f}" for k, v in owners[:6]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="untraced window")
    parser.add_argument("--trace-seconds", type=float, default=8.0, help="traced window (0: none)")
    parser.add_argument("--react-seconds", type=float, default=4.0,
                        help="window counting React commits (0: none)")
    parser.add_argument("--tick", type=float, default=0.25)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "trace.json",
                        help="trace file; with several versions, one per version (-LABEL)")
    parser.add_argument("--variant", type=Variant.parse, action="append",
                        help="LABEL=SOURCE, repeatable; default: this checkout")
    parser.add_argument("--rounds", type=int, default=1,
                        help="untraced windows per version; the trace and React windows are "
                        "taken in the first round only unless --trace-every-round")
    parser.add_argument("--trace-every-round", action="store_true")
    parser.add_argument("--viewport", default=None, help="WIDTHxHEIGHT (default: desktop)")
    parser.add_argument("--top", type=int, default=12, help="busiest functions shown")
    args = parser.parse_args(argv)
    variants = args.variant or [Variant("this", ROOT)]
    if len({v.label for v in variants}) != len(variants):
        parser.error("version labels must differ")
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds positive")
    viewport = None
    if args.viewport:
        try:
            width, height = (int(n) for n in args.viewport.lower().split("x"))
        except ValueError:
            parser.error(f"--viewport: expected WIDTHxHEIGHT, got {args.viewport!r}")
        viewport = {"width": width, "height": height}
    chunks = Chunks.of_streamlit(STATIC_JS)
    totals = {v.label: Measurement(v.label) for v in variants}
    for round_ in range(args.rounds):
        for v in variants:
            out = args.out if len(variants) == 1 else args.out.with_stem(
                f"{args.out.stem}-{v.label}")
            first = round_ == 0 or args.trace_every_round
            r = measure(v, args.tick, args.seconds, args.trace_seconds if first else 0,
                        args.react_seconds if first else 0, args.warmup, chunks,
                        out if round_ == 0 else None, viewport)
            print(f"round {round_ + 1}, {v.label}: {r.shown} refreshes shown ({r.runs} runs) "
                  f"in {r.seconds:.1f} s, "
                  f"Chromium {r.chromium_seconds() / r.seconds:.3f} cores", flush=True)
            totals[v.label].add(r)
    results = list(totals.values())
    report(results, args.top)
    failed = [f"{r.label}: {e}" for r in results for e in r.errors]
    if failed:
        print("\nThe page reported errors:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

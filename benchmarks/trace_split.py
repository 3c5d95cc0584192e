"""Where a page's renderer main thread spends its time, from a Chromium performance trace.

The trace must hold the V8 sampling profiler (category ``disabled-by-default-v8.cpu_profiler``)
and the DevTools timeline events (``devtools.timeline``, ``disabled-by-default-devtools.timeline``,
``disabled-by-default-v8.gc``). Every profiler sample of the main thread is one slice of time;
it is put in one bucket:

- inside a native timeline event of known kind (style, layout, paint and compositing, garbage
  collection), that kind: Blink's own work, even when script forced it;
- a JavaScript stack: the bundle chunk of its innermost frame that has a script URL (a native
  function such as ``JSON.parse`` counts for the chunk that called it): Vega's chunks, Arrow or
  protobuf decoding, or anything else of the app bundle (React, Streamlit's element code,
  emotion styles);
- V8's ``(garbage collector)``: garbage collection; ``(idle)``: not counted;
- anything else (``(program)``: message dispatch, HTML parsing, the tracing itself): other.

Using the samples for every bucket keeps the buckets disjoint and their sum the main thread's
busy time; the timeline events only say what native work a sample fell in.

Samples are taken on a wall clock: on a machine busy with other work, the thread is sometimes
descheduled while a sample's stack stands, and that wait would count as work. Each sample is
therefore weighed by the share of CPU time in the wall time (``tdur / dur``) of the innermost
timeline event around it that lasts a millisecond or more, so the buckets are CPU time,
comparable with what /proc says of the thread.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = dict[str, Any]

BUCKETS = ("streamlit/react", "vega", "decode", "components", "style+layout", "paint+composite",
           "gc", "other")
"""Report order. ``decode`` is protobuf and Arrow; ``components`` the scripts of custom
components (``st.components.v2`` loads them from ``blob:`` URLs); ``streamlit/react`` every
other chunk of the app bundle (React, Streamlit's elements, emotion styles, react-aria)."""

# Innermost timeline event names -> bucket, for the native work they stand for.
NATIVE = {
    "UpdateLayoutTree": "style+layout", "RecalculateStyles": "style+layout",
    "Layout": "style+layout", "UpdateLayerTree": "style+layout",
    "Paint": "paint+composite", "PrePaint": "paint+composite", "Layerize": "paint+composite",
    "PaintImage": "paint+composite", "CompositeLayers": "paint+composite",
    "UpdateLayer": "paint+composite", "LayerTreeHost::DoUpdateLayers": "paint+composite",
    "ProxyMain::BeginMainFrame::commit": "paint+composite", "Commit": "paint+composite",
    "ProxyMain::BeginMainFrame": "paint+composite", "HitTest": "style+layout",
    "Rasterize": "paint+composite", "RasterTask": "paint+composite",
    "MinorGC": "gc", "MajorGC": "gc", "BlinkGC.AtomicPhase": "gc",
}
# Timeline events that run script: a sample inside one of these (and no native event nested
# deeper) is attributed by its JavaScript stack.
SCRIPT_ENTRIES = {"FunctionCall", "EvaluateScript", "v8.callFunction", "RunMicrotasks",
                  "TimerFire", "FireAnimationFrame", "EventDispatch", "v8.run", "V8.Execute",
                  "v8.compile", "v8.evaluateModule"}
GC_PREFIXES = ("V8.GC", "BlinkGC")


@dataclass(frozen=True)
class Chunks:
    """Which bundle chunks (script file names) belong to Vega and which decode messages."""

    vega: frozenset[str]
    decode: frozenset[str]

    def bucket(self, url: str) -> str:
        if url.startswith("blob:"):
            return "components"
        name = url.rsplit("/", 1)[-1]
        if name in self.vega:
            return "vega"
        if name in self.decode:
            return "decode"
        return "streamlit/react"

    @classmethod
    def of_streamlit(cls, static_js: Path) -> Chunks:
        """Read the chunk graph of an installed Streamlit's frontend: Vega is what its
        ``embed.*.js`` (vega, vega-lite, vega-embed) and the expression interpreter import;
        decoding is protobuf and the Arrow chunks that ``Quiver.*.js`` imports."""
        def imports(name: str) -> set[str]:
            text = (static_js / name).read_text(errors="replace")
            return set(re.findall(r'(?:from|import)\s*"\./([^"]+)"', text))

        def closure(prefix: str) -> set[str]:
            seen: set[str] = set()
            todo = [p.name for p in static_js.glob(f"{prefix}.*.js")]
            while todo:
                name = todo.pop()
                if name not in seen and (static_js / name).exists():
                    seen.add(name)
                    todo.extend(imports(name))
            return seen

        runtime = {p.name for p in static_js.glob("rolldown-runtime.*.js")}
        vega = (closure("embed") | closure("vega-interpreter")) - runtime
        arrow_parts = ("Quiver.", "recordbatch.", "serialization.", "unzip.", "zip.",
                       "arrowFormatUtils.", "protobuf.")
        decode = {n for n in closure("Quiver") | closure("protobuf")
                  if n.startswith(arrow_parts)}
        return cls(frozenset(vega), frozenset(decode))


@dataclass
class Split:
    """Main-thread time in one window, by bucket, with the busiest functions."""

    ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0.0))
    idle_ms: float = 0.0
    window_ms: float = 0.0
    functions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Self time by (bucket, chunk, function name) for JavaScript samples."""

    @property
    def busy_ms(self) -> float:
        return sum(self.ms.values())


def events_of(trace: Any) -> list[Event]:
    return trace["traceEvents"] if isinstance(trace, dict) else list(trace)


def main_thread(events: list[Event]) -> tuple[int, int]:
    """(pid, tid) of the profiled renderer main thread: where the V8 profile was taken."""
    for e in events:
        if e.get("name") == "Profile" and e.get("ph") == "P":
            return e["pid"], e["tid"]
    for e in events:
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain":
            return e["pid"], e["tid"]
    raise ValueError("the trace has no renderer main thread (was the V8 profiler recorded?)")


def marks(events: list[Event], name: str) -> list[float]:
    """Timestamps (µs, trace clock) of the page's ``performance.mark(name)`` calls."""
    return sorted(e["ts"] for e in events
                  if e.get("name") == name and "blink.user_timing" in e.get("cat", ""))


@dataclass
class Profile:
    """The V8 sampling profile of one thread: its call-tree nodes and its samples."""

    nodes: dict[tuple[str, int], dict] = field(default_factory=dict)
    samples: list[tuple[float, float, tuple[str, int]]] = field(default_factory=list)
    """(time µs, weight µs, node key): a sample's weight is the time until the next sample,
    the time its stack stood for."""

    @classmethod
    def of(cls, events: list[Event], pid: int, tid: int) -> Profile:
        profile = cls()
        clock: dict[str, float] = {}
        for e in events:
            if e.get("pid") == pid and e.get("tid") == tid and e.get("name") == "Profile":
                clock[e["id"]] = e["args"]["data"]["startTime"]
        times: list[tuple[float, tuple[str, int]]] = []
        for e in events:  # chunks come in order; the profiler thread emits them
            if e.get("pid") != pid or e.get("name") != "ProfileChunk" or e["id"] not in clock:
                continue
            data = e["args"]["data"]
            cpu = data.get("cpuProfile", {})
            for node in cpu.get("nodes", []):
                profile.nodes[e["id"], node["id"]] = node
            for node_id, delta in zip(cpu.get("samples", []), data.get("timeDeltas", []),
                                      strict=True):
                clock[e["id"]] += delta
                times.append((clock[e["id"]], (e["id"], node_id)))
        times.sort()
        ends = [t for t, _ in times[1:]]
        profile.samples = [(t, (end - t) if end is not None else 0.0, key) for (t, key), end
                           in zip(times, [*ends, None][:len(times)], strict=True)]
        return profile

    def frame(self, key: tuple[str, int]) -> dict:
        return self.nodes[key]["callFrame"]

    def script_url(self, key: tuple[str, int]) -> str | None:
        """The script URL of the innermost frame of the stack that has one."""
        node: dict | None = self.nodes[key]
        while node is not None:
            if url := node["callFrame"].get("url"):
                return url
            parent = node.get("parent")
            node = self.nodes.get((key[0], parent)) if parent is not None else None
        return None


Span = tuple[float, float, str, float]
"""A complete timeline event: start, end (µs), name, CPU share of its wall time."""
LONG_US = 1000.0


def _timeline(events: list[Event], pid: int, tid: int) -> list[Span]:
    """Complete events of the thread, outer before inner."""
    spans = []
    for e in events:
        if e.get("ph") != "X" or e.get("pid") != pid or e.get("tid") != tid:
            continue
        dur = e.get("dur", 0)
        share = min(1.0, e["tdur"] / dur) if dur > 0 and "tdur" in e else -1.0
        spans.append((e["ts"], e["ts"] + dur, e["name"], share))
    spans.sort(key=lambda s: (s[0], -s[1]))
    return spans


def _cpu_share(stack: list[Span]) -> float:
    """CPU share of wall time around a sample: of the innermost event of a millisecond or more
    that knows its thread time (1 where none does)."""
    for start, end, _, share in reversed(stack):
        if share >= 0 and end - start >= LONG_US:
            return share
    return 1.0


def _native_bucket(stack: list[Span]) -> str | None:
    """The bucket of the innermost native event enclosing a sample, or None where script
    (or nothing known) is innermost."""
    for _, _, name, _ in reversed(stack):
        if name in NATIVE:
            return NATIVE[name]
        if name.startswith(GC_PREFIXES):
            return "gc"
        if name in SCRIPT_ENTRIES:
            return None
    return None


def split(trace: Any, chunks: Chunks, window: tuple[float, float] | None = None) -> Split:
    """Main-thread time of the profiled renderer, by bucket, within ``window`` (µs)."""
    events = events_of(trace)
    pid, tid = main_thread(events)
    spans = _timeline(events, pid, tid)
    profile = Profile.of(events, pid, tid)
    if not profile.samples:
        raise ValueError("the trace holds no V8 profiler samples of the renderer main thread")
    lo, hi = window if window is not None else (profile.samples[0][0], profile.samples[-1][0])
    result = Split(window_ms=(hi - lo) / 1000)
    stack: list[Span] = []
    nxt = 0
    for t, weight, key in profile.samples:
        while nxt < len(spans) and spans[nxt][0] <= t:
            while stack and stack[-1][1] <= spans[nxt][0]:
                stack.pop()
            stack.append(spans[nxt])
            nxt += 1
        while stack and stack[-1][1] <= t:
            stack.pop()
        if not lo <= t < hi:
            continue
        ms = weight / 1000 * _cpu_share(stack)
        frame = profile.frame(key)
        name = frame.get("functionName", "")
        if name == "(idle)":
            result.idle_ms += ms
            continue
        native = _native_bucket(stack)
        if native is not None:
            result.ms[native] += ms
        elif name == "(garbage collector)":
            result.ms["gc"] += ms
        elif (url := profile.script_url(key)) is None:
            result.ms["other"] += ms
        else:
            bucket = chunks.bucket(url)
            result.ms[bucket] += ms
            chunk = url.rsplit("/", 1)[-1].split(".", 1)[0]
            where = (f"{name or '(anonymous)'}@{frame.get('lineNumber')}:"
                     f"{frame.get('columnNumber')}" if frame.get("url") else f"{name} (native)")
            result.functions[bucket, chunk, where] += ms
    return result


def thread_busy_ms(trace: Any, thread_names: Iterable[str] = ("CrRendererMain",)) -> float:
    """Sum of top-level complete events on threads of these names (a cross-check of the
    sampled busy time; it counts the same work from the timeline's side)."""
    events = events_of(trace)
    wanted = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
              and e.get("args", {}).get("name") in set(thread_names)}
    busy, end = 0.0, {}
    for e in sorted((e for e in events if e.get("ph") == "X"
                     and (e.get("pid"), e.get("tid")) in wanted), key=lambda e: e["ts"]):
        key = (e["pid"], e["tid"])
        if e["ts"] >= end.get(key, -1.0):
            busy += e.get("dur", 0)
            end[key] = e["ts"] + e.get("dur", 0)
    return busy / 1000

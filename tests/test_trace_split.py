"""How a Chromium trace's main-thread samples are put into kinds of work
(``benchmarks.trace_split``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit

from benchmarks.trace_split import Chunks, split

PID, TID = 10, 11
CHUNKS = Chunks(vega=frozenset({"embed.abc.js"}), decode=frozenset({"protobuf.def.js"}))
URL = "http://127.0.0.1:8501/static/js/"


def frame(node_id: int, name: str, url: str | None = None, parent: int | None = None) -> dict:
    call = {"functionName": name, "scriptId": 1 if url else 0, "lineNumber": 0,
            "columnNumber": node_id}
    if url:
        call["url"] = URL + url
    node = {"id": node_id, "callFrame": call}
    if parent is not None:
        node["parent"] = parent
    return node


NODES = [
    frame(1, "(root)"),
    frame(2, "(idle)", parent=1),
    frame(3, "(program)", parent=1),
    frame(4, "(garbage collector)", parent=1),
    frame(5, "render", "react-dom.x.js", parent=1),
    frame(6, "evaluate", "embed.abc.js", parent=5),  # Vega called from React
    frame(7, "JSON.parse", parent=6),  # a native function called by Vega's code
    frame(8, "decode", "protobuf.def.js", parent=1),
    frame(9, "draw", parent=1),
]
NODES[-1]["callFrame"]["url"] = "blob:http://127.0.0.1:8501/1f0c"  # a custom component


def trace(samples: list[tuple[int, int]], spans: list[dict], start: int = 0) -> dict:
    """A trace of one renderer main thread: (node id, µs until the next sample) samples from
    ``start`` on, and its timeline ``spans``."""
    events = [
        {"ph": "M", "name": "thread_name", "pid": PID, "tid": TID,
         "args": {"name": "CrRendererMain"}},
        {"ph": "P", "name": "Profile", "pid": PID, "tid": TID, "id": "0x1",
         "args": {"data": {"startTime": start}}},
        {"ph": "P", "name": "ProfileChunk", "pid": PID, "tid": TID + 1, "id": "0x1",
         "args": {"data": {"cpuProfile": {"nodes": NODES,
                                          "samples": [n for n, _ in samples]},
                           "timeDeltas": [0, *(d for _, d in samples[:-1])][:len(samples)]}}},
    ]
    for span in spans:
        events.append({"ph": "X", "pid": PID, "tid": TID, **span})
    return {"traceEvents": events}


def test_javascript_counts_for_the_chunk_of_its_innermost_frame_with_a_script() -> None:
    # React 1 ms, Vega's own code 2 ms, a native function Vega called 3 ms, protobuf 4 ms.
    result = split(trace([(5, 1000), (6, 2000), (7, 3000), (8, 4000), (2, 0)], [
        {"name": "FunctionCall", "ts": 0, "dur": 10_000, "tdur": 10_000}]), CHUNKS)
    assert result.ms["streamlit/react"] == pytest.approx(1)
    assert result.ms["vega"] == pytest.approx(5)
    assert result.ms["decode"] == pytest.approx(4)
    assert result.busy_ms == pytest.approx(10)


def test_a_custom_components_own_script_is_told_from_streamlits_bundle() -> None:
    result = split(trace([(9, 2000), (5, 1000), (2, 0)], [
        {"name": "FunctionCall", "ts": 0, "dur": 3000, "tdur": 3000}]), CHUNKS)
    assert result.ms["components"] == pytest.approx(2)
    assert result.ms["streamlit/react"] == pytest.approx(1)


def test_native_work_inside_layout_or_paint_counts_as_such_even_when_script_forced_it() -> None:
    result = split(trace([(5, 1000), (5, 2000), (3, 3000), (2, 0)], [
        {"name": "FunctionCall", "ts": 0, "dur": 3000, "tdur": 3000},
        {"name": "Layout", "ts": 1000, "dur": 2000, "tdur": 2000},  # forced by script
        {"name": "Paint", "ts": 3000, "dur": 3000, "tdur": 3000},
    ]), CHUNKS)
    assert result.ms["streamlit/react"] == pytest.approx(1)
    assert result.ms["style+layout"] == pytest.approx(2)
    assert result.ms["paint+composite"] == pytest.approx(3)


def test_garbage_collection_idle_time_and_unknown_native_work_are_told_apart() -> None:
    result = split(trace([(4, 1000), (2, 5000), (3, 2000), (2, 0)], [
        {"name": "RunTask", "ts": 6000, "dur": 2000, "tdur": 2000}]), CHUNKS)
    assert result.ms["gc"] == pytest.approx(1)
    assert result.ms["other"] == pytest.approx(2)
    assert result.idle_ms == pytest.approx(5)
    assert result.busy_ms == pytest.approx(3)


def test_only_samples_inside_the_window_count() -> None:
    samples = [(5, 1000)] * 10 + [(2, 0)]
    result = split(trace(samples, [], start=100_000), CHUNKS, window=(103_000, 106_000))
    assert result.ms["streamlit/react"] == pytest.approx(3)
    assert result.window_ms == pytest.approx(3)


def test_time_the_thread_spent_descheduled_is_not_counted_as_work() -> None:
    # A 4 ms task that had the CPU for 1 ms of it: its samples weigh a quarter.
    result = split(trace([(6, 2000), (6, 2000), (2, 0)], [
        {"name": "FunctionCall", "ts": 0, "dur": 4000, "tdur": 1000}]), CHUNKS)
    assert result.ms["vega"] == pytest.approx(1)


def test_a_trace_without_profiler_samples_is_refused() -> None:
    empty = trace([], [])
    with pytest.raises(ValueError, match="no V8 profiler samples"):
        split(empty, CHUNKS)


def test_the_installed_streamlit_bundle_puts_vega_and_decoding_in_their_chunks() -> None:
    static = Path(streamlit.__file__).parent / "static" / "static" / "js"
    chunks = Chunks.of_streamlit(static)
    assert any(name.startswith("embed.") for name in chunks.vega)
    assert any(name.startswith("vega-interpreter.") for name in chunks.vega)
    assert any(name.startswith("protobuf.") for name in chunks.decode)
    assert any(name.startswith("Quiver.") for name in chunks.decode)
    assert not any(name.startswith(("react-dom.", "index.")) for name in chunks.vega
                   | chunks.decode)

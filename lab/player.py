"""The player: one component that shows the live view's frames in the browser, one a period.

Each run of the live view hands the player the frames it recorded (``lab/frames.py``). In the
browser the player (``player.js``) keeps one Vega view per chart, drawn by Streamlit's own Vega
bundle in Streamlit's chart theme, and shows the frames at the tick interval: it swaps each
frame's datasets into the existing views and rewrites the readouts' text, with no re-render of
the page in between. A frame that arrives while earlier ones are still waiting is queued behind
them; a page that falls behind leaves frames out rather than play faster, and one whose frames
take more than half a tick interval to show (a slow or busy machine) shows every second,
third... frame at its own time, so it keeps time and stays responsive. A batch marked
``replace`` (the run paused, was reset, changed...) is shown at once.

A second mount of the player draws the panels below (``panels``): blocks of headings, captions
and charts (``lab/blocks.py``) whose charts take new data in place. A run hands it the panels it
took, about one a second, each with the seconds after which to show it.

Under ``AppTest`` there is no browser to run the player's script: the page draws each run's
last frame and the panels with Streamlit's own elements instead (``st.metric``,
``st.vega_lite_chart``), one frame a run, as the page did before it had a player (``plays``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from streamlit import config

from gan_core.views import charts as ch

from . import blocks
from .chart import chart
from .frames import Chart, Frame

CURVES_TITLE = "The generator's curves inside the bounds"
_HERE = Path(__file__).parent
_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
_VEGA = next(iter(sorted(_STATIC_JS.glob("loadVegaEmbed.*.js"))), None)
"""Streamlit's lazily loaded chunk that loads Vega-Embed and its expression interpreter: the
player draws with the very Vega that draws ``st.vega_lite_chart``."""
_PLAYER = st.components.v2.component(
    "gan_curve_lab.player", js=(_HERE / "player.js").read_text(),
    css=(_HERE / "player.css").read_text(), isolate_styles=False)
CHARTS = ("curves", "distribution")
PLAYER, STATUS = "player", "status_line"
"""Keys of the player's mounts: the live view, and its status line under the controls."""


def plays() -> bool:
    """Can the player run here? Not under ``AppTest``, which runs the script with no browser:
    it sets Streamlit's hidden option ``global.appTest`` while it runs a script (Streamlit's
    own elements read it to behave as a test needs). Nor where this Streamlit has no
    Vega chunk to draw with."""
    return not config.get_option("global.appTest") and _VEGA is not None


def show(frames: list[Frame], *, replace: bool, period: float, every: float, batch: int,
         on_shown: Callable[[], None] | None = None) -> None:
    """Show ``frames`` (oldest first), ``period`` seconds apart; with ``replace``, drop the
    frames still waiting and start now. The next batch is due in ``every`` seconds (0: none
    is coming, the run is paused). When the browser shows (or leaves out) a frame marked
    ``sync``, it calls back ``on_shown`` (``shown_serial`` says which frame)."""
    if not frames:
        raise ValueError("a batch holds at least one frame")
    if not plays():
        _draw(frames[-1])
        return
    _mount(PLAYER, payload(frames, replace=replace, period=period, every=every, batch=batch),
           on_shown_change=on_shown)


def shown_serial() -> int | None:
    """The serial of the ``sync`` frame the browser last said it showed, in the callback."""
    value = st.session_state.get(PLAYER)
    shown = value.get("shown") if isinstance(value, dict) else getattr(value, "shown", None)
    return shown if isinstance(shown, int) else None


def status() -> None:
    """Where the player writes the status line (and note) of the frame it shows: under the
    controls, with the live view's frames below."""
    _mount(STATUS, {"kind": "status"})


def panels(shots: list[tuple[float, int, list[blocks.Block]]]) -> None:
    """Draw each of ``shots`` (``(seconds, step, blocks)``, in order) that many seconds from
    now: by the player, or, where it cannot run, the last as Streamlit elements. ``step`` is the
    run's step they show (the player marks its panels with it: ``data-step``)."""
    if not shots:
        raise ValueError("panels to draw: at least one")
    if not plays():
        blocks.draw(shots[-1][2])
        return
    snapshots, said = [], {}
    for at, step, shown in shots:
        charts: dict[str, blocks.Chart] = {}
        layout = blocks.layout(shown, charts)
        sent = {}
        for key, c in charts.items():
            spec = json.dumps(c.spec)
            # Said once a run: a later snapshot leaves out (None) the spec the one before sent.
            sent[key] = {"spec": None if said.get(key) == spec else spec,
                         "data": _columns_of(c.data)}
            said[key] = spec
        snapshots.append({"at": at, "step": step, "layout": layout, "charts": sent})
    _mount("panels", {"kind": "panels", "vega": _VEGA.name if _VEGA is not None else None,
                      "snapshots": snapshots})


def _mount(key: str, data: dict[str, Any], **callbacks: Callable[[], None] | None) -> None:
    """Mount the player's script with ``data`` as JSON in bytes. Handed a dictionary, Streamlit
    writes it as JSON and then again, keys sorted, to tell whether it changed; handed bytes, it
    hashes them. The live view's runs hand it some 80 KB a run, so that is a tenth of what a
    run costs the server apart from its training (``benchmarks/run_cost.py``)."""
    _PLAYER(key=key, data=json.dumps(data).encode(), **callbacks)


def payload(frames: list[Frame], *, replace: bool, period: float, every: float,
            batch: int) -> dict[str, Any]:
    """What the player receives: the charts' specs and the first frame's datasets once, and
    for each frame its readouts, lines and the data columns that differ from the first's.
    Frames whose charts or readouts look otherwise than the last frame's (a ghost or forces
    that came or went) are left out: a batch has one look."""
    last = frames[-1]
    frames = [f for f in frames if _look(f) == _look(last)]
    first = frames[0]
    charts = {name: {"spec": json.dumps(_chart(first, name).spec),
                     "base": {set_: _columns(columns)
                              for set_, columns in _chart(first, name).data.items()}}
              for name in CHARTS}
    return {
        "batch": batch,
        "replace": replace,
        "period": period,
        "every": every,
        "vega": _VEGA.name if _VEGA is not None else None,
        "heading": CURVES_TITLE,
        "readouts": [{"label": r.label, "help": r.help} for r in last.readouts],
        "charts": charts,
        "frames": [{"n": f.serial, "step": f.step, "values": [r.value for r in f.readouts],
                    "deltas": [r.delta for r in f.readouts], "tick": f.tick, "notes": f.notes,
                    "status": f.status, "note": f.note, "sync": f.sync,
                    "data": {name: _changed(_chart(first, name).data, _chart(f, name).data)
                             for name in CHARTS}}
                   for f in frames],
    }


def _chart(frame: Frame, name: str) -> Chart:
    return frame.curves if name == "curves" else frame.distribution


def _look(frame: Frame) -> tuple:
    return frame.curves.spec, frame.distribution.spec, [r.label for r in frame.readouts]


def _changed(base: ch.Datasets, data: ch.Datasets) -> dict[str, dict[str, list]]:
    """The columns of ``data`` that differ from ``base``'s, by dataset."""
    out: dict[str, dict[str, list]] = {}
    for name, columns in data.items():
        old = base.get(name, {})
        differ = {c: _values(v) for c, v in columns.items()
                  if c not in old or (old[c] is not v and not np.array_equal(old[c], v))}
        if differ:
            out[name] = differ
    return out


def _columns_of(data: ch.Datasets) -> dict[str, dict[str, list]]:
    return {name: _columns(columns) for name, columns in data.items()}


def _columns(columns: dict[str, np.ndarray]) -> dict[str, list]:
    return {c: _values(v) for c, v in columns.items()}


def _values(column: np.ndarray) -> list:
    """A column as JSON: floats to 4 decimals (a chart draws no finer), anything not finite as
    null (JSON has no NaN; Vega skips a missing value)."""
    if column.dtype.kind != "f":
        return column.tolist()
    values = np.round(column.astype(np.float64), 4)
    if np.isfinite(values).all():
        return values.tolist()
    return [v if np.isfinite(v) else None for v in values.tolist()]


def _draw(frame: Frame) -> None:
    """The frame with Streamlit's own elements."""
    # A row that wraps on a narrow screen instead of stacking the readouts.
    row = st.container(horizontal=True, gap="medium", key="readouts")
    for readout in frame.readouts:
        row.metric(readout.label, readout.value, delta=readout.delta or None,
                   delta_color="off", help=readout.help)
    st.caption(frame.tick)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"##### {CURVES_TITLE}")
        chart(frame.curves.spec, frame.curves.data, "curves")
        for note in frame.notes:
            st.caption(note)
    with right:
        chart(frame.distribution.spec, frame.distribution.data, "distribution")

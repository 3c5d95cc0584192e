"""Live refreshes served over HTTP: the page's live component fetches a chunk of training and
the new readouts and chart data from this route, so a refresh reruns no Streamlit script and
re-renders none of Streamlit's React tree.

PROTOTYPE, for measuring a playing page's browser cost (benchmarks/browser_profile.py): a
session is found by a random token that the page hands its component; the crowd's pacing and
divergence reach the page through the response (the component stops polling and reruns the
page when training stops).
"""

from __future__ import annotations

import secrets
import time
import weakref
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse

SESSIONS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


def register(session: Any) -> str:
    """The token under which the page's component fetches refreshes of ``session``."""
    token = getattr(session, "_live_token", None)
    if token is None:
        token = session._live_token = secrets.token_urlsafe(16)
    SESSIONS[token] = session
    return token


def columns(data: dict) -> dict:
    return {name: {c: (np.round(v.astype(np.float64), 4).tolist() if v.dtype.kind == "f"
                       else v.tolist()) for c, v in cols.items()} for name, cols in data.items()}


BUILD = {}  # set by the page: build(session) -> (readouts, charts); panels(session, dim, pos)
PANELS: dict[str, tuple[int, float]] = {}  # token -> the latent explorer's direction and position
PANEL_SECONDS = 1.0
_panels_sent: dict[str, float] = {}  # token -> when its panels' data was last sent


def refresh(request: Request) -> JSONResponse:
    session = SESSIONS.get(request.path_params["token"])
    if session is None:
        return JSONResponse({"error": "unknown session"}, status_code=404)
    started = time.perf_counter()
    steps = session.tick()
    token = request.path_params["token"]
    panels = None
    with session.lock:
        readouts, charts = BUILD["build"](session)
        now = time.monotonic()
        if "panels" in BUILD and now - _panels_sent.get(token, 0.0) >= PANEL_SECONDS:
            _panels_sent[token] = now
            dim, pos = PANELS.get(token, (0, 0.0))
            panels = {where: {key: {"datasets": columns(data)} for key, _, data, _ in group}
                      for where, group in BUILD["panels"](session, dim, pos).items()}
    elapsed = time.perf_counter() - started
    return JSONResponse({
        "panels": panels,
        "playing": session.playing, "period": session.period,
        "caption": f"Last refresh: {steps} training steps, readouts and curves in "
                   f"{1000 * elapsed:.0f} ms on the server.",
        "readouts": [{"label": k, "value": v, "help": h} for k, v, h in readouts],
        "charts": {key: {"datasets": columns(data)} for key, _, data, _ in charts}})

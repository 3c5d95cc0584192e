"""The drawing pad of your data: one component (``drawing.js``) that draws a band's two bounds,
or a few curves, on the curve chart's grid, with a mouse, a pen or a finger.

It shows the drawing Python hands it and sends back the drawing the visitor makes, as the
state value ``drawing`` = ``{version, edit, curves}`` when a stroke ends or a button changes
it. ``version`` is the number of the drawing Python sent: a pad still showing an older one
(the number of points changed meanwhile) sends a drawing Python no longer takes. Values snap
to the levels a link carries (``gan_core.files.link_data``), so what is drawn is what a link
shares.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from gan_core.files.link_data import LOWEST, MAX_DRAWN_CURVES, STEP
from gan_core.views.charts import LOWER, UPPER

_HERE = Path(__file__).parent
_PAD = st.components.v2.component(
    "gan_curve_lab.drawing", js=(_HERE / "drawing.js").read_text(),
    css=(_HERE / "drawing.css").read_text(), isolate_styles=False)
Y_RANGE = (-2.0, 5.0)
"""The values a drawing reaches: the tutorial's curves (0 to 3) with room on either side."""
HEIGHT = 300


def pad(key: str, mode: str, x: np.ndarray, curves: np.ndarray, defaults: np.ndarray,
        version: int, noise: float, on_change: Callable[[], None]) -> None:
    """The pad, showing ``curves`` ``(k, n)`` at ``x``: a band (``mode`` "band": lower and
    upper) or drawn curves (``mode`` "curves", blurred by ``noise`` on the pad)."""
    data: dict[str, Any] = {
        "mode": mode, "x": [float(v) for v in x], "curves": np.asarray(curves).tolist(),
        "defaults": np.asarray(defaults).tolist(), "version": version, "noise": noise,
        "y_range": list(Y_RANGE), "lowest": LOWEST, "step": STEP, "height": HEIGHT,
        "max_curves": 2 if mode == "band" else MAX_DRAWN_CURVES,
        "names": ["lower", "upper"], "colours": [LOWER, UPPER]}
    _PAD(key=key, data=data, on_drawing_change=on_change)


def drawn(key: str) -> dict[str, Any] | None:
    """What the pad sent last: ``{version, edit, curves}``, or None."""
    value = st.session_state.get(key)
    drawing = value.get("drawing") if isinstance(value, dict) or hasattr(value, "get") else None
    return drawing if isinstance(drawing, dict) else None

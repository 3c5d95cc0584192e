"""The live view's fast charts as one Streamlit component whose Vega views update in place.

PROTOTYPE, for measuring a playing page's browser cost (benchmarks/browser_profile.py).

Each refresh sends the readouts and the charts' datasets (and their unchanging specs) as one
element; the component keeps one Vega view per chart, drawn by Streamlit's own Vega bundle
(its lazily loaded ``loadVegaEmbed`` chunk, with the expression interpreter Streamlit uses),
and swaps changed datasets into it. With ``poll``, the component fetches refreshes itself from
the app's live route instead (see ``live_feed``). Under ``AppTest`` (no browser) the readouts
are ``st.metric`` elements and the charts ``st.vega_lite_chart`` elements.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit import config

from gan_core import charts as ch

_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
_LOADER = next(iter(sorted(_STATIC_JS.glob("loadVegaEmbed.*.js"))), None)
_CSS = """
.gan-readouts { display: flex; flex-wrap: wrap; gap: 1rem; flex: 1 1 100%; order: -2; }
.gan-metric { flex: 1 1 8rem; font-family: var(--st-font); color: var(--st-text-color); }
.gan-metric-label { font-size: 0.875rem; line-height: 1.6; }
.gan-metric-value { font-size: 2.25rem; line-height: 1.6; padding-bottom: 0.25rem; }
.gan-caption { flex: 1 1 100%; font-family: var(--st-font); font-size: 0.875rem;
               color: var(--st-text-color); opacity: 0.6; order: -1; }
"""
_COMPONENT = st.components.v2.component(
    "gan_lab.live_charts", js=Path(__file__).with_name("live_chart.js").read_text(), css=_CSS,
    isolate_styles=False)


def _columns(data: ch.Datasets) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    for name, columns in data.items():
        out[name] = {c: (np.round(v.astype(np.float64), 4).tolist() if v.dtype.kind == "f"
                         else v.tolist()) for c, v in columns.items()}
    return out


def live_charts(charts: list[tuple[str, ch.Spec, ch.Datasets, float]],
                readouts: list[tuple[str, str, str]] | None = None,
                poll: dict | None = None, panel: str | None = None) -> None:
    """Draw ``(key, spec, datasets, width weight)`` charts side by side, under a row of
    ``(label, value, help)`` readouts if given."""
    # AppTest sets this hidden option (st.get_option does not show it).
    if config.get_option("global.appTest") or _LOADER is None:
        for col_, (label, value, help_) in zip(st.columns(len(readouts or [])) if readouts
                                               else [], readouts or [], strict=True):
            col_.metric(label, value, help=help_)
        for col, (key, spec, data, _) in zip(st.columns([c[3] for c in charts]), charts,
                                             strict=True):
            with col:
                st.vega_lite_chart(ch.with_data(spec, data), key=key, width="stretch")
        return
    _COMPONENT(key=f"panel_{panel}" if panel else "live_charts", on_stopped_change=lambda: None,
               data={"vega": f"static/js/{_LOADER.name}", "poll": poll, "panel": panel,
        "readouts": [{"label": k, "value": v, "help": h} for k, v, h in readouts or []] or None,
        "charts": {key: {"spec": json.dumps(spec), "weight": weight, "datasets": _columns(data)}
                   for key, spec, data, weight in charts}})

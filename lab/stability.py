"""The stability map: train a grid of GANs side by side and load any cell into the live run."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from gan_core import GANConfig
from gan_core.serve import pacing
from gan_core.serve.crowd import CROWD
from gan_core.serve.stability import ALONE_BUDGET_SECONDS, StabilityRun, estimate_seconds
from gan_core.training.batched import AXIS_FIELDS, Axis
from gan_core.views import charts as ch

from . import settings
from .run import notices, session
from .state import holder

STEPS = (500, 1000, 2000, 5000, 10000)
X, Y, SEEDS, STEPS_KEY, RUN, STOP, METRIC, MAP = (
    "stability_x", "stability_y", "stability_seeds", "stability_steps", "stability_run",
    "stability_stop", "stability_metric", "stability_map")
TAB = "view"
"""The key of the page's tabs: picking a cell switches to the live view."""
PARAMS = GANConfig.params()
PERIOD = 0.5
"""Seconds between the map's ticks while it trains (its fragment's timer)."""


@dataclass
class StabilityState:
    run: StabilityRun | None = None
    error: str | None = None
    redraw_page: bool = False
    """A picked cell changed the sidebar from inside the map's fragment: rerun the page."""
    estimate: tuple[object, float] | None = None
    """The grid last timed (its settings) and the seconds a map of it would take."""


def state() -> StabilityState:
    return holder("stability", StabilityState)


def tab() -> None:
    st.markdown("Train a grid of GANs side by side, from the live run's settings, and map "
                "where training works. **Click a cell** to load its settings into the live "
                "run (and the URL).")
    left, right, buttons = st.columns([2, 2, 1.3])
    with left:
        x_field = st.selectbox("X axis", AXIS_FIELDS, key=X,
                               format_func=lambda f: PARAMS[f].label)
        x_axis = _axis(x_field, X, 6)
    with right:
        y_field = st.selectbox("Y axis", ("none", *AXIS_FIELDS), index=2, key=Y,
                               format_func=lambda f: "none" if f == "none" else PARAMS[f].label)
        y_axis = _axis(y_field, Y, 6) if y_field != "none" else None
    with buttons:
        seeds = st.slider("Seeds per cell", 1, 4, 1, key=SEEDS,
                          help="Independent runs per cell; the map shows their mean.")
        steps = st.select_slider("Steps", STEPS, 2000, key=STEPS_KEY,
                                 help="Training steps for every GAN of the grid.")
        st.button("Run", icon=":material/grid_on:", type="primary", key=RUN, width="stretch",
                  on_click=_start, args=(x_axis, y_axis, seeds, steps),
                  help="Train the whole grid in one vectorised pass per tick.")
        running = state().run is not None and state().run.running
        st.button("Stop", icon=":material/stop:", key=STOP, width="stretch",
                  disabled=not running, on_click=_stop)
        members = len(x_axis) * (len(y_axis) if y_axis is not None else 1) * seeds
        seconds = _estimate(x_axis, y_axis, seeds, steps)
        st.caption(f"About {_duration(seconds)} on this server, as timed just now: "
                   f"{members} GANs × {steps:,} steps.")
    if state().error:
        st.error(state().error)
    metric = st.segmented_control(
        "Colour by", list(ch.STABILITY_METRICS), default="w1", key=METRIC,
        format_func=lambda m: ch.STABILITY_METRICS[m][0], required=True)
    st.fragment(run_every=PERIOD if running else None)(_map)(metric)


def _estimate(x_axis: Axis, y_axis: Axis | None, seeds: int, steps: int) -> float:
    """The time a map of this grid takes, timed on this machine once per grid (and kept while
    the grid stays the same)."""
    budget = ALONE_BUDGET_SECONDS if CROWD.size() == 0 else pacing.TICK_BUDGET_SECONDS
    grid = (session().config, x_axis, y_axis, seeds, steps, budget)
    kept = state().estimate
    if kept is None or kept[0] != grid:
        kept = grid, estimate_seconds(session().config, x_axis, y_axis, seeds, steps,
                                      period=PERIOD, budget=budget)
        state().estimate = kept
    return kept[1]


def _duration(seconds: float) -> str:
    """Seconds as a person says them: "about 9 seconds", "1 min 40 s"."""
    if seconds < 60:
        whole = max(1, round(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes, rest = divmod(round(seconds / 10) * 10, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def _axis(field: str, prefix: str, default_n: int) -> Axis:
    """Widgets for the values of one axis of the grid."""
    param = PARAMS[field]
    if field == "loss":
        st.caption("All four losses.")
        return Axis.losses()
    n = st.slider("Cells", 2, 8, default_n, key=f"{prefix}_n",
                  help="How many values along this axis.")
    if field == "seed":
        return Axis.seeds(n, start=session().config.seed)
    if param.log:
        lo, hi = st.select_slider(f"{field} range", options=param.grid(), value=(1e-5, 1e-2),
                                  format_func=param.format, key=f"{prefix}_range",
                                  help="Values spread evenly on a log scale, taken from the "
                                  "sidebar's own, so any cell can be loaded there.")
        return Axis(field, param.spread(lo, hi, n))
    lo, hi = st.slider(f"{field} range", param.low, param.high, (param.low, param.high),
                       step=param.step, key=f"{prefix}_range")
    return Axis.linear(field, lo, hi, n)


def _start(x_axis: Axis, y_axis: Axis | None, seeds: int, steps: int) -> None:
    state().error = None
    try:
        state().run = StabilityRun(session().config, x_axis, y_axis, seeds, steps)
    except ValueError as exc:
        state().error = str(exc)


def _stop() -> None:
    if state().run is not None:
        state().run.stop()


def _pick() -> None:
    picked = st.session_state[MAP].selection.get("cell") or []
    run = state().run
    if not picked or run is None:
        return
    config = run.cell_config(int(picked[0]["ix"]), int(picked[0].get("iy", 0)))
    session().reset(config)
    settings.show(config)
    shown = ", ".join(f"{PARAMS[f].label.lower()} {PARAMS[f].format(getattr(config, f))}"
                      for f in config.changed_fields(GANConfig()) if f in AXIS_FIELDS)
    notices().info = (f"Loaded the cell ({shown or 'defaults'}) into the live run as a fresh "
                      "model. Press Play to watch it.")
    st.session_state[TAB] = "Live training"
    state().redraw_page = True


def _map(metric: str) -> None:
    if state().redraw_page:
        state().redraw_page = False
        st.rerun()  # a picked cell changed the sidebar: redraw the whole page
    run = state().run
    if run is None:
        st.info("Choose the axes and press Run: the time it takes is beside the button.",
                icon=":material/grid_on:")
        return
    was_running = run.running
    run.tick()
    with run.lock:
        grid = run.grid
        members = f"{grid.members} GANs" if grid.members > 1 else "1 GAN"
        done = f" · done in {run.took:.1f} s" if run.took is not None else " · done"
        st.progress(min(1.0, grid.step / run.steps),
                    text=f"{members}, step {grid.step:,} of {run.steps:,}"
                    + ("" if run.running else done if run.done else " · stopped"))
        y_field = grid.y_axis.field if grid.y_axis is not None else None
        st.vega_lite_chart(
            ch.with_data(ch.stability_spec(metric, grid.x_axis.field, y_field),
                         ch.stability_data(run.cells, metric)),
            key=MAP, on_select=_pick, selection_mode="cell", width="stretch")
    if was_running and not run.running:
        st.rerun()  # finished: stop the timer and re-enable the controls

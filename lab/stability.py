"""The stability map: train a grid of GANs side by side and load any cell into the live run."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from gan_core import GANConfig
from gan_core.serve.stability import StabilityRun
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


@dataclass
class StabilityState:
    run: StabilityRun | None = None
    error: str | None = None
    redraw_page: bool = False
    """A picked cell changed the sidebar from inside the map's fragment: rerun the page."""


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
    if state().error:
        st.error(state().error)
    grid = state().run
    conditional = (grid.grid.base if grid is not None else session().config).conditional
    metric = st.segmented_control(
        "Colour by", ch.stability_metrics(conditional), default="w1", key=METRIC,
        format_func=lambda m: ch.STABILITY_METRICS[m][0], required=True,
        help="W1 and in band of the generated curves, the share of seeds that diverged, and "
        "for a conditional run the class accuracy: the share of curves in the band of the "
        "class they were asked for.")
    st.fragment(run_every=0.5 if running else None)(_map)(metric)


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
        st.info("Choose the axes and press Run. The default grid (6 x 6 learning rates, "
                "2,000 steps) takes about 20 seconds.", icon=":material/grid_on:")
        return
    was_running = run.running
    run.tick()
    with run.lock:
        grid = run.grid
        members = f"{grid.members} GANs" if grid.members > 1 else "1 GAN"
        st.progress(min(1.0, grid.step / run.steps),
                    text=f"{members}, step {grid.step:,} of {run.steps:,}"
                    + ("" if run.running else " · done" if run.done else " · stopped"))
        y_field = grid.y_axis.field if grid.y_axis is not None else None
        if metric not in ch.stability_metrics(grid.base.conditional):
            metric = "w1"  # class accuracy of a grid without classes: there is none
        st.vega_lite_chart(
            ch.with_data(ch.stability_spec(metric, grid.x_axis.field, y_field,
                                           grid.base.conditional),
                         ch.stability_data(run.cells, metric)),
            key=MAP, on_select=_pick, selection_mode="cell", width="stretch")
    if was_running and not run.running:
        st.rerun()  # finished: stop the timer and re-enable the controls

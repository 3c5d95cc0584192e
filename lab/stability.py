"""The stability map: train a grid of GANs side by side and load any cell into the live run; or
compare the default learning-rate grid without and with R1, same seeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from gan_core import GANConfig
from gan_core.serve import pacing
from gan_core.serve.crowd import CROWD
from gan_core.serve.stability import (
    ALONE_BUDGET_SECONDS,
    StabilityComparison,
    StabilityRun,
    estimate_seconds,
)
from gan_core.training.batched import AXIS_FIELDS, Axis
from gan_core.views import charts as ch

from . import settings
from .run import notices, session
from .state import holder

STEPS = (500, 1000, 2000, 5000, 10000)
X, Y, SEEDS, STEPS_KEY, RUN, STOP, METRIC, MAP = (
    "stability_x", "stability_y", "stability_seeds", "stability_steps", "stability_run",
    "stability_stop", "stability_metric", "stability_map")
VIEW, GAMMA = "stability_view", "stability_gamma"
MAP_VIEW, COMPARE_VIEW = "Map", "Without and with R1"
TAB = "view"
"""The key of the page's tabs: picking a cell switches to the live view."""
PARAMS = GANConfig.params()
DEFAULT_RANGES = {"r1": (0.0, 10.0), "r2": (0.0, 10.0), "gp": (0.0, 100.0),
                  "instance_noise": (0.0, 1.0), "instance_noise_steps": (0, 100_000)}
"""The first range offered for a strength: off, then up to strong. Learning rates: 1e-5 to
1e-2."""
LEARNING_RATES = (1e-5, 1e-2)
COMPARE_GAMMA = 1.0
"""R1's strength the comparison offers first (``docs/stabilizers.md`` says why)."""
PERIOD = 0.5
"""Seconds between the map's ticks while it trains (its fragment's timer)."""


@dataclass
class StabilityState:
    run: StabilityRun | StabilityComparison | None = None
    error: str | None = None
    redraw_page: bool = False
    """A picked cell changed the sidebar from inside the map's fragment: rerun the page."""
    estimate: tuple[object, float | None] | None = None
    """The grid last timed (its settings) and the seconds a map of it would take."""


def state() -> StabilityState:
    return holder("stability", StabilityState)


def tab() -> None:
    view = st.segmented_control(
        "View", (MAP_VIEW, COMPARE_VIEW), default=MAP_VIEW, key=VIEW, required=True,
        help="Map: any two settings as axes, stabilizer strengths included. Without and with "
        "R1: the default learning-rate grid twice, on the same seeds, and the share of its "
        "cells that converge each way.")
    if view == COMPARE_VIEW:
        _compare_controls()
    else:
        _map_controls()
    if state().error:
        st.error(state().error)
    run = state().run
    conditional = _conditional(run) if run is not None else session().config.conditional
    metric = st.segmented_control(
        "Colour by", ch.stability_metrics(conditional), default="w1", key=METRIC,
        format_func=lambda m: ch.STABILITY_METRICS[m][0], required=True,
        help="W1 and in band of the generated curves, the share of seeds that diverged or "
        "converged, and for a conditional run the class accuracy: the share of curves in the "
        "band of the class they were asked for.")
    running = run is not None and run.running
    st.fragment(run_every=PERIOD if running else None)(_map)(metric)


def _map_controls() -> None:
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
        seeds, steps = _budget()
        _buttons(_start, (x_axis, y_axis, seeds, steps),
                 "Train the whole grid in one vectorised pass per tick.")
        members = len(x_axis) * (len(y_axis) if y_axis is not None else 1) * seeds
        seconds = _estimate(x_axis, y_axis, seeds, steps)
        if seconds is not None:  # else Run says why this grid cannot be made
            st.caption(f"About {_duration(seconds)} on this server, as timed just now: "
                       f"{members} GANs × {steps:,} steps.")


def _estimate(x_axis: Axis, y_axis: Axis | None, seeds: int, steps: int) -> float | None:
    """The time a map of this grid takes, timed on this machine once per grid (and kept while
    the grid stays the same); None for a grid that cannot be made."""
    budget = ALONE_BUDGET_SECONDS if CROWD.size() == 0 else pacing.TICK_BUDGET_SECONDS
    grid = (session().config, x_axis, y_axis, seeds, steps, budget)
    kept = state().estimate
    if kept is None or kept[0] != grid:
        try:
            seconds = estimate_seconds(session().config, x_axis, y_axis, seeds, steps,
                                       period=PERIOD, budget=budget,
                                       data=session().trainer.data)
        except ValueError:
            seconds = None
        kept = grid, seconds
        state().estimate = kept
    return kept[1]


def _duration(seconds: float) -> str:
    """Seconds as a person says them: "about 9 seconds", "1 min 40 s"."""
    if seconds < 60:
        whole = max(1, round(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes, rest = divmod(round(seconds / 10) * 10, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def _compare_controls() -> None:
    st.markdown(
        "The default grid (learning rate of G × of D, 1e-5 to 1e-2) trained twice from the "
        "live run's settings, on the same seeds: without R1, and with it (Mescheder et al. "
        "2018). A cell **converged** when every seed's W1 ended at most 0.1; each map says "
        "how many did. **Click a cell** to load it into the live run.")
    left, buttons = st.columns([4, 1.3])
    with left:
        gamma = st.select_slider(
            "R1 γ", [v for v in PARAMS["r1"].grid() if v > 0], value=COMPARE_GAMMA, key=GAMMA,
            format_func=PARAMS["r1"].format, help="The R1 penalty's strength in the second map.")
    with buttons:
        seeds, steps = _budget()
        _buttons(_compare, (gamma, seeds, steps), "Train both grids, a share of each tick each.")


def _budget() -> tuple[int, int]:
    seeds = st.slider("Seeds per cell", 1, 4, 1, key=SEEDS,
                      help="Independent runs per cell; the map shows their mean.")
    steps = st.select_slider("Steps", STEPS, 2000, key=STEPS_KEY,
                             help="Training steps for every GAN of the grid.")
    return seeds, steps


def _buttons(start: Callable[..., None], args: tuple, what: str) -> None:
    st.button("Run", icon=":material/grid_on:", type="primary", key=RUN, width="stretch",
              on_click=start, args=args, help=what)
    run = state().run
    st.button("Stop", icon=":material/stop:", key=STOP, width="stretch",
              disabled=not (run is not None and run.running), on_click=_stop)


def _axis(field: str, prefix: str, default_n: int) -> Axis:
    """Widgets for the values of one axis of the grid."""
    param = PARAMS[field]
    if field == "loss":
        st.caption("All five losses.")
        return Axis.losses()
    if param.kind is bool:
        st.caption("Off and on.")
        return Axis.switch(field)
    n = st.slider("Cells", 2, 8, default_n, key=f"{prefix}_n",
                  help="How many values along this axis.")
    if field == "seed":
        return Axis.seeds(n, start=session().config.seed)
    if param.log:
        lo, hi = st.select_slider(
            f"{field} range", options=param.grid(),
            value=DEFAULT_RANGES.get(field, LEARNING_RATES), format_func=param.format,
            key=f"{prefix}_range_{field}",
            help="Values spread evenly on a log scale (after 0, off, for a strength), taken "
            "from the sidebar's own, so any cell can be loaded there.")
        return Axis(field, param.spread(lo, hi, n))
    lo, hi = st.slider(f"{field} range", param.low, param.high, (param.low, param.high),
                       step=param.step, key=f"{prefix}_range_{field}")
    return Axis.linear(field, lo, hi, n)


def _start(x_axis: Axis, y_axis: Axis | None, seeds: int, steps: int) -> None:
    state().error = None
    try:
        state().run = StabilityRun(session().config, x_axis, y_axis, seeds, steps,
                                   data=session().trainer.data)
    except ValueError as exc:
        state().error = str(exc)


def comparison_axes() -> tuple[Axis, Axis]:
    """The default grid: learning rates of G and of D, six each, 1e-5 to 1e-2."""
    values = PARAMS["lr_g"].spread(*LEARNING_RATES, 6)
    return Axis("lr_g", values), Axis("lr_d", values)


def _compare(gamma: float, seeds: int, steps: int) -> None:
    state().error = None
    try:
        state().run = StabilityComparison(
            session().config, *comparison_axes(), seeds, steps,
            [("Without R1", {"r1": 0.0}), (f"With R1, γ = {gamma:g}", {"r1": gamma})],
            data=session().trainer.data)
    except ValueError as exc:
        state().error = str(exc)


def _stop() -> None:
    if state().run is not None:
        state().run.stop()


def _pick(key: str, grid: StabilityRun) -> None:
    picked = st.session_state[key].selection.get("cell") or []
    if not picked:
        return
    config = grid.cell_config(int(picked[0]["ix"]), int(picked[0].get("iy", 0)))
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
    if isinstance(run, StabilityComparison):
        _comparison(run, metric)
    else:
        with run.lock:
            _progress(run)
            _heatmap(run, metric, MAP)
    if was_running and not run.running:
        st.rerun()  # finished: stop the timer and re-enable the controls


def _progress(run: StabilityRun, label: str = "") -> None:
    grid = run.grid
    members = f"{grid.members} GANs" if grid.members > 1 else "1 GAN"
    done = f" · done in {run.took:.1f} s" if run.took is not None else " · done"
    st.progress(min(1.0, grid.step / run.steps),
                text=f"{label}{members}, step {grid.step:,} of {run.steps:,}"
                + ("" if run.running else done if run.done else " · stopped"))


def _conditional(run: StabilityRun | StabilityComparison) -> bool:
    """Does the grid (or the first of a comparison's) ask G for classes?"""
    first = run.runs[0] if isinstance(run, StabilityComparison) else run
    return first.grid.base.conditional


def _heatmap(run: StabilityRun, metric: str, key: str) -> None:
    grid = run.grid
    y_field = grid.y_axis.field if grid.y_axis is not None else None
    if metric not in ch.stability_metrics(grid.base.conditional):
        metric = "w1"  # class accuracy of a grid without classes: there is none
    st.vega_lite_chart(
        ch.with_data(ch.stability_spec(metric, grid.x_axis.field, y_field,
                                       grid.base.conditional),
                     ch.stability_data(run.cells, metric)),
        key=key, on_select=lambda: _pick(key, run), selection_mode="cell", width="stretch")


def _comparison(comparison: StabilityComparison, metric: str) -> None:
    with comparison.lock:
        columns = st.columns(len(comparison.runs))
        shares = comparison.shares()
        for i, (column, label, run) in enumerate(zip(columns, comparison.labels,
                                                     comparison.runs, strict=True)):
            converged, cells = shares[i]
            with column, st.container(key=f"{MAP}_{i}_box"):
                st.markdown(f"**{label}**")
                _progress(run)
                _heatmap(run, metric, f"{MAP}_{i}")
                st.caption(f"Converged: **{converged} of {cells} cells** "
                           f"({converged / cells:.0%})" + ("" if run.done else ", so far"))

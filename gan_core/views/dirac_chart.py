"""The Dirac-GAN as a chart: its vector field as arrows over ``(theta, psi)``, a trajectory on
it, and where it started.

As the other charts, a spec that depends on nothing that changes (cached) and small named
datasets: ``field`` (arrows, from their tails), ``path`` (the trajectory, thinned) and ``ends``
(its start and end). The arrows' tails are also where a click picks a new start
(the ``start`` selection).
"""

from __future__ import annotations

from functools import lru_cache

import altair as alt
import numpy as np

from ..gan.config import GANConfig
from ..gan.dirac import Trajectory, vector_field
from .charts import GENERATED, INK, REAL, Datasets, Spec, _finish

EXTENT = 2.0
"""The chart shows ``theta`` and ``psi`` in [-EXTENT, EXTENT], the paper's window."""
ARROWS = 11
"""Arrows per axis."""
MAX_PATH_POINTS = 600
SIDE = 300
"""Pixels of the plot's width and height."""
PATH = "#c2185b"


def field_grid() -> tuple[np.ndarray, np.ndarray]:
    """The arrows' tails: an ``ARROWS`` x ``ARROWS`` grid over the window."""
    axis = np.linspace(-EXTENT, EXTENT, ARROWS)
    return np.meshgrid(axis, axis)


def field_data(config: GANConfig, step: int = 0) -> Datasets:
    """Each arrow from its tail along the gradient field, its length the field's strength on
    a square-root scale (so weak and strong parts both show), at most 0.9 of the grid's
    spacing; its heading for the arrowhead."""
    theta, psi = field_grid()
    v_theta, v_psi = vector_field(config, theta, psi, step)
    size = np.hypot(v_theta, v_psi)
    peak = float(np.nanmax(size)) if np.isfinite(size).any() else 0.0
    spacing = 2 * EXTENT / (ARROWS - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        length = np.where(size > 0, 0.9 * spacing * np.sqrt(size / peak) / size, 0.0) \
            if peak > 0 else np.zeros_like(size)
    tip_theta, tip_psi = theta + v_theta * length, psi + v_psi * length
    # Vega's point angle: clockwise from up, in degrees
    heading = np.degrees(np.arctan2(v_theta, v_psi)) % 360
    return {"field": {
        "theta": theta.ravel().astype(np.float32), "psi": psi.ravel().astype(np.float32),
        "tip_theta": tip_theta.ravel().astype(np.float32),
        "tip_psi": tip_psi.ravel().astype(np.float32),
        "heading": np.nan_to_num(heading.ravel()).astype(np.float32),
        "moves": (size.ravel() > 0).astype(np.int8)}}


def path_data(run: Trajectory) -> Datasets:
    """The trajectory, thinned to at most ``MAX_PATH_POINTS`` points (its end kept), clipped
    to a margin beyond the window; its start and its end."""
    n = len(run.theta)
    keep = np.unique(np.append(np.linspace(0, n - 1, min(n, MAX_PATH_POINTS)).astype(int),
                               n - 1))
    limit = 4 * EXTENT
    theta = np.clip(np.nan_to_num(run.theta[keep], nan=limit), -limit, limit)
    psi = np.clip(np.nan_to_num(run.psi[keep], nan=limit), -limit, limit)
    return {"path": {"order": np.arange(len(keep), dtype=np.int32),
                     "theta": theta.astype(np.float32), "psi": psi.astype(np.float32)},
            "ends": {"theta": np.array([theta[0], theta[-1]], np.float32),
                     "psi": np.array([psi[0], psi[-1]], np.float32),
                     "end": np.array([0, 1], np.int8)}}


@lru_cache(maxsize=4)
def dirac_spec(title: str) -> Spec:
    """Arrows of the field, the trajectory over them, the data's point (theta = 0) and the
    equilibrium; clicking an arrow's tail selects it (``start``)."""
    scale = alt.Scale(domain=[-EXTENT, EXTENT], nice=False)
    theta = alt.X("theta:Q", scale=scale, title="θ (G's point)")
    psi = alt.Y("psi:Q", scale=scale, title="ψ (D's slope)")
    field = alt.Chart(alt.NamedData("field"))
    arrows = field.mark_rule(color=REAL, strokeWidth=1.2, clip=True).encode(
        x=theta, y=psi, x2="tip_theta:Q", y2="tip_psi:Q")
    heads = field.transform_filter("datum.moves == 1").mark_point(
        shape="triangle", size=30, filled=True, color=REAL, clip=True).encode(
        x=alt.X("tip_theta:Q", scale=scale), y=alt.Y("tip_psi:Q", scale=scale),
        angle=alt.Angle("heading:Q", scale=alt.Scale(domain=[0, 360], range=[0, 360])))
    pick = alt.selection_point(name="start", fields=["theta", "psi"], on="click",
                               empty=False, nearest=True)
    tails = field.mark_point(size=60, opacity=0, cursor="pointer").encode(
        x=theta, y=psi, tooltip=[alt.Tooltip("theta:Q", title="start θ", format=".1f"),
                                 alt.Tooltip("psi:Q", title="start ψ", format=".1f")],
    ).add_params(pick)
    data_line = alt.Chart(alt.InlineData(values=[{"theta": 0.0}])).mark_rule(
        color=GENERATED, strokeDash=[4, 3], strokeWidth=1.5).encode(x=alt.X("theta:Q"))
    path = alt.Chart(alt.NamedData("path")).mark_line(
        color=PATH, strokeWidth=1.8, clip=True).encode(
        x=theta, y=psi, order="order:Q")
    # One legend for both channels (a legend on one and none on the other conflict).
    legend = alt.Legend(title=None, orient="bottom", direction="horizontal",
                        labelExpr="['start', 'after the steps'][datum.value]")
    ends = alt.Chart(alt.NamedData("ends")).mark_point(filled=True, size=70, clip=True).encode(
        x=theta, y=psi,
        color=alt.Color("end:N", scale=alt.Scale(domain=[0, 1], range=[INK, PATH]),
                        legend=legend),
        shape=alt.Shape("end:N", scale=alt.Scale(domain=[0, 1], range=["circle", "diamond"]),
                        legend=legend))
    spec = _finish(alt.layer(data_line, arrows, heads, path, ends, tails)
                   .properties(width=SIDE, height=SIDE, title=title))
    # A square plot of a square window: an arrowhead's angle, taken in data units, is then its
    # angle on the screen.
    spec["autosize"] = {"type": "pad"}
    spec["usermeta"]["fixedLayout"] = True
    return spec

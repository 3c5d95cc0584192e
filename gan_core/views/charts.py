"""Vega-Lite charts of a run, built with Altair (usable from a notebook as from the page).

Charts take arrays (``gan_core.views.inference`` computes them from a trainer), never a trainer.

Each chart is a spec that depends only on the target family and the loss, plus small named
datasets that change every tick. Specs are built once and cached, and data is referenced by
fixed names, so a live page sends the same spec each tick and Vega swaps the data in place
instead of redrawing the chart (no flicker, little traffic).

Live charts carry no per-row expressions (``calculate``, ``filter``, ``window``): the page
evaluates those with Vega's expression interpreter for every row on every tick, which was most
of a playing page's work. Categories travel as small integer codes that scales map to colours,
widths and shapes; what needs arithmetic is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np

from ..gan.history import History
from ..gan.losses import equilibrium_point
from ..gan.targets import curve_grid, get_target
from ..measure.metrics import EVAL_SAMPLES, noise_floors
from .inference import CURVE_LIMIT, LATENT_RANGE, CurvesView, LatentSweep

if TYPE_CHECKING:
    from ..measure.theory import TheoryView
    from ..training.trainer import DiscriminatorMap

Spec = dict[str, Any]
Datasets = dict[str, dict[str, np.ndarray]]

# The tutorial's own colours: generated painting, upper bound, lower bound.
GENERATED, UPPER, LOWER = "#4AD631", "#74BCFF", "#FF9359"
# The page follows the visitor's light or dark theme, and the theme gives every chart its
# background, text and grid. So marks drawn on the page's background take colours that read on
# both: mid tones, and the band as a translucent tint of blue, light on white and dark on dark.
# INK (near black) is only for marks drawn over colours of the chart's own (the D map's cells,
# the stability map's light cells).
REAL, INK, MID = "#9aa3b5", "#1f2a44", "#7a8194"
BAND, BAND_OPACITY = "#5c8ee6", 0.2
HIGHLIGHT = "#1b9e3e"
GHOST, FORCE, EVENT = "#8e7cc3", "#c2185b", "#f08c00"
HEIGHT = 300
KINDS = ("real", "generated", "highlighted", "ghost")
MAX_HISTORY_POINTS = 200
DEFAULT_POINTS = 15
"""Points per curve the noise floors on the history are drawn for (the tutorial's)."""


def with_data(spec: Spec, datasets: Datasets) -> Spec:
    """The spec with its named datasets attached, ready for ``st.vega_lite_chart``."""
    return {**spec, "datasets": {**spec.get("datasets", {}), **datasets}}


def _finish(chart: alt.TopLevelMixin) -> Spec:
    spec = chart.configure_view(stroke=None).to_dict()
    # Fit the width to the page but keep the height: plain "fit" squeezes the plot when a
    # title or legend sits outside it.
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    # Canvas, not SVG: a live chart redraws every tick, and SVG rebuilds hundreds of DOM nodes
    # each time (the discriminator map alone has 625 cells); canvas repaints a bitmap.
    spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return spec


def _codes(labels: tuple[str, ...] | list[str]) -> tuple[list[int], str]:
    """A nominal scale's domain of integer codes and the legend expression naming them."""
    return list(range(len(labels))), f"{list(labels)!r}[datum.value]"


def _y_domain(target_name: str) -> tuple[float, float]:
    x = np.linspace(-1, 1, 201)
    lower, upper = get_target(target_name).envelope(x)
    pad = 0.35 * float(upper.max() - lower.min())
    return round(float(lower.min()) - pad, 2), round(float(upper.max()) + pad, 2)


def _band_layer(x_axis: alt.X, y_scale: alt.Scale, opacity: float = 1.0) -> alt.Chart:
    """The target's envelope as a shaded band, from the ``band`` dataset."""
    return alt.Chart(alt.NamedData("band")).mark_area(
        color=BAND, opacity=BAND_OPACITY * opacity).encode(
        x=x_axis, y=alt.Y("lower:Q", scale=y_scale, title="y"), y2="upper:Q")


@lru_cache(maxsize=8)
def _band(target_name: str) -> dict[str, np.ndarray]:
    """The ``band`` dataset: the target's envelope on 61 points. It never changes, so it is
    computed once per target and sent as is."""
    dense = curve_grid(61)
    lower, upper = get_target(target_name).envelope(dense)
    band = {"x": dense, "lower": lower.astype(np.float32), "upper": upper.astype(np.float32)}
    for column in band.values():
        column.setflags(write=False)  # shared by every session's charts
    return band


# -- the generated curves inside the bounds ------------------------------------------------

@lru_cache(maxsize=32)
def curves_spec(target_name: str, ghost: bool = False, forces: bool = False,
                small: bool = False) -> Spec:
    """The curves inside the target's band; with ``ghost``, a twin run's curves dashed beside
    them (or, in slow motion, the curves before); with ``forces``, each generated point's push
    from D as a short vertical line; ``small`` for a strip of several."""
    x_axis = alt.X("x:Q", scale=alt.Scale(domain=[-1, 1]), title="x")
    y_scale = alt.Scale(domain=list(_y_domain(target_name)))
    band = _band_layer(x_axis, y_scale, opacity=0.9)
    bounds = alt.Chart(alt.NamedData("band")).transform_fold(
        ["lower", "upper"], as_=["bound", "value"]).mark_line(strokeWidth=2.5).encode(
        x=x_axis, y=alt.Y("value:Q", scale=y_scale),
        color=alt.Color("bound:N", scale=alt.Scale(domain=["lower", "upper"],
                                                  range=[LOWER, UPPER]),
                        legend=alt.Legend(title=None, orient="top", direction="horizontal")))
    kinds = KINDS if ghost else KINDS[:3]
    # In a strip of small charts (slow motion) the dashed curves are G's before its update.
    codes, names = _codes([*kinds[:3], "before"][:len(kinds)] if small else kinds)

    def by_kind(values: list) -> alt.Scale:
        # "ordinal" maps each kind to its value; Vega-Lite's default for an ordinal field on a
        # width or opacity channel is a point scale, which spreads the first two values.
        return alt.Scale(type="ordinal", domain=codes, range=values[:len(codes)])

    # A small chart's legend wraps in two columns: in one row it runs off a narrow chart.
    legend = alt.Legend(title=None, orient="top", direction="horizontal", labelExpr=names,
                        **({"columns": 2} if small else {}))
    lines = alt.Chart(alt.NamedData("curves")).mark_line(clip=True).encode(
        x=x_axis, y=alt.Y("y:Q", scale=y_scale), detail="curve:N",
        stroke=alt.Stroke("k:N", scale=by_kind([REAL, GENERATED, HIGHLIGHT, GHOST]),
                          legend=legend),
        # Width, opacity and dash read a copy of the kind, ``w``: on ``k`` itself Vega-Lite
        # would merge their (hidden) legends with the colour's and warn of the conflict.
        strokeWidth=alt.StrokeWidth("w:O", scale=by_kind([1, 1.5, 4, 1.2]), legend=None),
        opacity=alt.Opacity("w:O", scale=by_kind([0.55, 0.5, 1, 0.7]), legend=None),
        strokeDash=alt.StrokeDash("w:O", scale=by_kind([[1, 0], [1, 0], [1, 0], [4, 3]]),
                                  legend=None),
        order=alt.Order("k:Q"))
    points = alt.Chart(alt.NamedData("highlighted")).mark_circle(
        size=45, color=HIGHLIGHT, clip=True).encode(x=x_axis, y=alt.Y("y:Q", scale=y_scale))
    layers = [band, bounds, lines, points]
    if forces:
        pushes = alt.Chart(alt.NamedData("forces"))
        layers.append(pushes.mark_rule(color=FORCE, strokeWidth=1.6, clip=True).encode(
            x=x_axis, y=alt.Y("y:Q", scale=y_scale), y2="tip:Q"))
        layers.append(pushes.mark_point(filled=True, size=26, color=FORCE, clip=True,
                                        opacity=1).encode(
            x=x_axis, y=alt.Y("tip:Q", scale=y_scale),
            shape=alt.Shape("up:N", scale=alt.Scale(domain=[0, 1],
                                                    range=["triangle-down", "triangle-up"]),
                            legend=None)))
    spec = _finish(alt.layer(*layers).properties(height=HEIGHT - 100 if small else HEIGHT + 20))
    # Both legends above the plot, one row each: side by side they collide on a phone.
    spec["config"]["legend"] = {"layout": {"top": {"direction": "vertical", "anchor": "start"}}}
    # Every scale and legend has a fixed domain: new data never moves an axis, so a page
    # updating the chart several times a second need not lay it out again each time.
    spec["usermeta"]["fixedLayout"] = True
    return spec


def force_scale(forces: np.ndarray, longest: float = 0.35) -> float:
    """Length on the chart per unit of force: one scale for every line, on a 1-2-5 ladder,
    chosen so that the longest line is at most ``longest`` (in units of y)."""
    biggest = float(np.max(np.abs(forces), initial=0.0))
    if not np.isfinite(biggest) or biggest == 0:
        return 1.0
    raw = longest / biggest
    decade = 10.0 ** np.floor(np.log10(raw))
    return float(max(m * decade for m in (1, 2, 5) if m * decade <= raw))


def curves_data(view: CurvesView, target_name: str, ghost: np.ndarray | None = None,
                forces: np.ndarray | None = None, scale: float = 1.0) -> Datasets:
    """Real and generated curves as one long table (a row per point), the first generated
    curve highlighted, the target's band; a ghost's curves (for ``curves_spec(ghost=True)``)
    and each generated point's force times ``scale`` (for ``forces=True``)."""
    parts = [view.real, view.generated] + ([] if ghost is None else [ghost])
    curves = np.concatenate(parts)
    n_real, n_generated = len(view.real), len(view.generated)
    kinds = np.array([0] * n_real + [2] + [1] * (n_generated - 1)
                     + [3] * (0 if ghost is None else len(ghost)), dtype=np.int8)
    n = len(view.x)
    data: Datasets = {
        "band": _band(target_name),
        "curves": {
            "x": np.tile(view.x, len(curves)),
            "y": curves.astype(np.float32).ravel(),
            "curve": np.repeat(np.arange(len(curves), dtype=np.int16), n),
            "k": np.repeat(kinds, n),
            "w": np.repeat(kinds, n),
        },
        "highlighted": {"x": view.x, "y": view.generated[0].astype(np.float32)},
    }
    if forces is not None:
        push = np.clip(scale * forces, -CURVE_LIMIT, CURVE_LIMIT).astype(np.float32).ravel()
        y = view.generated.astype(np.float32).ravel()
        data["forces"] = {"x": np.tile(view.x, n_generated), "y": y, "tip": y + push,
                          "up": (push > 0).astype(np.int8)}
    return data


# -- training history ----------------------------------------------------------------------

def _history_chart(name: str, columns: dict[str, str], colors: list[str], title: str,
                   rules: dict[str, float], y_title: str, log_y: bool = False,
                   ghost: bool = False, changes: bool = False, events: bool = False) -> alt.Chart:
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    names = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in columns.items()) + "}[datum.value]"
    # Labels as short as their values: never "0.000000" where the values barely differ.
    step = alt.X("step:Q", title="step", axis=alt.Axis(format=",d", tickMinStep=1))
    layers: list[alt.Chart] = []
    # What happened to the run: a shaded span for each event, a rule at each change, their
    # text in the tooltip. Only drawn when there are some: Vega warns of an empty dataset's
    # infinite extent on a shared scale.
    if events:
        layers.append(alt.Chart(alt.NamedData("events")).mark_rect(
            color=EVENT, opacity=0.16).encode(
            x=alt.X("start:Q"), x2="end:Q", tooltip=alt.Tooltip("label:N", title="event")))
    if changes:
        layers.append(alt.Chart(alt.NamedData("changes")).mark_rule(
            color=MID, strokeDash=[2, 3], strokeWidth=1.4, opacity=0.9).encode(
            x=alt.X("step:Q"), tooltip=alt.Tooltip("label:N", title="change")))
    lines = alt.Chart(alt.NamedData(name)).transform_fold(
        list(columns), as_=["series", "value"]).mark_line(strokeWidth=1.8, clip=True).encode(
        x=step,
        y=alt.Y("value:Q", title=y_title, scale=scale,
                axis=alt.Undefined if log_y else alt.Axis(format="~g")),
        color=alt.Color("series:N", scale=alt.Scale(domain=list(columns), range=colors),
                        legend=alt.Legend(title=None, orient="top", direction="horizontal",
                                          labelExpr=names)))
    layers.append(lines)
    if ghost:  # the ghost's line, dashed in its own colour beside the run's
        layers.append(alt.Chart(alt.NamedData("ghost")).mark_line(
            strokeWidth=1.5, strokeDash=[4, 3], color=GHOST, clip=True).encode(
            x=step, y=alt.Y("value:Q", scale=scale)))
    if rules:
        marks = alt.Chart(alt.InlineData(
            values=[{"value": v, "label": k} for k, v in rules.items()]))
        layers.append(marks.mark_rule(strokeDash=[5, 4], color=MID).encode(y="value:Q"))
        layers.append(marks.mark_text(align="left", dx=4, dy=-7, color=MID,
                                      fontSize=11).encode(
            x=alt.value(0), y="value:Q", text="label:N"))
    return alt.layer(*layers).properties(title=title, height=170)


@dataclass(frozen=True)
class Panel:
    """One history chart: the series it reads, its columns and how it is labelled."""

    series: str  # "train" or "eval"
    columns: dict[str, str]  # column -> legend label
    colors: tuple[str, ...]
    title: str
    y_title: str
    log_y: bool = False
    smallest: float = 1e-4
    """On a log axis, values are drawn at least this large (a log axis has no zero)."""


HISTORY_PANELS = {
    "losses": Panel("train", {"d_loss": "D loss", "g_loss": "G loss"}, ("#6f5cf2", GENERATED),
                    "Losses", "loss"),
    "outputs": Panel("train", {"d_real": "D(real)", "d_fake": "D(fake)"}, (UPPER, GENERATED),
                     "Discriminator outputs", "mean D(x)"),
    "force": Panel("train", {"g_force": "force on G"}, (FORCE,),
                   "Push G receives (vanishes when D wins)", "mean |∂ℓ/∂x|", log_y=True,
                   smallest=1e-9),
    "in_band": Panel("eval", {"in_band": "in band"}, (GENERATED,),
                     "In band (inside the envelope)", "fraction"),
    "w1": Panel("eval", {"w1": "W1"}, ("#e4572e",), "W1 of the parameter (lower is better)",
                "W1", log_y=True),
    "joint_w1": Panel("eval", {"joint_w1": "W1, joint"}, ("#e4572e",),
                      "W1 of amplitude and phase together (lower is better)", "W1",
                      log_y=True),
    "jsd": Panel("eval", {"jsd": "from the densities", "jsd_d": "from D's loss"},
                 (MID, "#6f5cf2"), "Jensen–Shannon divergence", "JSD (nats)"),
}


def history_panels(target_name: str) -> tuple[str, ...]:
    """The history panels of a run of this target, in the page's order: a two-parameter family
    is judged on the joint law of its parameters, not on each apart."""
    quality = "joint_w1" if len(get_target(target_name).param_names) > 1 else "w1"
    return ("losses", "outputs", "force", "in_band", quality, "jsd")


def _reference_lines(panel: str, loss: str, target_name: str) -> dict[str, float]:
    point = equilibrium_point(loss)
    floors = noise_floors(target_name, DEFAULT_POINTS, EVAL_SAMPLES)
    if panel == "losses":
        d_eq, g_eq = point.d_loss, point.g_loss
        return {f"D equilibrium {d_eq:.3f}": d_eq, f"G equilibrium {g_eq:.3f}": g_eq}
    if panel == "outputs":  # least squares' undecided D outputs logit 1/2: sigmoid 0.62
        return {f"{point.d_real:.2f}: D cannot tell": point.d_real}
    if panel == "joint_w1":
        return {f"noise floor {floors.joint_w1:.3f}": floors.joint_w1}
    if panel == "jsd":
        return {f"noise floor {floors.jsd:.3f}": floors.jsd}
    return {"w1": {"perfect ≈ 0.01": 0.01}}.get(panel, {})


@lru_cache(maxsize=256)
def history_spec(panel: str, loss: str, ghost: bool = False, changes: bool = False,
                 events: bool = False, target_name: str = "parabola") -> Spec:
    """One of the history panels; losses and D outputs carry their loss's equilibria, the
    distances their noise floors. With ``changes`` and ``events``, the run's changes and
    events; with ``ghost`` (the eval panels only), a ghost run's line beside the run's."""
    p = HISTORY_PANELS[panel]
    return _finish(_history_chart(panel, p.columns, list(p.colors), p.title,
                                  _reference_lines(panel, loss, target_name), p.y_title, p.log_y,
                                  ghost=ghost and p.series == "eval", changes=changes,
                                  events=events))


@dataclass(frozen=True)
class Mark:
    """Something that happened to a run, for the history charts: a change at one step
    (``start == end``) or an event over a span of steps, with its text."""

    start: int
    end: int
    label: str


def history_data(history: History, panel: str, changes: Sequence[Mark] = (),
                 events: Sequence[Mark] = (), ghost: History | None = None) -> Datasets:
    """The panel's columns, thinned to at most ``MAX_HISTORY_POINTS`` rows for drawing, the
    run's changes and events (if any: ``history_spec(changes=..., events=...)``) and the
    ghost's line (``history_spec(ghost=True)``).

    Each panel gets its own dataset with only its columns: a chart must receive only datasets
    it uses (Vega rejects data for a name it does not know, and the whole update is lost).
    """
    p = HISTORY_PANELS[panel]
    data: Datasets = {panel: _thinned(history, p)}
    if changes:
        data["changes"] = {"step": np.array([m.start for m in changes], np.int32),
                           "label": np.array([m.label for m in changes], str)}
    if events:
        data["events"] = {"start": np.array([m.start for m in events], np.int32),
                          "end": np.array([m.end for m in events], np.int32),
                          "label": np.array([m.label for m in events], str)}
    if ghost is not None and p.series == "eval":
        lines = _thinned(ghost, p)
        data["ghost"] = {"step": lines["step"], "value": lines[next(iter(p.columns))]}
    return data


def _thinned(history: History, p: Panel) -> dict[str, np.ndarray]:
    series = history.train if p.series == "train" else history.eval
    steps = series.steps
    keep = slice(None, None, max(1, -(-len(steps) // MAX_HISTORY_POINTS)))
    data = {"step": steps[keep].astype(np.int32)}
    for column in p.columns:
        values = series.column(column)[keep].astype(np.float32)
        data[column] = np.maximum(values, p.smallest) if p.log_y else values
    return data


# -- distribution of the fitted parameter ------------------------------------------------------

@lru_cache(maxsize=8)
def distribution_spec(target_name: str) -> Spec:
    target = get_target(target_name)
    name = target.param_names[0]
    x = alt.X("center:Q", title=f"fitted {name}")
    bars = alt.Chart(alt.NamedData("hist")).mark_rect(color=GENERATED, opacity=0.65).encode(
        x=alt.X("left:Q", title=f"fitted {name}"), x2="right:Q",
        # A y axis as wide whatever its labels ("0.5" or "12"): the layout never moves.
        y=alt.Y("generated:Q", title="density", axis=alt.Axis(minExtent=30, maxExtent=30)),
        y2=alt.datum(0))
    law = alt.Chart(alt.NamedData("hist")).mark_line(
        color=MID, interpolate="step", strokeWidth=2).encode(x=x, y="target:Q")
    spec = _finish(alt.layer(bars, law).properties(
        height=HEIGHT - 60, title=f"Fitted {name} of generated curves vs the true law"))
    # The bins' edges are fixed and the y axis's width too: new data moves a bar, never the
    # layout (see curves_spec).
    spec["usermeta"]["fixedLayout"] = True
    return spec


def distribution_data(fitted: np.ndarray, target_name: str, bins: int = 30) -> Datasets:
    """A density histogram of the fitted parameter ``fitted`` ``(n,)`` beside its true law."""
    law = get_target(target_name).param_laws()[0]
    lo, hi = law.bounds
    pad = 0.5 * (hi - lo)
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    generated, _ = np.histogram(fitted, bins=edges, density=False)
    width = edges[1] - edges[0]
    centers = (edges[:-1] + edges[1:]) / 2
    density = np.zeros(bins)
    for a, b in law.ranges:
        density += ((centers >= a) & (centers <= b)) / (len(law.ranges) * (b - a))
    return {"hist": {"left": edges[:-1].astype(np.float32), "right": edges[1:].astype(np.float32),
                     "center": centers.astype(np.float32),
                     "generated": (generated / (len(fitted) * width)).astype(np.float32),
                     "target": density.astype(np.float32)}}


# -- the optimal discriminator beside the learned one -----------------------------------------

@lru_cache(maxsize=8)
def theory_spec(target_name: str) -> Spec:
    """Along the target's parameter: where real and generated curves lie (their densities,
    scaled to the chart), the optimal D for this G, and what D learned."""
    param = get_target(target_name).param_names[0]
    x = alt.X("a:Q", title=f"{param} of the curve", scale=alt.Scale(nice=False))
    densities = alt.Chart(alt.NamedData("theory")).transform_fold(
        ["p_data", "p_g"], as_=["law", "density"]).mark_area(opacity=0.25).encode(
        x=x, y=alt.Y("density:Q", title="D(x) · density (scaled)",
                     scale=alt.Scale(domain=[0, 1.05])),
        color=alt.Color("law:N", scale=alt.Scale(domain=["p_data", "p_g"],
                                                 range=[REAL, GENERATED]),
                        legend=alt.Legend(title=None, orient="top", direction="horizontal",
                                          labelExpr="{'p_data': 'real curves', 'p_g': "
                                          "'generated'}[datum.value]")))
    lines = alt.Chart(alt.NamedData("theory")).transform_fold(
        ["d_optimal", "d_learned"], as_=["which", "d"]).mark_line(strokeWidth=2.2).encode(
        x=x, y=alt.Y("d:Q", scale=alt.Scale(domain=[0, 1.05])),
        strokeDash=alt.StrokeDash("which:N", scale=alt.Scale(
            domain=["d_optimal", "d_learned"], range=[[5, 3], [1, 0]]), legend=None),
        stroke=alt.Stroke("which:N", scale=alt.Scale(domain=["d_optimal", "d_learned"],
                                                     range=[MID, "#d6336c"]),
                          legend=alt.Legend(title=None, orient="bottom", direction="horizontal",
                                            labelLimit=260,
                                            labelExpr="{'d_optimal': 'D* (optimal for this G)', "
                                            "'d_learned': 'D as learned'}[datum.value]")))
    half = alt.Chart(alt.InlineData(values=[{"y": 0.5}])).mark_rule(
        strokeDash=[2, 3], color=MID).encode(y="y:Q")
    return _finish(alt.layer(densities, half, lines).resolve_scale(stroke="independent")
                   .properties(height=HEIGHT - 40))


def theory_data(view: TheoryView) -> Datasets:
    """The view's curves on its grid; densities scaled so the larger peaks at 1."""
    peak = max(float(np.nanmax(view.p_data, initial=0)), float(np.nanmax(view.p_g, initial=0)))
    scale = 1.0 / peak if peak > 0 else 1.0
    return {"theory": {"a": view.grid.astype(np.float32),
                       "p_data": (view.p_data * scale).astype(np.float32),
                       "p_g": (view.p_g * scale).astype(np.float32),
                       "d_optimal": view.d_optimal.astype(np.float32),
                       "d_learned": view.d_learned.astype(np.float32)}}


# -- discriminator map ---------------------------------------------------------------------------

MAP_RESOLUTION = 25
MAP_KINDS = ("real", "generated", "generated, off the map (at its edge)")
# Each cell's column and row: D's map arrives row-major, one row per v.
_MAP_ROWS, _MAP_COLUMNS = (i.astype(np.uint8) for i in np.divmod(
    np.arange(MAP_RESOLUTION**2), MAP_RESOLUTION))
_MAP_ROWS.setflags(write=False)
_MAP_COLUMNS.setflags(write=False)


@lru_cache(maxsize=8)
def discriminator_spec(target_name: str) -> Spec:
    """D's belief over the plane of curves as a heatmap, real and generated curves as dots.

    The cells sit on band scales of their grid indices, which split the plot into equal
    columns and rows with no arithmetic per cell; the dots' axes span the same plane from the
    outer edge of the first cell to the outer edge of the last.
    """
    plane = get_target(target_name).plane
    res = MAP_RESOLUTION
    du = (plane.u_range[1] - plane.u_range[0]) / (res - 1)
    dv = (plane.v_range[1] - plane.v_range[0]) / (res - 1)
    u_scale = alt.Scale(domain=[plane.u_range[0] - du / 2, plane.u_range[1] + du / 2], nice=False)
    v_scale = alt.Scale(domain=[plane.v_range[0] - dv / 2, plane.v_range[1] + dv / 2], nice=False)
    cells = alt.Scale(domain=list(range(res)), paddingInner=0, paddingOuter=0)
    rows = alt.Scale(domain=list(range(res - 1, -1, -1)), paddingInner=0, paddingOuter=0)
    belief = alt.Scale(scheme="redblue", domain=[0, 250], reverse=True)
    # Each cell is stroked in its own colour: neighbouring cells at fractional pixel edges
    # would otherwise show the background through hairline seams.
    heat = alt.Chart(alt.NamedData("dmap")).mark_rect(strokeWidth=0.75).encode(
        x=alt.X("iu:O", scale=cells, axis=None), y=alt.Y("iv:O", scale=rows, axis=None),
        fill=alt.Fill("p250:Q", scale=belief,
                      legend=alt.Legend(title="D(x)", orient="right", values=[0, 125, 250],
                                        labelExpr="datum.value / 250")),
        stroke=alt.Stroke("p250:Q", scale=belief, legend=None))
    codes, names = _codes(MAP_KINDS)
    kinds = alt.Legend(title=None, orient="bottom", direction="horizontal", labelExpr=names,
                       columns=3, labelLimit=220)
    dots = alt.Chart(alt.NamedData("points")).mark_point(filled=True, clip=True).encode(
        x=alt.X("u:Q", scale=u_scale, title=plane.u_label, axis=alt.Axis(orient="bottom")),
        y=alt.Y("v:Q", scale=v_scale, title=plane.v_label, axis=alt.Axis(orient="left")),
        # A curve off the map is drawn at its edge as a wedge pointing to where it lies.
        shape=alt.Shape("k:N", scale=alt.Scale(domain=codes,
                                               range=["diamond", "circle", "triangle-up"]),
                        legend=None),
        angle=alt.Angle("angle:Q", scale=None),
        size=alt.Size("size:Q", scale=None),
        stroke=alt.value(INK), strokeWidth=alt.value(0.6),
        fill=alt.Fill("k:N", scale=alt.Scale(domain=codes, range=[REAL, GENERATED, GENERATED]),
                      legend=kinds))
    # The cells' fill is D's belief, the dots' their kind: two scales, a legend each. The
    # title is two short lines: one long line is cut short on a phone.
    title = alt.TitleParams("What D believes is real", subtitle="over the plane of curves")
    return _finish(alt.layer(heat, dots).resolve_scale(x="independent", y="independent",
                                                       fill="independent")
                   .properties(height=HEIGHT - 40, title=title))


def discriminator_data(dmap: DiscriminatorMap) -> Datasets:
    """D's belief on the ``MAP_RESOLUTION`` grid and the curves placed on the plane; a
    generated curve off the map (an untrained G's are) at the map's edge, pointing to where it
    lies, so that G's curves show from the first step."""
    if dmap.prob.shape != (MAP_RESOLUTION, MAP_RESOLUTION):
        raise ValueError(f"the map must be {MAP_RESOLUTION} x {MAP_RESOLUTION}, not "
                         f"{dmap.prob.shape}")
    # The map's edges: half a cell beyond the outer cells' centres, as discriminator_spec.
    edges = [(axis[0] - (axis[1] - axis[0]) / 2, axis[-1] + (axis[1] - axis[0]) / 2)
             for axis in (dmap.u, dmap.v)]
    low, high = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    generated = np.asarray(dmap.generated, np.float64)
    finite = np.isfinite(generated).all(axis=1)
    generated = generated[finite]
    inset = 0.01 * (high - low)  # a wedge's centre just inside the edge, whole on the chart
    placed = np.clip(generated, low + inset, high - inset)
    off = (generated != placed).any(axis=1) & ~((generated >= low) & (generated <= high)).all(
        axis=1)
    placed = np.where(off[:, None], placed, generated)
    # The wedge's heading on the chart: its axes scaled to the map's width and height.
    away = (generated - placed) / (high - low)
    angle = np.where(off, np.degrees(np.arctan2(away[:, 0], away[:, 1])), 0.0)
    points = np.concatenate([dmap.real, placed]).astype(np.float32)
    kinds = np.array([0] * len(dmap.real) + [2 if o else 1 for o in off], dtype=np.int8)
    return {
        # D(x) to 1/250 is plenty for a colour scale and a quarter of the bytes of a float.
        "dmap": {"iu": _MAP_COLUMNS, "iv": _MAP_ROWS,
                 "p250": np.round(250 * np.nan_to_num(dmap.prob.ravel(), nan=0.5)).astype(
                     np.uint8)},
        "points": {"u": points[:, 0], "v": points[:, 1], "k": kinds,
                   "angle": np.concatenate([np.zeros(len(dmap.real)), angle]).astype(
                       np.float32),
                   "size": np.where(kinds == 2, 48, 28).astype(np.uint8)},
    }


# -- latent explorer ------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def latent_spec(target_name: str) -> Spec:
    y_scale = alt.Scale(domain=list(_y_domain(target_name)))
    x_axis = alt.X("x:Q", scale=alt.Scale(domain=[-1, 1]), title="x")
    band = _band_layer(x_axis, y_scale)
    sweep = alt.Chart(alt.NamedData("sweep")).mark_line(clip=True).encode(
        x=x_axis, y=alt.Y("y:Q", scale=y_scale), detail="t:Q",
        color=alt.Color("t:Q", scale=alt.Scale(scheme="viridis", domain=list(LATENT_RANGE)),
                        legend=alt.Legend(title="z[i]")),
        strokeWidth=alt.condition("datum.current", alt.value(4), alt.value(1.2)),
        opacity=alt.condition("datum.current", alt.value(1), alt.value(0.55)))
    spec = _finish(alt.layer(band, sweep).properties(height=HEIGHT - 40))
    spec["usermeta"]["fixedLayout"] = True  # every domain is fixed, as the curves chart's
    return spec


def latent_data(sweep: LatentSweep, target_name: str) -> Datasets:
    """Curves along one latent direction, the chosen position marked."""
    x, k = sweep.x, len(sweep.positions)
    return {
        "band": _band(target_name),
        "sweep": {"x": np.tile(x, k), "y": sweep.curves.ravel(),
                  "t": np.repeat(sweep.positions, len(x)),
                  "current": np.repeat(np.isclose(sweep.positions, sweep.current), len(x))},
    }


def icon(size: int = 64) -> np.ndarray:
    """The app's icon as an RGB image: the band between the bounds and a green parabola."""
    x = np.linspace(-1, 1, size)
    rows = np.linspace(3.2, -0.6, size)[:, None]
    image = np.full((size, size, 3), 255, np.uint8)
    inside = (rows >= x**2) & (rows <= 2 * x**2 + 1)
    image[inside] = (222, 232, 252)
    curve = np.abs(rows - (1.5 * x**2 + 0.5)) < 0.09
    image[curve] = (47, 158, 68)
    return image


# -- stability map ---------------------------------------------------------------------------------

STABILITY_METRICS = {
    "w1": ("W1 (lower is better)", alt.Scale(type="log", scheme="viridis", reverse=True,
                                             domain=[0.01, 3], clamp=True)),
    "in_band": ("In band", alt.Scale(scheme="viridis", domain=[0, 1])),
    "diverged": ("Diverged (share of seeds)", alt.Scale(scheme="reds", domain=[0, 1])),
}


@lru_cache(maxsize=32)
def stability_spec(metric: str, x_field: str, y_field: str | None) -> Spec:
    """A heatmap of one metric over the grid; clicking a cell selects it (``cell``)."""
    title, scale = STABILITY_METRICS[metric]
    pick = alt.selection_point(name="cell", fields=["ix", "iy"], on="click", empty=False)
    base = alt.Chart(alt.NamedData("cells")).encode(
        x=alt.X("x:O", title=x_field, sort=alt.SortField("ix"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("y:O", title=y_field or "", sort=alt.SortField("iy", order="descending")))
    heat = base.mark_rect(stroke="white", strokeWidth=1.5, cursor="pointer", opacity=1).encode(
        color=alt.Color("value:Q", scale=scale, title=title,
                        legend=alt.Legend(orient="right", format=".2~g")),
        strokeOpacity=alt.condition(pick, alt.value(1), alt.value(0.4)),
        tooltip=[alt.Tooltip("x:N", title=x_field), alt.Tooltip("y:N", title=y_field or ""),
                 alt.Tooltip("in_band:Q", format=".3f", title="in band"),
                 alt.Tooltip("w1:Q", format=".3f", title="W1"),
                 alt.Tooltip("diverged:Q", format=".0%", title="diverged")],
    ).add_params(pick)
    label = base.mark_text(fontSize=11).encode(
        text=alt.Text("label:N"),
        color=alt.condition("datum.dark", alt.value("white"), alt.value(INK)))
    ring = base.mark_rect(fill=None, stroke=INK, strokeWidth=3).transform_filter(pick)
    return _finish(alt.layer(heat, label, ring).properties(height=380))


def stability_data(cells: list[dict], metric: str) -> Datasets:
    """The grid's cells: axis values as labels, every metric, and the chosen one as ``value``."""
    def text(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    value = np.array([c[metric] for c in cells], dtype=np.float64)
    finite = np.isfinite(value)
    with np.errstate(all="ignore"):  # NaN (diverged) cells have no colour and no label
        if metric == "w1":  # log scale 0.01 .. 3, reversed: high W1 is dark
            dark = np.log10(np.clip(value, 0.01, 3) / 0.01) / np.log10(300) > 0.45
        elif metric == "in_band":  # low in-band is dark
            dark = value < 0.55
        else:  # many diverged seeds is dark red
            dark = value > 0.5
    return {"cells": {
        "ix": np.array([c["ix"] for c in cells], np.int16),
        "iy": np.array([c["iy"] for c in cells], np.int16),
        "x": np.array([text(c["x"]) for c in cells]),
        "y": np.array([text(c["y"]) if c["y"] is not None else "" for c in cells]),
        "in_band": np.array([c["in_band"] for c in cells], np.float32),
        "w1": np.array([c["w1"] for c in cells], np.float32),
        "diverged": np.array([c["diverged"] for c in cells], np.float32),
        "value": np.where(finite, value, np.nan).astype(np.float32),
        "label": np.array(["diverged" if c["diverged"] == 1 else
                           (f"{v:.2f}" if np.isfinite(v) else "") for c, v in zip(
                               cells, value, strict=True)]),
        "dark": finite & dark,
    }}

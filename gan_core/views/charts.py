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

A conditional run's charts (``conditional=True``) draw each class's band in the tutorial's bound
colours, the class looked at full and the others faded, and colour G's curves (and a ghost's,
dashed) by the class they were asked for (``CLASS_COLORS``, none of them a bound's colour).
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
from ..gan.targets import CLASS_MARK, DataFamily, Uniforms, curve_grid, get_target
from ..measure.metrics import EVAL_SAMPLES, data_floors, noise_floors
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
CLASS_COLORS = ("#2b8a3e", "#7048e8", "#e8590c", "#1864ab", "#c92a2a", "#0b7285", "#862e9c",
                "#a61e4d")
"""G's curves by the class asked for: class 0 green (the tutorial's painting, darker), class 1
violet; more classes (a data set's) in turn after them."""
FADED = 0.3
"""Opacity of the bands of the classes not looked at."""
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
    _, lower, upper = get_target(target_name).band(201)
    pad = 0.35 * float(upper.max() - lower.min())
    low, high = float(lower.min()) - pad, float(upper.max()) + pad
    digits = max(2, 2 - int(np.floor(np.log10(max(high - low, 1e-12)))))
    return round(low, digits), round(high, digits)


def _x_axis(target_name: str) -> alt.X:
    """The curves' x axis: [-1, 1] for the families, your data's own positions for yours."""
    data = get_target(target_name).data
    if data is None:
        return alt.X("x:Q", scale=alt.Scale(domain=[-1, 1]), title="x")
    return alt.X("x:Q", scale=alt.Scale(domain=[float(data.x[0]), float(data.x[-1])],
                                        nice=False), title="x")


def _band_layer(x_axis: alt.X, y_scale: alt.Scale, opacity: float = 1.0) -> alt.Chart:
    """The target's envelope as a shaded band, from the ``band`` dataset."""
    return alt.Chart(alt.NamedData("band")).mark_area(
        color=BAND, opacity=BAND_OPACITY * opacity).encode(
        x=x_axis, y=alt.Y("lower:Q", scale=y_scale, title="y"), y2="upper:Q")


def class_colors(n_classes: int) -> list[str]:
    return [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(n_classes)]


def _class_band_layers(x_axis: alt.X, y_scale: alt.Scale, bounds: bool) -> list[alt.Chart]:
    """Each class's band from the ``band`` dataset of :func:`_class_bands`, the class looked
    at (``f`` 0) drawn full and the others faded; with ``bounds``, each band's edges in the
    tutorial's bound colours, faded alike."""
    fade = alt.Opacity("f:O", scale=alt.Scale(type="ordinal", domain=[0, 1],
                                              range=[0.9, FADED]), legend=None)
    layers = [alt.Chart(alt.NamedData("band")).mark_area(color=BAND).encode(
        x=x_axis, y=alt.Y("lower:Q", scale=y_scale, title="y"), y2="upper:Q", detail="c:N",
        opacity=fade)]
    if bounds:
        line_fade = alt.Opacity("f:O", scale=alt.Scale(type="ordinal", domain=[0, 1],
                                                       range=[1, FADED]), legend=None)
        layers.append(alt.Chart(alt.NamedData("band")).transform_fold(
            ["lower", "upper"], as_=["bound", "value"]).mark_line(strokeWidth=2.5).encode(
            x=x_axis, y=alt.Y("value:Q", scale=y_scale), detail="c:N", opacity=line_fade,
            color=alt.Color("bound:N", scale=alt.Scale(domain=["lower", "upper"],
                                                      range=[LOWER, UPPER]),
                            legend=alt.Legend(title=None, orient="top", direction="horizontal",
                                              labelExpr="datum.value + ' bound'"))))
    return layers


@lru_cache(maxsize=32)
def _class_bands(target_name: str, focus: int) -> dict[str, np.ndarray]:
    """The ``band`` dataset of a conditional run's charts: each class's envelope (its band)
    on 61 points (your data's: at their own points, in their own units), class ``c`` of each
    row and whether it is faded, ``f`` (all but ``focus``)."""
    dense = curve_grid(61)
    target = get_target(target_name)
    k = len(target.class_names)
    if isinstance(target, DataFamily):
        dense = target.data.x.astype(np.float32)
        edges = [target.class_target(c).band()[1:] for c in range(k)]
    else:
        edges = [target.class_target(c).envelope(dense) for c in range(k)]
    classes = np.repeat(np.arange(k, dtype=np.int8), len(dense))
    band = {"x": np.tile(dense, k),
            "lower": np.concatenate([lo for lo, _ in edges]).astype(np.float32),
            "upper": np.concatenate([hi for _, hi in edges]).astype(np.float32),
            "c": classes, "f": (classes != focus).astype(np.int8)}
    for column in band.values():
        column.setflags(write=False)  # shared by every session's charts
    return band


@lru_cache(maxsize=8)
def _band(target_name: str) -> dict[str, np.ndarray]:
    """The ``band`` dataset: the target's envelope on 61 points (at your data's own points).
    It never changes, so it is computed once per target and sent as is."""
    x, lower, upper = get_target(target_name).band(61)
    band = {"x": x.astype(np.float32), "lower": lower.astype(np.float32),
            "upper": upper.astype(np.float32)}
    for column in band.values():
        column.setflags(write=False)  # shared by every session's charts
    return band


# -- the generated curves inside the bounds ------------------------------------------------

@lru_cache(maxsize=32)
def curves_spec(target_name: str, ghost: bool = False, forces: bool = False,
                small: bool = False, conditional: bool = False) -> Spec:
    """The curves inside the target's band; with ``ghost``, a twin run's curves dashed beside
    them (or, in slow motion, the curves before); with ``forces``, each generated point's push
    from D as a short vertical line; ``small`` for a strip of several. A ``conditional`` run's
    chart draws each class's band and colours G's curves by the class asked for."""
    if conditional:
        return _conditional_curves_spec(target_name, ghost, forces, small)
    x_axis = _x_axis(target_name)
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
        layers += _force_layers(x_axis, y_scale)
    return _curves_finish(alt.layer(*layers), small)


def _force_layers(x_axis: alt.X, y_scale: alt.Scale) -> list[alt.Chart]:
    """D's push on each generated point: a rule from the point to its tip, and an arrowhead."""
    pushes = alt.Chart(alt.NamedData("forces"))
    return [pushes.mark_rule(color=FORCE, strokeWidth=1.6, clip=True).encode(
                x=x_axis, y=alt.Y("y:Q", scale=y_scale), y2="tip:Q"),
            pushes.mark_point(filled=True, size=26, color=FORCE, clip=True, opacity=1).encode(
                x=x_axis, y=alt.Y("tip:Q", scale=y_scale),
                shape=alt.Shape("up:N", scale=alt.Scale(domain=[0, 1],
                                                        range=["triangle-down", "triangle-up"]),
                                legend=None))]


def _curves_finish(layered: alt.LayerChart, small: bool) -> Spec:
    """The curves chart's spec, at its height, its legends laid out."""
    spec = _finish(layered.properties(height=HEIGHT - 100 if small else HEIGHT + 20))
    # Both legends above the plot, one row each: side by side they collide on a phone.
    spec["config"]["legend"] = {"layout": {"top": {"direction": "vertical", "anchor": "start"}}}
    # Every scale and legend has a fixed domain: new data never moves an axis, so a page
    # updating the chart several times a second need not lay it out again each time.
    spec["usermeta"]["fixedLayout"] = True
    return spec


def _conditional_curves_spec(target_name: str, ghost: bool, forces: bool, small: bool) -> Spec:
    """:func:`curves_spec` of a conditional run: the bands of :func:`_class_band_layers`,
    real curves grey, G's (and a ghost's, dashed) in the colour of the class each was asked
    for (``s``: 0 real, ``1 + c`` class ``c``), widths and dashes by kind as ever."""
    x_axis = _x_axis(target_name)
    y_scale = alt.Scale(domain=list(_y_domain(target_name)))
    names = get_target(target_name).class_names
    codes, label_expr = _codes(["real", *(f"G: {name}" for name in names)])
    colors = alt.Scale(domain=codes, range=[REAL, *class_colors(len(names))])
    kinds = list(range(len(KINDS) if ghost else 3))

    def by_kind(values: list) -> alt.Scale:
        return alt.Scale(type="ordinal", domain=kinds, range=values[:len(kinds)])

    legend = alt.Legend(title=None, orient="top", direction="horizontal", labelExpr=label_expr)
    lines = alt.Chart(alt.NamedData("curves")).mark_line(clip=True).encode(
        x=x_axis, y=alt.Y("y:Q", scale=y_scale), detail="curve:N",
        stroke=alt.Stroke("s:N", scale=colors, legend=legend),
        strokeWidth=alt.StrokeWidth("w:O", scale=by_kind([1, 1.5, 4, 1.2]), legend=None),
        opacity=alt.Opacity("w:O", scale=by_kind([0.55, 0.7, 1, 0.7]), legend=None),
        strokeDash=alt.StrokeDash("w:O", scale=by_kind([[1, 0], [1, 0], [1, 0], [4, 3]]),
                                  legend=None),
        order=alt.Order("k:Q"))
    # The bold curve's dots read a copy of its code, ``h``: on ``s`` itself Vega-Lite would
    # merge their (hidden) legend with the curves' and warn of the conflict.
    points = alt.Chart(alt.NamedData("highlighted")).mark_circle(size=45, clip=True).encode(
        x=x_axis, y=alt.Y("y:Q", scale=y_scale),
        fill=alt.Fill("h:N", scale=colors, legend=None), opacity=alt.value(1))
    layers = [*_class_band_layers(x_axis, y_scale, bounds=True), lines, points]
    if forces:
        layers += _force_layers(x_axis, y_scale)
    return _curves_finish(alt.layer(*layers).resolve_scale(opacity="independent"), small)


def force_scale(forces: np.ndarray, longest: float = 0.35) -> float:
    """Length on the chart per unit of force: one scale for every line, on a 1-2-5 ladder,
    chosen so that the longest line is at most ``longest`` (in units of y; for curves shown in
    other units than they train in, ``0.35 * target.unit``: :func:`force_reach`)."""
    biggest = float(np.max(np.abs(forces), initial=0.0))
    if not np.isfinite(biggest) or biggest == 0:
        return 1.0
    raw = longest / biggest
    decade = 10.0 ** np.floor(np.log10(raw))
    return float(max(m * decade for m in (1, 2, 5) if m * decade <= raw))


def force_reach(target_name: str) -> float:
    """The longest force line, in the chart's units of y: 0.35, scaled as the curves are."""
    return 0.35 * get_target(target_name).unit


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
    if view.labels is not None:  # a conditional run's: each class's band, curves by class
        strokes = np.concatenate([np.zeros(n_real), 1 + view.labels,
                                  [] if ghost is None else 1 + view.labels[:len(ghost)]])
        data["band"] = _class_bands(target_name, view.focus)
        data["curves"]["s"] = np.repeat(strokes.astype(np.int8), n)
        data["highlighted"]["h"] = np.full(n, 1 + view.labels[0], np.int8)
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
    "class_accuracy": Panel("eval", {"class_accuracy": "class accuracy", "in_band": "in band"},
                            (CLASS_COLORS[1], GENERATED),
                            "Class accuracy (in the band of the class asked for)", "fraction"),
    "w1": Panel("eval", {"w1": "W1"}, ("#e4572e",), "W1 of the parameter (lower is better)",
                "W1", log_y=True),
    "joint_w1": Panel("eval", {"joint_w1": "W1, joint"}, ("#e4572e",),
                      "W1 of amplitude and phase together (lower is better)", "W1",
                      log_y=True),
    "jsd": Panel("eval", {"jsd": "from the densities", "jsd_d": "from D's loss"},
                 (MID, "#6f5cf2"), "Jensen–Shannon divergence", "JSD (nats)"),
    "sliced_w1": Panel("eval", {"sliced_w1": "sliced W1"}, ("#e4572e",),
                       "Sliced W1 (lower is better)", "W1", log_y=True),
    "precision_recall": Panel("eval", {"precision": "precision", "recall": "recall"},
                              (GENERATED, "#6f5cf2"), "Precision and recall", "share"),
}
"""The history panels. ``jsd`` is along the first principal component for your data."""


def history_panels(target_name: str, conditional: bool = False) -> tuple[str, ...]:
    """The history panels of a run of this target, in the page's order: a two-parameter family
    is judged on the joint law of its parameters, not on each apart; your data in curve space,
    with the JSD along their first component where they allow a density; a conditional run on
    whether G paints the class asked for, beside the in-band fraction."""
    target = get_target(target_name)
    band = "class_accuracy" if conditional else "in_band"
    if isinstance(target, DataFamily):
        return ("losses", "outputs", "force", band, "sliced_w1", "precision_recall",
                *(("jsd",) if target.theory_reason is None else ()))
    quality = "joint_w1" if len(target.param_names) > 1 else "w1"
    return ("losses", "outputs", "force", band, quality, "jsd")


def _reference_lines(panel: str, loss: str, target_name: str,
                     real_label: float = 1.0) -> dict[str, float]:
    point = equilibrium_point(loss, real_label)
    if isinstance(get_target(target_name), DataFamily):
        data = data_floors(target_name, EVAL_SAMPLES)
        lines = {"in_band": {f"real curves {data.in_band:.3f}": data.in_band},
                 "sliced_w1": {f"noise floor {data.sliced_w1:.3g}": data.sliced_w1},
                 "precision_recall": {f"real curves {min(data.precision, data.recall):.2f}":
                                      min(data.precision, data.recall)},
                 "jsd": {f"noise floor {data.jsd:.3f}": data.jsd}}
        if panel in lines:
            return lines[panel]
    floors = noise_floors(target_name, DEFAULT_POINTS, EVAL_SAMPLES) if panel in (
        "joint_w1", "jsd") else None
    if panel == "losses":  # a critic's G loss has no target: its level is free
        lines = {f"D equilibrium {point.d_loss:.3f}": point.d_loss}
        if not np.isnan(point.g_loss):
            lines[f"G equilibrium {point.g_loss:.3f}"] = point.g_loss
        return lines
    if panel == "outputs":  # least squares' undecided D outputs logit 1/2: sigmoid 0.62
        if np.isnan(point.d_real):  # a critic's scores meet at no fixed level
            return {}
        return {f"{point.d_real:.2f}: D cannot tell": point.d_real}
    if panel == "joint_w1" and floors is not None:
        return {f"noise floor {floors.joint_w1:.3f}": floors.joint_w1}
    if panel == "jsd" and floors is not None:
        return {f"noise floor {floors.jsd:.3f}": floors.jsd}
    return {"w1": {"perfect ≈ 0.01": 0.01}}.get(panel, {})


CRITIC_OUTPUTS = Panel("train", {"d_real": "critic(real)", "d_fake": "critic(fake)"},
                       (UPPER, GENERATED), "Critic scores (a critic has no probability)",
                       "mean critic(x)")
"""The outputs panel of a wasserstein critic: its mean scores, whose gap is what settles."""


@lru_cache(maxsize=256)
def history_spec(panel: str, loss: str, ghost: bool = False, changes: bool = False,
                 events: bool = False, target_name: str = "parabola",
                 real_label: float = 1.0) -> Spec:
    """One of the history panels; losses and D outputs carry their loss's equilibria (with a
    smoothed real label, its own), the distances their noise floors. With ``changes`` and
    ``events``, the run's changes and events; with ``ghost`` (the eval panels only), a ghost
    run's line beside the run's."""
    p = CRITIC_OUTPUTS if panel == "outputs" and loss == "wasserstein" else HISTORY_PANELS[panel]
    return _finish(_history_chart(panel, p.columns, list(p.colors), p.title,
                                  _reference_lines(panel, loss, target_name, real_label),
                                  p.y_title, p.log_y, ghost=ghost and p.series == "eval",
                                  changes=changes, events=events))


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
    for column in p.columns:  # one the run does not record (class accuracy) reads NaN
        values = (series.column(column) if column in series.columns
                  else np.full(len(steps), np.nan))[keep].astype(np.float32)
        data[column] = np.maximum(values, p.smallest) if p.log_y else values
    return data


# -- distribution of the fitted parameter ------------------------------------------------------

@lru_cache(maxsize=8)
def distribution_spec(target_name: str, conditional: bool = False) -> Spec:
    if conditional:
        return _conditional_distribution_spec(target_name)
    target = get_target(target_name)
    name = target.param_names[0]
    axis, title = (f"fitted {name}", f"Fitted {name} of generated curves vs the true law")
    if isinstance(target, DataFamily):
        axis, title = name, f"{name} (first principal component): generated vs real"
    x = alt.X("center:Q", title=axis)
    bars = alt.Chart(alt.NamedData("hist")).mark_rect(color=GENERATED, opacity=0.65).encode(
        x=alt.X("left:Q", title=axis), x2="right:Q",
        # A y axis as wide whatever its labels ("0.5" or "12"): the layout never moves.
        y=alt.Y("generated:Q", title="density", axis=alt.Axis(minExtent=30, maxExtent=30)),
        y2=alt.datum(0))
    law = alt.Chart(alt.NamedData("hist")).mark_line(
        color=MID, interpolate="step", strokeWidth=2).encode(x=x, y="target:Q")
    spec = _finish(alt.layer(bars, law).properties(
        height=HEIGHT - 60, title=title))
    # The bins' edges are fixed and the y axis's width too: new data moves a bar, never the
    # layout (see curves_spec).
    spec["usermeta"]["fixedLayout"] = True
    return spec


def _conditional_distribution_spec(target_name: str) -> Spec:
    """Each class's histogram of the fitted parameter (curves asked for that class, in its
    colour) beside that class's own law."""
    target = get_target(target_name)
    name, classes = target.param_names[0], target.class_names
    axis = name if isinstance(target, DataFamily) else f"fitted {name}"
    title = (f"{name} of each class's curves vs its real curves'"
             if isinstance(target, DataFamily)
             else f"Fitted {name} of each class's curves vs its law")
    codes, label_expr = _codes(list(classes))
    colors = alt.Scale(domain=codes, range=class_colors(len(classes)))
    legend = alt.Legend(title="asked for", orient="top", direction="horizontal",
                        labelExpr=label_expr)
    bars = alt.Chart(alt.NamedData("hist")).mark_rect(opacity=0.5).encode(
        x=alt.X("left:Q", title=axis), x2="right:Q",
        y=alt.Y("generated:Q", title="density", axis=alt.Axis(minExtent=30, maxExtent=30)),
        y2=alt.datum(0), fill=alt.Fill("c:N", scale=colors, legend=legend))
    # The laws' lines read a copy of the class, ``l``: see the curves chart's dots.
    law = alt.Chart(alt.NamedData("hist")).mark_line(interpolate="step", strokeWidth=2).encode(
        x=alt.X("center:Q", title=axis), y="target:Q", detail="l:N",
        stroke=alt.Stroke("l:N", scale=colors, legend=None))
    spec = _finish(alt.layer(bars, law).properties(height=HEIGHT - 60, title=title))
    spec["usermeta"]["fixedLayout"] = True
    return spec


def distribution_data(fitted: np.ndarray, target_name: str, bins: int = 30,
                      labels: np.ndarray | None = None) -> Datasets:
    """A density histogram of the fitted parameter ``fitted`` ``(n,)`` beside its true law (for
    your data: of the first principal component's score, beside the real curves'); with
    ``labels`` (a conditional run's classes asked for), one per class beside the class's
    own law (``_conditional_distribution_spec``)."""
    if labels is not None:
        target = get_target(target_name)
        parts = [_histogram(fitted[labels == c], f"{target_name}{CLASS_MARK}{c}", bins,
                            edges_of=target_name)["hist"]
                 for c in range(len(target.class_names))]
        hist = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        hist["c"] = np.repeat(np.arange(len(parts), dtype=np.int8), bins)
        hist["l"] = hist["c"].copy()
        return {"hist": hist}
    return _histogram(fitted, target_name, bins, target_name)


def _histogram(fitted: np.ndarray, target_name: str, bins: int, edges_of: str) -> Datasets:
    """:func:`distribution_data` of one law (``target_name``'s), its bins spanning the range of
    ``edges_of``'s law and half as much again each side. An empty sample reads 0."""
    law = get_target(target_name).param_laws()[0]
    lo, hi = get_target(edges_of).param_laws()[0].bounds
    pad = 0.5 * (hi - lo)
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    generated, _ = np.histogram(fitted, bins=edges, density=False)
    width = edges[1] - edges[0]
    centers = (edges[:-1] + edges[1:]) / 2
    if isinstance(law, Uniforms):
        density = np.zeros(bins)
        for a, b in law.ranges:
            density += ((centers >= a) & (centers <= b)) / (len(law.ranges) * (b - a))
    else:
        density = law.histogram(edges)
    return {"hist": {"left": edges[:-1].astype(np.float32), "right": edges[1:].astype(np.float32),
                     "center": centers.astype(np.float32),
                     "generated": (generated / (max(len(fitted), 1) * width)).astype(np.float32),
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
def latent_spec(target_name: str, conditional: bool = False) -> Spec:
    """G's curves along one latent direction over the target's band; a ``conditional`` run's
    over each class's band, the class looked at drawn full."""
    y_scale = alt.Scale(domain=list(_y_domain(target_name)))
    x_axis = _x_axis(target_name)
    bands = (_class_band_layers(x_axis, y_scale, bounds=False) if conditional
             else [_band_layer(x_axis, y_scale)])
    sweep = alt.Chart(alt.NamedData("sweep")).mark_line(clip=True).encode(
        x=x_axis, y=alt.Y("y:Q", scale=y_scale), detail="t:Q",
        color=alt.Color("t:Q", scale=alt.Scale(scheme="viridis", domain=list(LATENT_RANGE)),
                        legend=alt.Legend(title="z[i]")),
        strokeWidth=alt.condition("datum.current", alt.value(4), alt.value(1.2)),
        opacity=alt.condition("datum.current", alt.value(1), alt.value(0.55)))
    spec = _finish(alt.layer(*bands, sweep).properties(height=HEIGHT - 40))
    spec["usermeta"]["fixedLayout"] = True  # every domain is fixed, as the curves chart's
    return spec


def latent_data(sweep: LatentSweep, target_name: str, focus: int | None = None) -> Datasets:
    """Curves along one latent direction, the chosen position marked; with ``focus`` (a
    conditional run's class looked at) each class's band, that one drawn full."""
    x, k = sweep.x, len(sweep.positions)
    return {
        "band": _band(target_name) if focus is None else _class_bands(target_name, focus),
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
    "converged": ("Converged (share of seeds)", alt.Scale(scheme="greens", domain=[0, 1])),
    "class_accuracy": ("Class accuracy", alt.Scale(scheme="viridis", domain=[0, 1])),
}
"""How the stability map can colour its cells; ``class_accuracy`` only for a conditional
grid (``stability_metrics``)."""


def stability_metrics(conditional: bool) -> list[str]:
    """The colourings a grid offers: class accuracy only where G is asked for classes."""
    return [m for m in STABILITY_METRICS if conditional or m != "class_accuracy"]


@lru_cache(maxsize=32)
def stability_spec(metric: str, x_field: str, y_field: str | None,
                   conditional: bool = False) -> Spec:
    """A heatmap of one metric over the grid; clicking a cell selects it (``cell``). A
    ``conditional`` grid's tooltip also gives each cell's class accuracy."""
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
                 *([alt.Tooltip("class_accuracy:Q", format=".3f", title="class accuracy")]
                   if conditional else []),
                 alt.Tooltip("diverged:Q", format=".0%", title="diverged"),
                 alt.Tooltip("converged:Q", format=".0%", title="converged")],
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
        elif metric in ("in_band", "class_accuracy"):  # a low share is dark
            dark = value < 0.55
        else:  # many diverged (or converged) seeds is dark
            dark = value > 0.5
    return {"cells": {
        "ix": np.array([c["ix"] for c in cells], np.int16),
        "iy": np.array([c["iy"] for c in cells], np.int16),
        "x": np.array([text(c["x"]) for c in cells]),
        "y": np.array([text(c["y"]) if c["y"] is not None else "" for c in cells]),
        "in_band": np.array([c["in_band"] for c in cells], np.float32),
        "w1": np.array([c["w1"] for c in cells], np.float32),
        "class_accuracy": np.array([c.get("class_accuracy", np.nan) for c in cells],
                                   np.float32),
        "diverged": np.array([c["diverged"] for c in cells], np.float32),
        "converged": np.array([c.get("converged", np.nan) for c in cells], np.float32),
        "value": np.where(finite, value, np.nan).astype(np.float32),
        "label": np.array(["diverged" if c["diverged"] == 1 else
                           (f"{v:.2f}" if np.isfinite(v) else "") for c, v in zip(
                               cells, value, strict=True)]),
        "dark": finite & dark,
    }}

"""Chart specs and their data: light for a page that redraws them every refresh, and faithful
to the run they show."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from gan_core import DiscriminatorMap, GANConfig, Trainer
from gan_core.gan.config import TARGETS
from gan_core.views import charts as ch
from gan_core.views import inference

PER_ROW_TRANSFORMS = {"calculate", "filter", "window", "joinaggregate", "aggregate"}


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def dataset_names(spec: dict) -> set[str]:
    """The datasets a spec draws from and does not carry itself."""
    named = {n["data"]["name"] for n in _walk(spec)
             if isinstance(n.get("data"), dict) and "name" in n["data"]}
    return named - set(spec.get("datasets", {}))


def dmap(trainer: Trainer) -> DiscriminatorMap:
    return trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120, n_real=40)


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    t = Trainer(GANConfig(seed=3))
    t.train(30)
    return t


def live_charts(trainer: Trainer) -> dict[str, tuple[dict, dict]]:
    """Every chart of the live view: spec and this tick's data."""
    target, loss = trainer.config.target, trainer.config.loss
    charts = {
        "curves": (ch.curves_spec(target), ch.curves_data(inference.curves_view(trainer),
                                                           target)),
        "distribution": (ch.distribution_spec(target),
                         ch.distribution_data(inference.fitted_parameter(trainer), target)),
        "dmap": (ch.discriminator_spec(target), ch.discriminator_data(dmap(trainer))),
        "latent": (ch.latent_spec(target),
                   ch.latent_data(inference.latent_sweep(trainer, 1, 0.5), target)),
    }
    for panel in ch.HISTORY_PANELS:
        charts[panel] = (ch.history_spec(panel, loss), ch.history_data(trainer.history, panel))
    return charts


def test_live_charts_draw_on_canvas_with_no_per_row_expressions(trainer: Trainer) -> None:
    """The page redraws them every refresh: SVG would rebuild hundreds of nodes and per-row
    expressions run in Vega's interpreter for every row, every time."""
    for name, (spec, _) in live_charts(trainer).items():
        assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas", name
        used = {key for node in _walk(spec) for t in node.get("transform", [])
                for key in t} & PER_ROW_TRANSFORMS
        assert not used, f"{name} evaluates {used} per row"


def test_each_chart_gets_exactly_the_datasets_its_spec_names(trainer: Trainer) -> None:
    """Vega refuses data for a name it does not know, and draws nothing for one it lacks."""
    for name, (spec, data) in live_charts(trainer).items():
        assert dataset_names(spec) == set(data), name
        for dataset, columns in data.items():
            lengths = {len(v) for v in columns.values()}
            assert len(lengths) == 1 and lengths.pop() > 0, (name, dataset)


def test_curves_chart_highlights_the_first_generated_curve(trainer: Trainer) -> None:
    data = ch.curves_data(inference.curves_view(trainer), trainer.config.target)
    curves, highlighted = data["curves"], data["highlighted"]
    bold = curves["k"] == 2
    np.testing.assert_array_equal(curves["y"][bold], highlighted["y"])
    np.testing.assert_array_equal(curves["x"][bold], highlighted["x"])
    assert set(np.unique(curves["k"])) == {0, 1, 2}


@pytest.mark.parametrize("target", TARGETS)
def test_discriminator_map_cells_cover_the_plane_once_with_ds_belief(target: str) -> None:
    t = Trainer(GANConfig(target=target, seed=1))
    t.train(20)
    belief = dmap(t)
    cells = ch.discriminator_data(belief)["dmap"]
    res = ch.MAP_RESOLUTION
    pairs = set(zip(cells["iu"].tolist(), cells["iv"].tolist(), strict=True))
    assert pairs == {(u, v) for u in range(res) for v in range(res)}
    np.testing.assert_allclose(cells["p250"] / 250, belief.prob[cells["iv"], cells["iu"]],
                               atol=0.5 / 250 + 1e-6)
    # the dots' axes span the cells: from the outer edge of the first to that of the last
    spec = ch.discriminator_spec(target)
    heat, dots = spec["layer"]
    du = (belief.u[-1] - belief.u[0]) / (res - 1)
    low, high = dots["encoding"]["x"]["scale"]["domain"]
    assert low == pytest.approx(belief.u[0] - du / 2)
    assert high == pytest.approx(belief.u[-1] + du / 2)
    assert heat["encoding"]["x"]["scale"]["domain"] == list(range(res))
    assert heat["encoding"]["y"]["scale"]["domain"] == list(range(res))[::-1]  # high v on top


def test_history_legends_name_the_series_they_colour(trainer: Trainer) -> None:
    spec = ch.history_spec("losses", "minimax")
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["d_loss", "g_loss"]
    assert "'d_loss': 'D loss'" in color["legend"]["labelExpr"]


def test_the_highlighted_curve_is_drawn_bold_and_opaque() -> None:
    """Each kind maps to exactly its width and opacity: an ordinal scale (Vega-Lite's default
    point scale would spread the first two values of the range over the three kinds)."""
    encoding = ch.curves_spec("parabola")["layer"][2]["encoding"]
    highlighted = ch.KINDS.index("highlighted")
    for channel, value in (("strokeWidth", 4), ("opacity", 1)):
        scale = encoding[channel]["scale"]
        assert scale["type"] == "ordinal"
        assert scale["range"][scale["domain"].index(highlighted)] == value


@pytest.mark.parametrize(("loss", "level"), [("minimax", 0.5), ("least_squares", 0.6225),
                                             ("hinge", 0.5)])
def test_the_d_outputs_panel_marks_where_this_losss_undecided_d_settles(loss: str,
                                                                        level: float) -> None:
    """Least squares' undecided D outputs logit 1/2, so D(x) settles at sigmoid(1/2) = 0.62,
    not 0.5: the reference line says so."""
    spec = ch.history_spec("outputs", loss)
    rules = [row for rows in spec["datasets"].values() for row in rows
             if "cannot tell" in str(row.get("label"))]
    assert len(rules) == 1 and rules[0]["value"] == pytest.approx(level, abs=1e-4)


@pytest.mark.parametrize("target", TARGETS)
def test_an_untrained_gs_curves_show_on_the_discriminator_map_at_its_edge_pointing_out(
        target: str) -> None:
    """A fresh G paints near-flat noise, off the plane of the tutorial's parabolas: each of its
    curves off the map is drawn at the map's edge as a wedge turned towards where it lies,
    never left out."""
    trainer = Trainer(GANConfig(target=target, seed=1))
    dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120, n_real=40)
    points = ch.discriminator_data(dmap)["points"]
    du, dv = dmap.u[1] - dmap.u[0], dmap.v[1] - dmap.v[0]
    low = np.array([dmap.u[0] - du / 2, dmap.v[0] - dv / 2])
    high = np.array([dmap.u[-1] + du / 2, dmap.v[-1] + dv / 2])
    placed = np.stack([points["u"], points["v"]], axis=1)
    assert ((placed >= low - 1e-6) & (placed <= high + 1e-6)).all()  # all on the chart
    kinds = points["k"]
    assert (kinds == 0).sum() == 40 and np.isin(kinds[40:], (1, 2)).all()
    assert len(kinds) == 40 + 120
    off = kinds == 2
    true = dmap.generated[off[40:]]
    if target == "parabola":
        assert off[40:].all(), "a fresh G's flat curves lie off the parabolas' plane"
    # Each wedge points from where it is drawn towards where its curve lies.
    away = (true - placed[off]) / (high - low)
    heading = np.radians(points["angle"][off])
    np.testing.assert_allclose(np.sin(heading), away[:, 0] / np.hypot(*away.T), atol=1e-3)
    np.testing.assert_allclose(np.cos(heading), away[:, 1] / np.hypot(*away.T), atol=1e-3)
    on = kinds == 1
    np.testing.assert_allclose(placed[on], dmap.generated[on[40:]], rtol=1e-6)

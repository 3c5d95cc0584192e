"""Chart specs and their data: light for a page that redraws them every refresh, and faithful
to the run they show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gan_core import DiscriminatorMap, GANConfig, Trainer
from gan_core.data import Curves
from gan_core.gan.config import TARGETS
from gan_core.views import charts as ch
from gan_core.views import inference

PER_ROW_TRANSFORMS = {"calculate", "filter", "window", "joinaggregate", "aggregate"}
MIXTURE = Path(__file__).resolve().parents[1] / "docs" / "data" / "two-shapes.csv"


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


@pytest.fixture(scope="module", params=["parabola", "data"])
def trainer(request: pytest.FixtureRequest) -> Trainer:
    """A run of the tutorial's family, and one of your data (a CSV file's curves)."""
    if request.param == "data":
        t = Trainer(GANConfig(seed=3, target="data"), data=Curves.from_csv(MIXTURE))
    else:
        t = Trainer(GANConfig(seed=3))
    t.train(30)
    return t


def live_charts(trainer: Trainer) -> dict[str, tuple[dict, dict]]:
    """Every chart of the live view: spec and this tick's data."""
    target, loss = trainer.target.name, trainer.config.loss
    charts = {
        "curves": (ch.curves_spec(target), ch.curves_data(inference.curves_view(trainer),
                                                           target)),
        "distribution": (ch.distribution_spec(target),
                         ch.distribution_data(inference.fitted_parameter(trainer), target)),
        "dmap": (ch.discriminator_spec(target), ch.discriminator_data(dmap(trainer))),
        "latent": (ch.latent_spec(target),
                   ch.latent_data(inference.latent_sweep(trainer, 1, 0.5), target)),
    }
    for panel in ch.history_panels(target):
        charts[panel] = (ch.history_spec(panel, loss, target_name=target),
                         ch.history_data(trainer.history, panel))
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
    data = ch.curves_data(inference.curves_view(trainer), trainer.target.name)
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


# -- a conditional run's charts ---------------------------------------------------------------


def conditional_charts(trainer: Trainer, focus: int) -> dict[str, tuple[dict, dict]]:
    """Every chart of a conditional run's live view that differs from a run's without
    classes, with a ghost, forces and the class ``focus`` looked at."""
    target = trainer.config.target
    view = inference.curves_view(trainer, focus=focus)
    ghost = inference.ghost_curves(trainer, labels=view.labels)
    forces = inference.curve_forces(trainer, view)
    label = np.array([0.5], np.float32)
    return {
        "curves": (ch.curves_spec(target, ghost=True, forces=True, conditional=True),
                   ch.curves_data(view, target, ghost=ghost, forces=forces)),
        "distribution": (ch.distribution_spec(target, conditional=True),
                         ch.distribution_data(inference.fitted_parameter(trainer), target,
                                              labels=inference.histogram_labels(trainer))),
        "latent": (ch.latent_spec(target, conditional=True),
                   ch.latent_data(inference.latent_sweep(trainer, 1, 0.5, label=label),
                                  target, focus)),
        "class_accuracy": (ch.history_spec("class_accuracy", "minimax"),
                           ch.history_data(trainer.history, "class_accuracy")),
    }


@pytest.fixture(scope="module", params=TARGETS)
def conditional_trainer(request: pytest.FixtureRequest) -> Trainer:
    t = Trainer(GANConfig(conditional=True, target=request.param, seed=3))
    t.train(120)
    t.fork(t.config.replace(lr_g=1e-3))
    t.train(20)
    return t


def test_a_conditional_runs_charts_are_light_and_get_exactly_their_datasets(
        conditional_trainer: Trainer) -> None:
    for focus in (0, 1):
        for name, (spec, data) in conditional_charts(conditional_trainer, focus).items():
            assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas", name
            used = {key for node in _walk(spec) for t in node.get("transform", [])
                    for key in t} & PER_ROW_TRANSFORMS
            assert not used, f"{name} evaluates {used} per row"
            assert dataset_names(spec) == set(data), name
            for dataset, columns in data.items():
                lengths = {len(v) for v in columns.values()}
                assert len(lengths) == 1 and lengths.pop() > 0, (name, dataset)


def test_each_classs_band_is_drawn_the_one_looked_at_full_and_curves_by_class(
        conditional_trainer: Trainer) -> None:
    trainer = conditional_trainer
    family = trainer.target
    data = conditional_charts(trainer, focus=1)["curves"][1]
    band = data["band"]
    assert set(band["c"].tolist()) == {0, 1}
    assert (band["f"] == (band["c"] != 1)).all()  # class 1 looked at: class 0 faded
    for c in (0, 1):
        rows = band["c"] == c
        lower, upper = family.class_target(c).envelope(band["x"][rows])
        np.testing.assert_allclose(band["lower"][rows], lower, atol=1e-6)
        np.testing.assert_allclose(band["upper"][rows], upper, atol=1e-6)
    curves = data["curves"]
    view = inference.curves_view(trainer, focus=1)
    generated = curves["k"] != 0
    ghostly = curves["k"] == 3
    n = len(view.x)
    asked = np.repeat(1 + view.labels, n)
    np.testing.assert_array_equal(curves["s"][generated & ~ghostly], asked)  # by class asked
    np.testing.assert_array_equal(curves["s"][ghostly], asked)  # the ghost's alike, dashed
    assert (curves["s"][curves["k"] == 0] == 0).all()  # real curves: grey
    assert view.labels[0] == 1 and (data["highlighted"]["h"] == 2).all()  # bold: the focus


def test_each_classs_histogram_is_of_its_curves_beside_its_own_law(
        conditional_trainer: Trainer) -> None:
    trainer = conditional_trainer
    hist = conditional_charts(trainer, 0)["distribution"][1]["hist"]
    width = float(hist["right"][0] - hist["left"][0])
    for c in (0, 1):
        rows = hist["c"] == c
        assert hist["generated"][rows].sum() * width == pytest.approx(1, abs=0.05)
        low, high = trainer.target.class_target(c).param_laws()[0].bounds
        centers, density = hist["center"][rows], hist["target"][rows]
        inside = (centers >= low) & (centers <= high)
        assert (density[~inside] == 0).all() and (density[inside] > 0).all()


def test_the_stability_map_offers_class_accuracy_only_for_a_conditional_grid() -> None:
    assert "class_accuracy" not in ch.stability_metrics(False)
    assert ch.stability_metrics(True)[-1] == "class_accuracy"
    cells = [{"ix": 0, "iy": 0, "x": 1e-4, "y": None, "in_band": 0.9, "w1": 0.1,
              "class_accuracy": 0.4, "diverged": 0.0}]
    data = ch.stability_data(cells, "class_accuracy")["cells"]
    assert data["value"][0] == pytest.approx(0.4) and data["label"][0] == "0.40"
    assert data["dark"][0]  # a low share is drawn dark
    spec = ch.stability_spec("class_accuracy", "lr_g", None, conditional=True)
    tips = [t["title"] for node in _walk(spec) for t in node.get("tooltip", [])
            if isinstance(t, dict)]
    assert "class accuracy" in tips
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

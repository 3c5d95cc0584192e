"""A conditional run of your own curves: classes from their labels (a CSV file's label column),
the class hook of ``DataFamily``, the class readouts in curve space, and everything a run
carries (checkpoints, links, grids, the PyTorch modules) with the labels' sizes."""

from __future__ import annotations

import io
from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest

from gan_core import GANConfig, Trainer
from gan_core.data import Curves, DataError
from gan_core.data.limits import MAX_CLASSES
from gan_core.files.checkpoint import CheckpointError, read_checkpoint
from gan_core.files.link_data import spell_data
from gan_core.gan.config import PRESETS
from gan_core.gan.labels import label_width_of, n_classes_of
from gan_core.gan.streams import stream
from gan_core.gan.targets import DataClass, data_target, get_target
from gan_core.measure.metrics import EVAL_SAMPLES, evaluate_member, grid_scores
from gan_core.pytorch import modules, script
from gan_core.training.batched import Axis, BatchedTrainer

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "data"
CONDITIONAL_DATA = GANConfig(target="data", conditional=True)


@pytest.fixture(scope="module")
def shapes() -> Curves:
    """Bumps and dips, each row labelled with its shape."""
    return Curves.from_csv(EXAMPLES / "labelled-shapes.csv")


def labelled_table(labels: list[str], offset: float = 0.0, seed: int = 0) -> Curves:
    """Rows of random curves, one per label; ``offset`` far from 0 makes them train on a
    normalised copy."""
    rng = np.random.default_rng(seed)
    values = offset + rng.normal(size=(len(labels), 8)) + np.repeat(
        np.arange(len(labels))[:, None] % 3, 8, axis=1)
    return Curves.from_array(values, labels=labels, name="table")


# -- classes from labels ----------------------------------------------------------------------


def test_the_example_files_label_column_gives_two_classes_half_each(shapes: Curves) -> None:
    assert shapes.classes == ("bump", "dip") and shapes.class_reason is None
    target = data_target(shapes)
    assert target.class_names == ("bump", "dip")
    np.testing.assert_allclose(target.class_shares(), [0.5, 0.5])
    assert "nearest real curve" in target.class_rule
    assert n_classes_of(CONDITIONAL_DATA, target) == 2
    assert label_width_of(CONDITIONAL_DATA, target) == 1


def test_labels_that_are_numbers_sort_by_value_and_long_ones_are_shortened() -> None:
    table = labelled_table(["10", "2", "10", "2", "1", "1"])
    assert table.classes == ("1", "2", "10")
    long = ["a rather long label that goes on and on", "short"] * 2
    named = labelled_table(long)
    assert named.class_names == ("a rather long label tha…", "short")
    assert named.classes[0] == long[0]


@pytest.mark.parametrize(("labels", "says"), [
    (None, "your data have no labels"),
    (["same"] * 6, "every curve of your data has the label 'same'"),
    ([f"c{i}" for i in range(MAX_CLASSES + 1)] * 2, f"2 to {MAX_CLASSES} classes"),
    (["many", "many", "many", "one"], "the label 'one' has a single curve"),
])
def test_curves_without_usable_classes_say_why_and_a_conditional_run_is_refused(
        labels: list[str] | None, says: str) -> None:
    n = 6 if labels is None else len(labels)
    values = np.random.default_rng(1).normal(size=(n, 8))
    curves = Curves.from_array(values, labels=labels)
    assert curves.classes == () and says in curves.class_reason
    with pytest.raises(ValueError, match=says):
        Trainer(CONDITIONAL_DATA, data=curves)
    assert not Trainer(GANConfig(target="data"), data=curves).config.conditional


def test_a_conditional_run_of_your_data_needs_their_target_to_count_its_classes() -> None:
    with pytest.raises(ValueError, match="give their target"):
        n_classes_of(CONDITIONAL_DATA)


# -- the class hook ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rows", "around"])
def test_sample_labelled_draws_exactly_the_curves_sample_draws_with_each_rows_label(
        kind: str) -> None:
    labels = ["up", "down", "up", "flat", "down", "flat"]
    table = labelled_table(labels)
    curves = table if kind == "rows" else Curves.around(table.values, 0.1, labels=labels)
    target = data_target(curves)
    x = target.grid(curves.n_points)
    plain = target.sample(stream(4, 2), 500, x)
    real, classes = target.sample_labelled(stream(4, 2), 500, x)
    np.testing.assert_array_equal(real, plain)
    assert classes.dtype == np.int64 and set(classes) == {0, 1, 2}
    if kind == "rows":  # each curve is a row exactly: its label is that row's
        for curve, c in zip(real, classes, strict=True):
            row = int(np.flatnonzero((table.training == curve).all(axis=1))[0])
            assert target.class_names[c] == labels[row]


def test_a_class_target_is_its_rows_in_the_parents_training_units() -> None:
    labels = ["low", "high"] * 10
    table = labelled_table(labels, offset=500.0)  # far from the tutorial's range: normalised
    assert table.normalised
    target = data_target(table)
    high = target.class_target(0)  # "high" sorts before "low"
    assert isinstance(high, DataClass) and high.name == f"{target.name}:0"
    assert get_target(f"{target.name}:0") is high
    assert high.unit == target.unit and high.tolerance == target.tolerance
    rows = target.data.training[np.array(labels) == "high"]
    x = target.grid(table.n_points)
    lower, upper = high.envelope(x)
    np.testing.assert_allclose(lower, rows.min(axis=0), rtol=1e-6)
    np.testing.assert_allclose(upper, rows.max(axis=0), rtol=1e-6)
    drawn = high.sample(np.random.default_rng(0), 50, x)
    assert all((rows == curve).all(axis=1).any() for curve in drawn)  # no renormalising
    _, own_lower, _ = high.band()
    np.testing.assert_allclose(own_lower, table.values[np.array(labels) == "high"].min(axis=0))
    assert high.plane == target.plane and high.class_names == ()
    with pytest.raises(ValueError, match="classes 0 to 1"):
        target.class_target(2)


def test_real_curves_land_in_their_own_class_and_curves_off_every_shape_in_none(
        shapes: Curves) -> None:
    target = data_target(shapes)
    x = target.grid(shapes.n_points)
    real, classes = target.sample_labelled(np.random.default_rng(0), 1000, x)
    np.testing.assert_array_equal(target.landed_class(real, x, target.tolerance), classes)
    flat = np.ones((3, shapes.n_points), np.float32)  # between a bump and a dip
    assert (target.landed_class(flat, x, target.tolerance) == -1).all()
    rough = real + np.random.default_rng(1).normal(0, target.tolerance, real.shape)
    np.testing.assert_array_equal(target.landed_class(rough, x, target.tolerance), classes)


def test_curves_with_noise_land_in_the_class_of_the_curve_they_blur() -> None:
    centres = np.repeat([[0.0], [2.0]], 15, axis=1)
    curves = Curves.around(centres, 0.3, labels=["low", "high"])
    target = data_target(curves)
    x = target.grid(15)
    real, classes = target.sample_labelled(np.random.default_rng(0), 500, x)
    landed = target.landed_class(real, x, target.tolerance)
    assert np.mean(landed == classes) > 0.99
    # a curve of one shape, asked for the other, lands in its own shape's class
    assert (target.landed_class(real, x, target.tolerance) != 1 - classes).all()


def test_class_accuracy_reads_chance_for_curves_that_ignore_their_label(shapes: Curves) -> None:
    target = data_target(shapes)
    x = target.grid(shapes.n_points)
    real, classes = target.sample_labelled(np.random.default_rng(0), 4000, x)
    shuffled = np.random.default_rng(1).permutation(classes)
    accuracy = np.mean(target.landed_class(real, x, target.tolerance) == shuffled)
    assert accuracy == pytest.approx(0.5, abs=0.03)


# -- a run -------------------------------------------------------------------------------------


def test_class_accuracy_rises_from_zero_to_well_above_chance_as_g_learns_the_classes(
        shapes: Curves) -> None:
    run = Trainer(PRESETS["fast"].replace(target="data", conditional=True), data=shapes)
    before = run.evaluate()
    assert before.class_accuracy < 0.1
    run.train(2000)
    after = run.evaluate()
    assert after.class_accuracy > 0.9  # measured 0.993; a G that ignores its label: 0.5
    assert [c.name for c in after.classes] == ["bump", "dip"]
    for c in after.classes:
        assert c.accuracy > 0.9 and c.in_band > 0.9 and c.n > 400
        assert c.w1 < before.classes[0].w1 and np.isnan(c.joint_w1)
    assert run.history.eval.column("class_accuracy")[-1] == pytest.approx(
        run.evaluate().class_accuracy)
    assert run.sample(4, label=1).shape == (4, shapes.n_points)


def test_readouts_and_grid_scores_are_the_evaluations_own_figures(shapes: Curves) -> None:
    run = Trainer(CONDITIONAL_DATA, data=shapes)
    run.train(300)
    metrics, readouts = run.evaluate(), run.readouts()
    assert readouts.class_accuracy == metrics.class_accuracy
    np.testing.assert_equal([astuple(c) for c in readouts.classes],  # NaN joint W1 alike
                            [astuple(c) for c in metrics.classes])
    assert (readouts.in_band, readouts.sliced_w1) == (metrics.in_band, metrics.sliced_w1)
    stack = run._stack
    in_band, w1, accuracy = grid_scores(stack, 0, run.config, run.step, EVAL_SAMPLES)
    assert (in_band, w1, accuracy) == (metrics.in_band, metrics.sliced_w1,
                                       metrics.class_accuracy)
    as_dict = evaluate_member(stack, 0, run.config, run.step).as_dict()
    assert {"class_accuracy", "bump.accuracy", "dip.in_band", "dip.w1"} <= set(as_dict)


def test_more_than_two_labels_are_one_label_column_each() -> None:
    labels = ["a", "b", "c"] * 20
    table = labelled_table(labels)
    run = Trainer(CONDITIONAL_DATA, data=table)
    assert run._stack.label_width == 3
    run.train(50)
    g, d = modules(run)
    assert g[0].in_features == 5 + 3 and d[0].in_features == table.n_points + 3
    metrics = run.evaluate()
    assert len(metrics.classes) == 3 and 0 <= metrics.class_accuracy <= 1
    assert run.theory(label=2) is not None and run.discriminator_map(label=1) is not None


def test_a_checkpoint_resumes_the_conditional_run_with_its_labels_bit_for_bit(
        shapes: Curves) -> None:
    run = Trainer(CONDITIONAL_DATA, data=shapes)
    run.train(200)
    saved = io.BytesIO()
    run.save(saved)
    resumed = Trainer.load(io.BytesIO(saved.getvalue()))
    assert resumed.data == shapes and resumed.target.class_names == ("bump", "dip")
    run.train(100)
    resumed.train(100)
    np.testing.assert_array_equal(resumed.state().g.params, run.state().g.params)
    np.testing.assert_array_equal(resumed.state().d.params, run.state().d.params)


def test_a_checkpoint_whose_labels_do_not_make_classes_is_refused(shapes: Curves) -> None:
    torch = pytest.importorskip("torch")
    run = Trainer(CONDITIONAL_DATA, data=shapes)
    saved = io.BytesIO()
    run.save(saved)
    contents = torch.load(io.BytesIO(saved.getvalue()), weights_only=True)
    contents["data"]["labels"] = ["bump"] * shapes.n_curves
    tampered = io.BytesIO()
    torch.save(contents, tampered)
    with pytest.raises(CheckpointError, match="2 to 8 labels, not 1"):
        read_checkpoint(io.BytesIO(tampered.getvalue()))


def test_a_stability_map_of_your_data_scores_class_accuracy(shapes: Curves) -> None:
    grid = BatchedTrainer(CONDITIONAL_DATA, Axis("lr_g", [1e-4, 1e-3]), data=shapes)
    grid.train(20)
    rows = grid.cell_table(grid.evaluate())
    assert all(0 <= row["class_accuracy"] <= 1 for row in rows)


def test_a_link_carries_no_labels_and_the_script_says_why_it_is_not_written(
        shapes: Curves) -> None:
    drawn = Curves.around(np.repeat([[0.0], [1.0]], 15, axis=1), 0.1, labels=["low", "high"])
    assert spell_data(drawn) == "csv" and spell_data(shapes) == "csv"
    with pytest.raises(ValueError, match="a script of your data's classes is not written"):
        script(CONDITIONAL_DATA.replace(n_points=shapes.n_points), shapes)
    assert "artist_works" in script(GANConfig(target="data", n_points=shapes.n_points), shapes)


def test_of_class_refuses_a_class_the_curves_do_not_have(shapes: Curves) -> None:
    with pytest.raises(DataError, match="classes 0 to 1"):
        shapes.of_class(2)
    with pytest.raises(DataError, match="no labels"):
        Curves.tutorial().of_class(0)

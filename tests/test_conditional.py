"""A conditional run (``GANConfig(conditional=True)``), the tutorial's ``406_conditional_GAN.py``:
classes of every target, the API that asks G for a class, the metrics of each class, and
everything a run does (live changes, replays, rewinds, ghosts, checkpoints, the PyTorch modules,
the stability map) done with classes."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from run_state import assert_same_course, assert_same_run, trained

from gan_core import CheckpointError, GANConfig, Trainer, link_query, read_link
from gan_core.files.checkpoint import read_checkpoint
from gan_core.files.layout import network_sizes
from gan_core.gan import targets
from gan_core.gan.config import TARGETS
from gan_core.gan.engine import GANStack
from gan_core.gan.labels import blend, label_columns, label_width, n_classes_of
from gan_core.gan.losses import generator_loss
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.events import detect_events
from gan_core.measure.forces import force_size
from gan_core.measure.metrics import CLASS_TOLERANCE, class_accuracy, class_metrics
from gan_core.pytorch import modules, optimizers
from gan_core.serve.stability import StabilityRun
from gan_core.training.batched import Axis, BatchedTrainer

CONFIG = GANConfig(conditional=True, seed=3)
X = curve_grid(15)


# -- classes of the targets ---------------------------------------------------------------------


@pytest.mark.parametrize(("target", "ranges"), [
    ("parabola", ([(1.0, 1.5)], [(1.5, 2.0)])),
    ("two_bands", ([(1.0, 1.25)], [(1.75, 2.0)])),
    ("sine", ([(0.5, 1.0)], [(1.0, 1.5)])),
])
def test_each_target_has_two_classes_split_as_the_issue_says(target: str, ranges: tuple) -> None:
    """parabola: the tutorial's (a - 1) > 0.5; two_bands: its two bands; sine: amplitude above
    or below its median 1. Each class's law is the family's, restricted to it."""
    family = get_target(target)
    assert len(family.class_names) == 2 and family.class_rule
    np.testing.assert_allclose(family.class_shares(), [0.5, 0.5])
    for c in (0, 1):
        own = family.class_target(c)
        assert own is get_target(f"{target}:{c}") and own.class_names == ()
        assert list(own.param_laws()[0].ranges) == ranges[c]
        assert own.param_laws()[1:] == family.param_laws()[1:]  # the phase is the family's


@pytest.mark.parametrize("target", TARGETS)
def test_a_labelled_draw_is_the_plain_draw_with_each_curves_class_read_off_it(
        target: str) -> None:
    family = get_target(target)
    plain, labelled = np.random.default_rng(7), np.random.default_rng(7)
    curves = family.sample(plain, 4000, X)
    same, labels = family.sample_labelled(labelled, 4000, X)
    assert np.array_equal(curves, same) and labels.dtype == np.int64
    assert plain.bit_generator.state == labelled.bit_generator.state
    assert np.array_equal(family.landed_class(curves, X, 1e-4), labels)  # real: in their band
    assert abs(labels.mean() - 0.5) < 0.03
    for c in (0, 1):  # each class's curves lie in its own band (its envelope)
        lower, upper = family.class_target(c).envelope(X)
        mine = curves[labels == c]
        assert ((mine >= lower - 1e-5) & (mine <= upper + 1e-5)).all()


def test_a_curve_lands_in_a_class_only_within_its_band_and_the_tolerance() -> None:
    family = get_target("two_bands")
    a = np.array([1.1, 1.8, 1.5, 1.27, 1.28, 0.9, 2.2])  # 1.5: in the gap between the bands
    curves = a[:, None] * (X.astype(np.float64) ** 2 + 1) - 1
    assert CLASS_TOLERANCE == 0.025
    assert family.landed_class(curves, X, CLASS_TOLERANCE).tolist() == [0, 1, -1, 0, -1, -1, -1]
    wobbly = np.full((1, 15), np.nan)
    assert family.landed_class(wobbly, X, CLASS_TOLERANCE).tolist() == [-1]


def test_a_target_without_classes_cannot_be_conditional(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook's other side: a target that has no classes (a data set without a label
    column, say) is refused for a conditional run, by name."""
    family = get_target("parabola")
    plain = type(family)("plain", "Plain", family.law, "", class_names=())
    monkeypatch.setitem(targets.TARGET_FAMILIES, "plain", plain)
    config = SimpleNamespace(conditional=True, target="plain")
    with pytest.raises(ValueError, match="target 'plain' has no classes"):
        n_classes_of(config)  # type: ignore[arg-type]
    assert n_classes_of(SimpleNamespace(conditional=False, target="plain")) == 0  # type: ignore[arg-type]


# -- labels as G and D read them ----------------------------------------------------------------


def test_two_classes_are_one_column_and_more_are_one_hot() -> None:
    assert (label_width(0), label_width(2), label_width(5)) == (0, 1, 5)
    np.testing.assert_array_equal(label_columns(np.array([0, 1, 1]), 2), [[0], [1], [1]])
    np.testing.assert_array_equal(label_columns(np.array([0.25]), 2), [[0.25]])
    np.testing.assert_array_equal(label_columns(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(blend(0, 1, 0.4, 2), [0.4])
    np.testing.assert_allclose(blend(2, 0, 0.25, 3), [0.25, 0, 0.75])
    for bad, k in ((np.array([1.5]), 2), (np.array([3]), 3), (np.array([0.5]), 3),
                   (np.zeros((2, 2)), 2), (np.array(["a"]), 2), (np.array([np.nan]), 2)):
        with pytest.raises(ValueError, match="label"):
            label_columns(bad, k)


# -- the API ------------------------------------------------------------------------------------


def test_generate_and_discriminate_take_the_class_and_refuse_a_missing_or_needless_one() -> None:
    trainer = trained(CONFIG, 200)
    z = np.random.default_rng(0).standard_normal((6, 5), np.float32)
    lower, upper = trainer.generate(z, np.zeros(6)), trainer.generate(z, np.ones(6))
    assert lower.shape == (6, 15) and not np.allclose(lower, upper)
    half = trainer.generate(z, np.full(6, 0.5))  # a blend: between the two, for a label
    assert not np.allclose(half, lower) and not np.allclose(half, upper)
    assert trainer.discriminate(lower, np.zeros(6)).shape == (6,)
    with pytest.raises(ValueError, match="read each curve's class"):
        trainer.generate(z)
    with pytest.raises(ValueError, match="read each curve's class"):
        trainer.discriminate(lower)
    with pytest.raises(ValueError, match="labels: 3 for 6 rows"):
        trainer.generate(z, np.zeros(3))
    with pytest.raises(ValueError, match="not conditional"):
        trained(GANConfig(), 1).generate(z, np.zeros(6))


def test_sample_paints_one_class_or_classes_as_often_as_the_real_curves_have_them() -> None:
    trainer = trained(CONFIG.replace(seed=2), 3000)
    target = trainer.target
    for c in (0, 1):
        curves = trainer.sample(400, label=c)
        assert np.mean(target.landed_class(curves, trainer.x, CLASS_TOLERANCE) == c) > 0.85
    mixed = target.landed_class(trainer.sample(2000), trainer.x, CLASS_TOLERANCE)
    assert 0.4 < np.mean(mixed == 1) < 0.6
    with pytest.raises(ValueError, match="not conditional"):
        trained(GANConfig(), 1).sample(3, label=1)


def test_the_lab_learns_each_class_and_measures_it_against_its_own_band_and_law() -> None:
    trainer = Trainer(CONFIG.replace(seed=1))
    untrained = trainer.evaluate()
    trainer.train(3000)
    m = trainer.evaluate()
    assert untrained.class_accuracy < 0.3 and m.class_accuracy > 0.9
    assert [c.name for c in m.classes] == ["lower", "upper"]
    assert sum(c.n for c in m.classes) == 1000
    for c in m.classes:
        assert c.accuracy > 0.85 and c.in_band > 0.85 and c.w1 < 0.12
    flat = m.as_dict()
    assert flat["class_accuracy"] == m.class_accuracy and flat["upper.w1"] == m.classes[1].w1
    r = trainer.readouts()
    assert r.class_accuracy == m.class_accuracy
    assert [(c.accuracy, c.in_band, c.w1) for c in r.classes] == \
        [(c.accuracy, c.in_band, c.w1) for c in m.classes]
    assert trainer.history.eval.columns[-1] == "class_accuracy"
    assert trainer.history.eval.column("class_accuracy")[-1] == m.class_accuracy
    assert "class_accuracy" in trainer.history.to_csv().splitlines()[0]


def test_class_accuracy_is_one_for_real_curves_and_a_half_for_a_g_that_ignores_its_label() -> None:
    target = get_target("parabola")
    real, labels = target.sample_labelled(np.random.default_rng(1), 2000, X)
    assert class_accuracy(real, labels, target, X) == 1.0
    assert abs(class_accuracy(real, 1 - labels, target, X)) < 0.02  # every curve in the other
    shuffled = np.random.default_rng(2).permutation(labels)
    assert abs(class_accuracy(real, shuffled, target, X) - 0.5) < 0.05
    params, _ = target.fit(real, X)
    for c in class_metrics(real, params, params, labels, target, X):
        assert c.accuracy == 1 and c.in_band == 1 and c.w1 < 0.02 and c.joint_w1 == 0


def test_one_curve_per_class_is_a_collapse_even_though_the_mixture_spans_the_band() -> None:
    """The mixture of two collapsed classes (a = 1.25 and a = 1.75) has the spread of the
    whole law, so a conditional run's spread is its classes' smallest."""
    trainer = Trainer(CONFIG)
    stack = trainer._stack
    collapsed = {0: 1.25, 1: 1.75}

    def painted(z: np.ndarray, member: int = 0, labels: np.ndarray | None = None) -> np.ndarray:
        a = np.vectorize(collapsed.get)(np.asarray(labels).astype(int))
        return (a[:, None] * (X.astype(np.float64) ** 2 + 1) - 1).astype(np.float32)

    stack.generate = painted  # type: ignore[method-assign]
    m = trainer.evaluate()
    assert m.class_accuracy == 1.0 and m.spread < 0.05
    assert all(c.spread < 0.05 for c in m.classes)


def test_forces_are_the_gradient_through_d_told_each_curves_class() -> None:
    """-d l_G / d x of each curve, by central differences through D given the curve and the
    class G was asked for (the label is held, not moved)."""
    trainer = trained(CONFIG, 300)
    z = np.random.default_rng(3).standard_normal((12, 5), np.float32)
    labels = np.arange(12) % 2
    forces = trainer.forces(z, labels=labels)
    curves = trainer.generate(z, labels).astype(np.float64)
    d = trainer.state().d.params.astype(np.float64)
    n, h = 15, 128
    w1 = d[: (n + 1) * h].reshape(n + 1, h)  # the curve's rows, then the label's
    b1, w2, b2 = d[(n + 1) * h:(n + 2) * h], d[(n + 2) * h:(n + 3) * h], d[-1]

    def loss(x: np.ndarray) -> np.ndarray:
        inputs = np.concatenate([x, labels[:, None].astype(np.float64)], axis=1)
        return generator_loss("minimax", np.maximum(inputs @ w1 + b1, 0) @ w2 + b2)

    expected, eps = np.empty_like(curves), 1e-6
    for j in range(n):
        up, down = curves.copy(), curves.copy()
        up[:, j] += eps
        down[:, j] -= eps
        expected[:, j] = -(loss(up) - loss(down)) / (2 * eps)
    assert (force_size(forces - expected) / force_size(expected)).max() <= 1e-3
    with pytest.raises(ValueError, match="read each curve's class"):
        trainer.forces(z)


def test_the_d_map_and_the_theory_are_of_one_class() -> None:
    trainer = trained(CONFIG, 400)
    maps = [trainer.discriminator_map(resolution=9, n_generated=50, n_real=30, label=c)
            for c in (0, 1)]
    assert not np.allclose(maps[0].prob, maps[1].prob)  # D told another class
    for c, dmap in enumerate(maps):  # the real curves of that class: a in its range
        own = trainer.target.class_target(c).param_laws()[0]
        assert ((dmap.real[:, 0] >= own.bounds[0] - 1e-9)
                & (dmap.real[:, 0] <= own.bounds[1] + 1e-9)).all()
    views = [trainer.theory(n=400, label=c) for c in (0, 1)]
    assert views[0].grid[0] < views[1].grid[0]  # each along its own class's range of a
    with pytest.raises(ValueError, match="one class"):
        trainer.discriminator_map()
    with pytest.raises(ValueError, match="one class"):
        trainer.theory()


# -- everything else, conditionally --------------------------------------------------------------


def conditional_run() -> Trainer:
    run = Trainer(CONFIG)
    run.train(40)
    run.reconfigure(CONFIG.replace(lr_g=1e-3, loss="non_saturating"))
    run.train(30)
    run.train_d(3)
    run.train_g(2)
    run.reconfigure(run.config.replace(batch_size=32, d_steps=2))
    run.train(25)
    return run


def test_live_changes_and_one_network_updates_replay_bit_for_bit() -> None:
    run = conditional_run()
    again = Trainer(run.start_config, schedule=run.changes)
    again.train(run.step)
    assert_same_course(again, run)
    query = link_query(run.config, run.changes)
    assert query["conditional"] == "true"
    link = read_link(query)
    assert link.problems == {} and link.start == run.start_config
    assert link.changes == run.changes


def test_rewind_and_look_back_reach_an_earlier_step_of_a_conditional_run() -> None:
    run = conditional_run()
    reference = Trainer(run.start_config, schedule=run.changes)
    reference.train(50)
    moment = run.at(50)
    assert_same_run(moment, reference)
    run.rewind(50)
    assert_same_run(run, reference)


@pytest.mark.parametrize("change", [{"lr_g": 1e-3}, {"batch_size": 32}],
                         ids=["twin", "follower"])
def test_a_ghost_trains_beside_a_conditional_run_as_the_run_would_have(change: dict) -> None:
    run = trained(CONFIG, 50)
    alone = Trainer.from_state(run.state())
    run.fork(CONFIG.replace(**change))
    run.train(40)
    alone.train(40)
    ghost = run.ghost
    assert ghost is not None and ghost.diverged is False
    z = np.random.default_rng(1).standard_normal((4, 5), np.float32)
    np.testing.assert_array_equal(ghost.generate(z, np.arange(4) % 2),
                                  alone.generate(z, np.arange(4) % 2))
    assert ghost.sample(3, label=1).shape == (3, 15)
    assert ghost.evaluate().class_accuracy == alone.evaluate().class_accuracy


def test_events_read_a_conditional_runs_history() -> None:
    run = trained(CONFIG.replace(lr_d=1e-2), 1500)
    events = detect_events(run.history)
    assert all(e.first_step <= e.last_step for e in events)


def test_a_conditional_checkpoint_loads_into_the_tutorials_conditional_modules() -> None:
    run = conditional_run()
    buffer = io.BytesIO()
    run.save(buffer)
    ckpt = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    assert ckpt["config"]["conditional"] is True
    assert ckpt["G"]["0.weight"].shape == (128, 5 + 1)
    assert ckpt["D"]["0.weight"].shape == (128, 15 + 1)
    G = torch.nn.Sequential(torch.nn.Linear(5 + 1, 128), torch.nn.ReLU(),
                            torch.nn.Linear(128, 15))
    D = torch.nn.Sequential(torch.nn.Linear(15 + 1, 128), torch.nn.ReLU(),
                            torch.nn.Linear(128, 1), torch.nn.Sigmoid())
    G.load_state_dict(ckpt["G"])
    D.load_state_dict(ckpt["D"])
    opt_G = torch.optim.Adam(G.parameters(), lr=ckpt["config"]["lr_g"])
    opt_G.load_state_dict(ckpt["opt_G"])
    loaded = Trainer.load(io.BytesIO(buffer.getvalue()))
    assert_same_course(loaded, run)
    z = np.random.default_rng(2).standard_normal((8, 5), np.float32)
    labels = np.arange(8) % 2
    with torch.no_grad():
        painted = G(torch.cat((torch.from_numpy(z), torch.tensor(labels[:, None],
                                                                  dtype=torch.float32)), 1))
    np.testing.assert_allclose(painted.numpy(), run.generate(z, labels), atol=1e-6)


def test_a_checkpoint_whose_shapes_do_not_fit_its_conditional_setting_is_refused() -> None:
    """A file's shapes are checked against what its own config implies: an unconditional
    run's networks under a config that says conditional (or the other way) are refused."""
    for saved, claimed in ((GANConfig(), True), (CONFIG, False)):
        buffer = io.BytesIO()
        Trainer(saved).save(buffer)
        ckpt = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
        ckpt["config"]["conditional"] = claimed
        forged = io.BytesIO()
        torch.save(ckpt, forged)
        with pytest.raises(CheckpointError, match=r"G: 0\.weight"):
            read_checkpoint(io.BytesIO(forged.getvalue()))


def test_a_file_from_before_the_setting_loads_as_a_run_without_classes() -> None:
    buffer = io.BytesIO()
    Trainer(GANConfig()).save(buffer)
    ckpt = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    del ckpt["config"]["conditional"]
    older = io.BytesIO()
    torch.save(ckpt, older)
    assert read_checkpoint(io.BytesIO(older.getvalue())).config.conditional is False


def test_modules_and_optimizers_are_the_conditional_ones_and_take_the_next_update() -> None:
    trainer = trained(CONFIG, 30)
    generator, discriminator = modules(trainer)
    assert generator[0].in_features == 6 and discriminator[0].in_features == 16
    assert network_sizes(trainer.config) == {"G": (6, 128, 15), "D": (16, 128, 1)}
    opt_g, opt_d = optimizers(trainer, generator, discriminator)
    stack = trainer._stack
    rng = np.random.default_rng()
    rng.bit_generator.state = trainer.state().rng
    from gan_core.gan.engine import draw_labelled_batch

    real, labels, z = draw_labelled_batch(rng, trainer.target, trainer.x, 64, 5)
    labels = torch.from_numpy(labels.astype(np.float32))[:, None]
    real, z = torch.from_numpy(real), torch.from_numpy(z)
    paintings = generator(torch.cat((z, labels), 1))
    g_loss = torch.mean(torch.log(1.0 - discriminator(torch.cat((paintings, labels), 1))))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    d_loss = -torch.mean(torch.log(discriminator(torch.cat((real, labels), 1))) + torch.log(
        1.0 - discriminator(torch.cat((paintings.detach(), labels), 1))))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    trainer.train(1)
    from test_fidelity import flatten

    np.testing.assert_allclose(flatten(generator), stack.g.params[0], atol=1e-6)
    np.testing.assert_allclose(flatten(discriminator), stack.d.params[0], atol=1e-6)


def test_a_conditional_grid_scores_class_accuracy_as_each_members_own_run_would() -> None:
    grid = BatchedTrainer(CONFIG, Axis("lr_g", (1e-4, 1e-3)), seeds_per_cell=2)
    grid.train(200)
    results = grid.evaluate(300)
    for k, result in enumerate(results):
        alone = Trainer(grid.member_config(k))
        alone.train(200)
        assert result.class_accuracy == alone.evaluate(300).class_accuracy
    cells = grid.cell_table(results)
    assert all(0 <= c["class_accuracy"] <= 1 for c in cells)
    plain = BatchedTrainer(GANConfig(), Axis("lr_g", (1e-4, 1e-3)))
    assert all(np.isnan(c["class_accuracy"]) for c in plain.cell_table(plain.evaluate(50)))
    assert GANStack.bytes_per_member(CONFIG) > GANStack.bytes_per_member(GANConfig())


def test_a_conditional_stability_map_trains_and_loads_a_cell_with_its_classes() -> None:
    run = StabilityRun(CONFIG, Axis("lr_d", (1e-4, 1e-3)), None, 1, 100)
    while run.running:
        run.tick(budget=5.0)
    assert all(0 <= c["class_accuracy"] <= 1 for c in run.cells)
    assert run.cell_config(1, 0).conditional

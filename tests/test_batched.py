"""A grid of GANs trained side by side is the same as training each member on its own.

Every member of a :class:`BatchedTrainer` must end where ``Trainer(member_config(k))`` ends, a
member that blows up must freeze without disturbing the others, and the grid must refuse axes
it cannot map.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gan_core.training.batched as batched
from gan_core import GANConfig, Trainer, TrainingDiverged
from gan_core.gan.config import LOSSES
from gan_core.gan.engine import GANStack
from gan_core.training.batched import (
    MAX_MEMBERS,
    Axis,
    BatchedTrainer,
    MemberResult,
    converged_cells,
)

STEPS = 20


def single_run(config: GANConfig, steps: int = STEPS) -> Trainer:
    """The reference: one ordinary trainer of a member that does not diverge."""
    trainer = Trainer(config)
    trainer.train(steps)
    return trainer


def assert_member_matches(grid: BatchedTrainer, k: int, trainer: Trainer) -> None:
    g, d = grid.member_weights(k)
    state = trainer.state()
    np.testing.assert_allclose(g, state.g.params, rtol=1e-5, atol=1e-6,
                               err_msg=f"G of member {k} {grid.cell_of(k)}")
    np.testing.assert_allclose(d, state.d.params, rtol=1e-5, atol=1e-6,
                               err_msg=f"D of member {k} {grid.cell_of(k)}")


def assert_every_member_matches(grid: BatchedTrainer) -> None:
    weights = set()
    for k in range(grid.members):
        assert_member_matches(grid, k, single_run(grid.member_config(k), grid.step))
        weights.add(grid.member_weights(k)[0].tobytes())
    assert len(weights) == grid.members, "members should differ, or the test proves nothing"


# -- batched equals single --------------------------------------------------------------------


def test_a_one_member_grid_is_a_trainer() -> None:
    grid = BatchedTrainer(GANConfig(seed=3), Axis("lr_g", (1e-3,)))
    grid.train(STEPS)
    trainer = single_run(grid.member_config(0))

    assert grid.members == 1 and grid.step == STEPS
    assert_member_matches(grid, 0, trainer)
    [result] = grid.evaluate(500)
    metrics = trainer.evaluate(500)
    assert (result.in_band, result.w1, result.diverged) == (metrics.in_band, metrics.w1, False)


@pytest.mark.parametrize("most", [batched.STACK_MEMBERS, 4], ids=["one stack", "two stacks"])
def test_six_members_with_their_own_lr_and_seed_match_their_trainers(
        most: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batched, "STACK_MEMBERS", most)
    grid = BatchedTrainer(GANConfig(lr_d=2e-4, beta1=0.5), Axis("lr_g", (1e-4, 1e-3, 3e-3)),
                          Axis.seeds(2, start=7))
    grid.train(5)
    grid.train(STEPS - 5)  # training in pieces changes nothing

    assert grid.members == 6 and grid.stack_sizes == ([6] if most >= 6 else [3, 3])
    assert_every_member_matches(grid)


def test_stacks_trained_one_by_one_in_slices_end_where_the_whole_grid_would(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A time-bounded tick trains the stacks one at a time, a slice at a time: the grid's step
    is what every member has trained, and the members end as their own trainers do."""
    monkeypatch.setattr(batched, "STACK_MEMBERS", 2)
    grid = BatchedTrainer(GANConfig(), Axis("lr_g", (1e-4, 1e-3, 3e-3)), Axis.seeds(2))
    assert grid.stack_sizes == [2, 2, 2] and grid.stack_steps == (0, 0, 0)
    grid.train_stack(2, 7)
    grid.train_stack(0, 3)
    assert grid.stack_steps == (3, 0, 7) and grid.step == 0
    grid.train(4)  # every stack on to the step all have trained, plus four
    assert grid.stack_steps == (4, 4, 7) and grid.step == 4
    grid.train_stack(0, STEPS - 4)
    grid.train_stack(1, STEPS - 4)
    grid.train_stack(2, STEPS - 7)
    assert grid.step == STEPS
    assert_every_member_matches(grid)
    assert [r.w1 for r in grid.evaluate(200, stacks=[1])] == \
        [r.w1 for r in grid.evaluate(200)[2:4]]


def test_larger_models_stack_fewer_members_down_to_one_at_the_largest_sizes() -> None:
    largest = GANConfig(hidden=512, batch_size=512, n_points=100, latent_dim=64, d_steps=10)
    assert batched.members_per_stack(GANConfig()) == batched.STACK_MEMBERS
    assert batched.members_per_stack(GANConfig(hidden=256)) == batched.STACK_MEMBERS // 2
    assert batched.members_per_stack(largest) == 1
    assert BatchedTrainer(largest, Axis.seeds(3)).stack_sizes == [1, 1, 1]
    sizes = [batched.members_per_stack(GANConfig(hidden=h)) for h in (16, 64, 128, 256, 512)]
    assert sizes == sorted(sizes, reverse=True)


def test_every_seed_of_a_cell_matches_its_trainer() -> None:
    grid = BatchedTrainer(GANConfig(seed=11), Axis("lr_d", (1e-4, 1e-3, 5e-3)), seeds_per_cell=2)
    grid.train(STEPS)

    assert [grid.member_config(k).seed for k in range(6)] == [11, 12] * 3
    assert_every_member_matches(grid)


def test_a_loss_by_seed_grid_mixes_losses_in_one_stack_and_matches_trainers() -> None:
    grid = BatchedTrainer(GANConfig(lr_g=1e-3, lr_d=1e-3), Axis.losses(), Axis.seeds(2, start=5))
    grid.train(STEPS)

    assert {grid.member_config(k).loss for k in range(grid.members)} == set(LOSSES)
    assert_every_member_matches(grid)
    results = grid.evaluate(300)
    for k in (0, grid.members - 1):
        metrics = single_run(grid.member_config(k)).evaluate(300)
        assert (results[k].in_band, results[k].w1) == (metrics.in_band, metrics.w1)


@pytest.mark.parametrize(("x_axis", "y_axis"), [
    (Axis.strengths("r1", 0.1, 10.0, 3), Axis.switch("spectral_norm")),
    (Axis.strengths("instance_noise", 0.05, 0.5, 3), Axis.strengths("r2", 1.0, 1.0, 2)),
    (Axis.strengths("gp", 1.0, 10.0, 3), Axis("real_label", (1.0, 0.9))),
], ids=["r1 x spectral_norm", "noise x r2", "gp x real_label"])
def test_a_grid_over_stabilizers_matches_a_trainer_per_member(x_axis: Axis,
                                                                y_axis: Axis) -> None:
    """Stabilizer strengths are per-member settings: a member with a penalty, noise or
    spectral normalisation, beside members without, trains exactly as it would alone (noise
    and mixing weights drawn from its own stream, only while it uses them)."""
    grid = BatchedTrainer(GANConfig(lr_g=1e-3, lr_d=1e-3, seed=2), x_axis, y_axis)
    grid.train(STEPS)
    assert_every_member_matches(grid)


def test_a_strength_axis_starts_off_and_spreads_the_rest_in_log() -> None:
    assert Axis.strengths("r1", 0.01, 10.0, 5).values == (0.0, 0.01, 0.1, 1.0, 10.0)
    assert Axis.switch("spectral_norm").values == (False, True)
    with pytest.raises(ValueError, match="lr_g: not a strength"):
        Axis.strengths("lr_g", 1e-4, 1e-2, 3)


# -- divergence -------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_diverging_member_freezes_and_the_others_train_on(optimizer: str) -> None:
    # lr_g = 10 blows G's outputs past the engine's limit within a few steps with either
    # optimizer (Adam moves every weight by ~lr on its first step).
    grid = BatchedTrainer(GANConfig(optimizer=optimizer), Axis("lr_g", (1e-4, 1e-3, 10.0)),
                          seeds_per_cell=2)
    grid.train(STEPS)
    wild = [k for k in range(grid.members) if grid.member_config(k).lr_g == 10.0]

    assert grid.diverged.tolist() == [k in wild for k in range(grid.members)]
    for k in range(grid.members):
        if k not in wild:
            assert grid.diverged_at[k] == -1
            assert_member_matches(grid, k, single_run(grid.member_config(k)))
            continue
        # Frozen where it stood after its last completed step: a Trainer stopped there has the
        # same weights, and blows up on the very next step.
        completed = int(grid.diverged_at[k])
        assert 0 < completed < 10
        trainer = Trainer(grid.member_config(k))
        trainer.train(completed)
        assert_member_matches(grid, k, trainer)
        with pytest.raises(TrainingDiverged) as raised:
            trainer.train(1)
        assert raised.value.step == completed
    frozen = [grid.member_weights(k) for k in wild]
    assert all(np.isfinite(w).all() for pair in frozen for w in pair)

    grid.train(5)
    assert grid.step == STEPS + 5
    for k, (g, d) in zip(wild, frozen, strict=True):
        assert np.array_equal(grid.member_weights(k)[0], g)
        assert np.array_equal(grid.member_weights(k)[1], d)
    assert_member_matches(grid, 0, single_run(grid.member_config(0), STEPS + 5))

    results = grid.evaluate(200)
    for k, r in enumerate(results):
        assert r.diverged == (k in wild)
        assert math.isnan(r.in_band) == math.isnan(r.w1) == (k in wild)


def test_a_grid_where_everything_diverged_still_counts_steps() -> None:
    grid = BatchedTrainer(GANConfig(), Axis("lr_g", (10.0,)))
    grid.train(STEPS)
    grid.train(1000)
    assert grid.diverged.all() and grid.step == STEPS + 1000


# -- the grid ---------------------------------------------------------------------------------


def test_member_configs_round_trip_through_cells() -> None:
    base = GANConfig(seed=40, optimizer="sgd", lr_g=2e-3)
    grid = BatchedTrainer(base, Axis("momentum", (0.0, 0.5, 0.9)), Axis("lr_d", (1e-4, 1e-3)),
                          seeds_per_cell=2)

    cells = [grid.cell_of(k) for k in range(grid.members)]
    assert grid.members == 12 and len(set(cells)) == 12
    for k, (ix, iy, r) in enumerate(cells):
        config = grid.member_config(k)
        assert grid.member_of(ix, iy, r) == k
        assert base.changed_fields(config) == [
            f for f in ("lr_d", "momentum", "seed") if getattr(base, f) != getattr(config, f)]
        assert (config.momentum, config.lr_d, config.seed) == (
            grid.x_axis.values[ix], grid.y_axis.values[iy], 40 + r)
        assert GANConfig.from_mapping(config.to_mapping()) == config
    assert cells[:3] == [(0, 0, 0), (0, 0, 1), (1, 0, 0)]  # seeds, then x, then y


def test_a_seed_axis_sets_the_seed_and_ignores_the_base_seed() -> None:
    grid = BatchedTrainer(GANConfig(seed=99), Axis.seeds(3, start=10), Axis.losses(["hinge"]))
    assert [grid.member_config(k).seed for k in range(3)] == [10, 11, 12]
    assert {grid.member_config(k).loss for k in range(3)} == {"hinge"}


def test_cells_out_of_the_grid_are_refused() -> None:
    grid = BatchedTrainer(GANConfig(), Axis.seeds(2))
    for bad in (-1, 2):
        with pytest.raises(IndexError):
            grid.member_config(bad)
    with pytest.raises(IndexError):
        grid.member_of(0, 1)


def test_axis_helpers_build_clean_values() -> None:
    lrs = Axis.log("lr_g", 1e-5, 1e-2, 6)
    assert len(lrs) == 6 and lrs.values[0] == 1e-5 and lrs.values[-1] == 1e-2
    np.testing.assert_allclose(np.diff(np.log10(lrs.values)), 0.6, atol=1e-3)
    assert Axis.linear("beta1", 0.0, 0.9, 4).values == (0.0, 0.3, 0.6, 0.9)
    assert Axis.losses().values == LOSSES
    assert Axis.seeds(3, start=5).values == (5, 6, 7)
    widened = Axis("lr_d", (np.float32(0.5), 1))
    assert widened.values == (0.5, 1.0) and all(type(v) is float for v in widened.values)


@pytest.mark.parametrize(("field", "values"), [
    ("batch_size", (32, 64)),  # not per member: would change every member's shapes
    ("optimizer", ("adam",)),
    ("lr_g", ()),
    ("lr_g", (1e-3, 1e-3)),
    ("lr_g", (20.0,)),  # GANConfig's range
    ("lr_g", ("fast",)),
    ("beta2", (0.5,)),
    ("r1", (-1.0,)),
    ("loss", ("earth_mover",)),
    ("seed", (-1,)),
])
def test_bad_axes_are_refused_naming_the_field(field: str, values: tuple) -> None:
    with pytest.raises(ValueError, match=field):
        Axis(field, values)


@pytest.mark.parametrize(("base", "x", "y", "seeds", "named"), [
    (GANConfig(), Axis.seeds(2), Axis.seeds(3), 1, "seed"),
    (GANConfig(), Axis("lr_g", (1e-4,)), Axis("lr_g", (1e-3,)), 1, "lr_g"),
    (GANConfig(), Axis("momentum", (0.5,)), None, 1, "momentum"),  # Adam has no momentum
    (GANConfig(optimizer="sgd"), Axis("beta1", (0.5,)), None, 1, "beta1"),
    (GANConfig(), Axis.seeds(2), None, 2, "seed"),
    (GANConfig(seed=2**31 - 1), Axis.losses(), None, 2, "seed"),  # a cell seed past the top
    (GANConfig(), Axis.losses(), None, 0, "seeds_per_cell"),
    (GANConfig(), Axis("instance_noise_steps", (0, 1000)), None, 1, "instance_noise_steps"),
    (GANConfig(loss="hinge"), Axis("real_label", (1.0, 0.9)), None, 1, "real_label"),
    (GANConfig(), Axis.log("lr_g", 1e-5, 1e-2, 17), Axis.log("lr_d", 1e-5, 1e-2, 16), 1,
     str(MAX_MEMBERS)),
    (GANConfig(), Axis.log("lr_g", 1e-5, 1e-2, 8), Axis.log("lr_d", 1e-5, 1e-2, 8), 5,
     str(MAX_MEMBERS)),
])
def test_bad_grids_are_refused(base: GANConfig, x: Axis, y: Axis | None, seeds: int,
                               named: str) -> None:
    with pytest.raises(ValueError, match=named):
        BatchedTrainer(base, x, y, seeds_per_cell=seeds)


def test_a_grid_of_large_models_is_refused_past_its_memory_naming_what_would_fit() -> None:
    largest = GANConfig(hidden=512, batch_size=512, n_points=100, latent_dim=64, d_steps=10)
    most = batched.MAX_GRID_BYTES // GANStack.bytes_per_member(largest)
    assert 8 <= most < 32  # a useful map of the largest models, not gigabytes of one
    with pytest.raises(ValueError, match=f"at most {most} members"):
        BatchedTrainer(largest, Axis.log("lr_g", 1e-5, 1e-2, 8), Axis.seeds(4))
    assert BatchedTrainer(largest, Axis.log("lr_g", 1e-5, 1e-2, 8), Axis.seeds(2)).members == 16


def test_a_stack_allocates_what_its_memory_estimate_says() -> None:
    def allocated(stack: GANStack) -> int:
        return sum(a.nbytes for obj in (stack, stack.g, stack.d) for a in vars(obj).values()
                   if isinstance(a, np.ndarray) and a.base is None)

    for config in (GANConfig(), GANConfig(hidden=512, batch_size=512, n_points=100,
                                          latent_dim=64), GANConfig(hidden=4, batch_size=8)):
        stack = GANStack(config, [0, 1, 2])
        assert allocated(stack) == pytest.approx(3 * GANStack.bytes_per_member(config), rel=0.01)


def test_the_largest_grid_is_accepted() -> None:
    grid = BatchedTrainer(GANConfig(), Axis.log("lr_g", 1e-5, 1e-2, 8),
                          Axis.log("lr_d", 1e-5, 1e-2, 8), seeds_per_cell=4)
    assert grid.members == MAX_MEMBERS


# -- the table the heatmap is drawn from ------------------------------------------------------


def test_cell_table_aggregates_the_seeds_of_each_cell() -> None:
    grid = BatchedTrainer(GANConfig(), Axis("lr_g", (1e-4, 1e-3)),
                          Axis.losses(["minimax", "hinge"]), seeds_per_cell=3)
    nan = math.nan
    by_member = {
        (0, 0): [(0.9, 0.1, False), (0.7, 0.3, False), (0.8, 0.2, False)],
        (1, 0): [(0.5, 0.4, False), (nan, nan, True), (0.3, 0.6, False)],
        (0, 1): [(nan, nan, True)] * 3,
        (1, 1): [(1.0, 0.0, False), (nan, nan, True), (nan, nan, True)],
    }
    results = [MemberResult(*by_member[grid.cell_of(k)[:2]][grid.cell_of(k)[2]])
               for k in range(grid.members)]

    table = grid.cell_table(results)

    assert [(row["ix"], row["iy"]) for row in table] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert [(row["x"], row["y"]) for row in table] == [
        (1e-4, "minimax"), (1e-3, "minimax"), (1e-4, "hinge"), (1e-3, "hinge")]
    assert [row["diverged"] for row in table] == pytest.approx([0, 1 / 3, 1, 2 / 3])
    assert table[0]["in_band"] == pytest.approx(0.8) and table[0]["w1"] == pytest.approx(0.2)
    assert table[1]["in_band"] == pytest.approx(0.4) and table[1]["w1"] == pytest.approx(0.5)
    assert math.isnan(table[2]["in_band"]) and math.isnan(table[2]["w1"])
    assert (table[3]["in_band"], table[3]["w1"]) == (1.0, 0.0)
    # converged: W1 at most 0.1 (a diverged seed has not): 1 of 3, 0, 0, 1 of 3
    assert [row["converged"] for row in table] == pytest.approx([1 / 3, 0, 0, 1 / 3])
    assert converged_cells(table) == 0
    assert converged_cells([{**table[0], "converged": 1.0}, *table[1:]]) == 1
    with pytest.raises(ValueError, match="results"):
        grid.cell_table(results[:-1])


def test_cell_table_of_a_trained_grid_without_y_axis() -> None:
    grid = BatchedTrainer(GANConfig(), Axis("lr_g", (1e-3, 10.0)), seeds_per_cell=2)
    grid.train(10)

    table = grid.cell_table(grid.evaluate(200))

    assert [row["y"] for row in table] == [None, None]
    assert [row["diverged"] for row in table] == [0.0, 1.0]
    assert 0 <= table[0]["in_band"] <= 1 and table[0]["w1"] > 0

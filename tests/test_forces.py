"""Forces: the push G receives at each curve is minus the gradient of that curve's own G loss
through D, the same gradient training uses, and under the tutorial's loss it vanishes when D
wins."""

from __future__ import annotations

import numpy as np
import pytest
from run_state import trained

from gan_core import GANConfig, Trainer
from gan_core.gan.config import LOSSES
from gan_core.gan.losses import generator_loss, loss_values
from gan_core.measure.forces import force_size

CONFIG = GANConfig(seed=3)


def latents(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, CONFIG.latent_dim)).astype(np.float32)


def d_logit64(trainer: Trainer, curves: np.ndarray) -> np.ndarray:
    """D's logit in float64, written from its flat weights (``in -> hidden -> ReLU -> 1``)."""
    params = trainer.state().d.params.astype(np.float64)
    n, h = trainer.config.n_points, trainer.config.hidden
    w1 = params[: n * h].reshape(n, h)
    b1 = params[n * h: n * h + h]
    w2 = params[n * h + h: n * h + 2 * h]
    b2 = params[n * h + 2 * h]
    return np.maximum(curves @ w1 + b1, 0) @ w2 + b2


def finite_difference_forces(trainer: Trainer, curves: np.ndarray, loss: str,
                             eps: float = 1e-6) -> np.ndarray:
    """``-d l_G / d x`` by central differences, one point of every curve at a time."""
    curves = curves.astype(np.float64)
    out = np.empty_like(curves)
    for j in range(curves.shape[1]):
        up, down = curves.copy(), curves.copy()
        up[:, j] += eps
        down[:, j] -= eps
        out[:, j] = -(generator_loss(loss, d_logit64(trainer, up))
                      - generator_loss(loss, d_logit64(trainer, down))) / (2 * eps)
    return out


@pytest.fixture(scope="module")
def midway() -> Trainer:
    """A run whose D has learned something (its gradients are not those of its init)."""
    return trained(CONFIG, 300)


@pytest.mark.parametrize("loss", LOSSES)
def test_forces_are_minus_the_gradient_of_each_curves_generator_loss(midway: Trainer,
                                                                     loss: str) -> None:
    z = latents(16)
    forces = midway.forces(z, loss)
    assert forces.shape == midway.generate(z).shape
    expected = finite_difference_forces(midway, midway.generate(z), loss)
    error = force_size(forces - expected) / force_size(expected)
    assert error.max() <= 1e-3


@pytest.mark.parametrize("loss", LOSSES)
def test_the_per_curve_generator_losses_average_to_the_training_g_loss(loss: str) -> None:
    logits = np.random.default_rng(1).normal(0, 3, (1, 64, 1))
    _, g_loss = loss_values(loss, logits, logits)
    assert generator_loss(loss, logits).mean() == pytest.approx(g_loss[0], rel=1e-12)


@pytest.mark.parametrize("extra", [{}, {"r1": 1.0, "gp": 1.0}, {"spectral_norm": True}],
                         ids=["", "penalties", "spectral_norm"])
@pytest.mark.parametrize("loss", LOSSES)
def test_a_batchs_forces_are_the_training_steps_gradient_times_the_batch_size(
        loss: str, extra: dict) -> None:
    """What training pushes G with at a step (``fake_grad``, the gradient of the batch mean)
    is the forces on that step's curves, over the batch size; the history records their mean
    length. Penalties act on D alone; a normalised D pushes through its normalised weights
    (the step's power iteration moves them by less than the tolerance)."""
    config = CONFIG.replace(loss=loss, **extra)
    trainer = trained(config, 100)
    before = Trainer.from_state(trainer.state())
    trainer.train(4)  # steps 101-104: the last is recorded
    stack = trainer._stack
    z, fake_grad = stack.z[0].copy(), stack.fake_grad[0].astype(np.float64)
    before.train(3)  # the same run, stopped just before that step's update
    forces = before.forces(z)
    scale = np.abs(forces).max()
    np.testing.assert_allclose(forces, -config.batch_size * fake_grad, rtol=1e-4,
                               atol=1e-5 * scale)
    recorded = trainer.history.train.column("g_force")[-1]
    assert trainer.history.train.steps[-1] == 104
    assert recorded == pytest.approx(force_size(forces).mean(), rel=1e-4)


def test_minimax_force_vanishes_when_d_is_far_ahead_but_non_saturating_does_not() -> None:
    """The tutorial loss's flaw: once D rejects G's curves with confidence, ``log(1 - D)`` is
    flat there and G barely moves; ``-log D`` pushes hardest exactly then."""
    trainer = trained(CONFIG, 200)
    z = latents(64)
    even = {loss: force_size(trainer.forces(z, loss)).mean() for loss in LOSSES}
    trainer.reconfigure(CONFIG.replace(lr_d=1e-3))
    trainer.train_d(400)
    assert trainer.discriminate(trainer.generate(z)).mean() < 0.02
    ahead = {loss: force_size(trainer.forces(z, loss)).mean() for loss in LOSSES}
    assert ahead["minimax"] < ahead["non_saturating"] / 50
    # while D was undecided the two losses pushed about equally hard
    assert 0.5 < even["minimax"] / even["non_saturating"] < 2


def test_forces_change_nothing_and_refuse_an_unknown_loss() -> None:
    trainer = trained(CONFIG, 20)
    state = trainer.state()
    trainer.forces(latents(4))
    with pytest.raises(ValueError, match="unknown loss 'earth_mover'"):
        trainer.forces(latents(4), "earth_mover")
    after = trainer.state()
    np.testing.assert_array_equal(state.g.params, after.g.params)
    np.testing.assert_array_equal(state.d.params, after.d.params)
    assert state.rng == after.rng

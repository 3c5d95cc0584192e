"""The logits-form losses equal the textbook GAN losses, values and gradients, and stay finite.

References are written the way papers and the tutorial write them (on probabilities
``D = sigmoid(logit)`` for the log losses, on raw logits for LSGAN and hinge) and differentiated
by torch autograd in float64, so they share no code with ``gan_core.gan.losses``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from gan_core.gan.config import LOSSES
from gan_core.gan.losses import (
    equilibrium,
    equilibrium_point,
    logit_grads,
    loss_values,
    one_centred_penalty,
    one_centred_penalty_grad,
    zero_centred_penalty,
    zero_centred_penalty_grad,
)

Pair = tuple[torch.Tensor, torch.Tensor]


def _mean(t: torch.Tensor) -> torch.Tensor:
    """Per-member batch mean of a ``(members, batch, 1)`` tensor."""
    return t.mean(dim=(1, 2))


def textbook_minimax(real: torch.Tensor, fake: torch.Tensor) -> Pair:
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    d_loss = -_mean(torch.log(d_real) + torch.log(1 - d_fake))
    return d_loss, _mean(torch.log(1 - d_fake))


def textbook_non_saturating(real: torch.Tensor, fake: torch.Tensor) -> Pair:
    d_loss, _ = textbook_minimax(real, fake)
    return d_loss, -_mean(torch.log(torch.sigmoid(fake)))


def textbook_least_squares(real: torch.Tensor, fake: torch.Tensor) -> Pair:
    d_loss = 0.5 * _mean((real - 1) ** 2) + 0.5 * _mean(fake**2)
    return d_loss, 0.5 * _mean((fake - 1) ** 2)


def textbook_hinge(real: torch.Tensor, fake: torch.Tensor) -> Pair:
    d_loss = _mean(torch.relu(1 - real)) + _mean(torch.relu(1 + fake))
    return d_loss, -_mean(fake)


def textbook_wasserstein(real: torch.Tensor, fake: torch.Tensor) -> Pair:
    """WGAN: the critic maximises E critic(real) - E critic(fake); G raises its score."""
    return -(_mean(real) - _mean(fake)), -_mean(fake)


TEXTBOOK: dict[str, Callable[[torch.Tensor, torch.Tensor], Pair]] = {
    "minimax": textbook_minimax,
    "non_saturating": textbook_non_saturating,
    "least_squares": textbook_least_squares,
    "hinge": textbook_hinge,
    "wasserstein": textbook_wasserstein,
}


def random_logits(members: int, batch: int, scale: float, seed: int) -> np.ndarray:
    """``(members, 2 * batch, 1)`` logits, real rows first, as the engine lays them out."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((members, 2 * batch, 1)) * scale).astype(np.float32)


def engine_grads(loss: str, logits: np.ndarray,
                 real_label: float | np.ndarray = 1.0) -> tuple[np.ndarray, np.ndarray]:
    batch = logits.shape[1] // 2
    d_out = np.full_like(logits, np.nan)
    g_out = np.full((logits.shape[0], batch, 1), np.nan, logits.dtype)
    logit_grads(loss, logits, d_out, g_out, real_label)
    return d_out, g_out


def reference(loss: str, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray]:
    """Textbook ``D_loss``, ``G_loss`` and their autograd gradients w.r.t. the logits."""
    batch = logits.shape[1] // 2
    t = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    d_loss, g_loss = TEXTBOOK[loss](t[:, :batch], t[:, batch:])
    (d_grad,) = torch.autograd.grad(d_loss.sum(), t, retain_graph=True)
    (g_grad,) = torch.autograd.grad(g_loss.sum(), t)
    return (d_loss.detach().numpy(), g_loss.detach().numpy(), d_grad.numpy(),
            g_grad[:, batch:].numpy())


def test_every_configurable_loss_has_a_textbook_reference() -> None:
    assert set(TEXTBOOK) == set(LOSSES)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("scale", [0.1, 1.0, 4.0])
def test_loss_values_equal_the_textbook_formulas(loss: str, scale: float) -> None:
    logits = random_logits(members=3, batch=16, scale=scale, seed=1)
    d_loss, g_loss = loss_values(loss, logits[:, :16], logits[:, 16:])
    ref_d, ref_g, _, _ = reference(loss, logits)
    np.testing.assert_allclose(d_loss, ref_d, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_loss, ref_g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("scale", [0.1, 1.0, 4.0])
def test_logit_gradients_equal_autograd_of_the_textbook_formulas(loss: str, scale: float) -> None:
    logits = random_logits(members=3, batch=16, scale=scale, seed=2)
    d_out, g_out = engine_grads(loss, logits)
    _, _, ref_d, ref_g = reference(loss, logits)
    np.testing.assert_allclose(d_out, ref_d, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_out, ref_g, rtol=1e-5, atol=1e-7)


def test_hinge_kinks_take_the_same_subgradient_as_torch_relu() -> None:
    """At exactly ``l_real = 1`` and ``l_fake = -1`` the hinge is not differentiable; the engine
    must pick torch's choice (zero), or a run would drift from an autograd one."""
    logits = np.array([[[1.0], [0.5], [-1.0], [-0.5]]], np.float32)  # real 1, 0.5; fake -1, -0.5
    d_out, _ = engine_grads("hinge", logits)
    _, _, ref_d, _ = reference("hinge", logits)
    np.testing.assert_array_equal(d_out, ref_d)
    assert d_out[0, 0, 0] == 0 and d_out[0, 2, 0] == 0


def exact_log_losses(real: float, fake: float) -> dict[str, tuple[float, float]]:
    """``-log sigmoid(l) = softplus(-l)``, written out for |l| so large that it is exactly
    ``max(0, -l)`` in floating point (the correction ``log1p(exp(-|l|))`` underflows)."""
    def softplus_far(v: float) -> float:
        return max(v, 0.0)

    d_loss = softplus_far(-real) + softplus_far(fake)
    return {
        "minimax": (d_loss, -softplus_far(fake)),
        "non_saturating": (d_loss, softplus_far(-fake)),
    }


@pytest.mark.parametrize("magnitude", [50.0, 1e3, 1e5])
@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_log_losses_stay_exact_for_logits_that_saturate_the_sigmoid(
        loss: str, magnitude: float, sign: float) -> None:
    """On probabilities these losses would be ``log(0) = -inf``; in logits form they are the
    exact asymptote, and their gradients are bounded by ``1 / batch``."""
    real, fake = sign * magnitude, -sign * magnitude
    logits = np.array([[[real], [fake]]], np.float32)
    d_loss, g_loss = loss_values(loss, logits[:, :1], logits[:, 1:])
    expected = exact_log_losses(real, fake)[loss]
    np.testing.assert_allclose([d_loss[0], g_loss[0]], expected, rtol=1e-6, atol=1e-6)
    d_out, g_out = engine_grads(loss, logits)
    assert np.isfinite(d_out).all() and np.isfinite(g_out).all()
    assert np.abs(d_out).max() <= 1.0 and np.abs(g_out).max() <= 1.0


@pytest.mark.parametrize("loss", LOSSES)
def test_all_losses_are_finite_for_huge_logits(loss: str) -> None:
    logits = np.array([[[1e6], [-1e6], [-1e6], [1e6]]], np.float32)
    d_loss, g_loss = loss_values(loss, logits[:, :2], logits[:, 2:])
    d_out, g_out = engine_grads(loss, logits)
    for array in (d_loss, g_loss, d_out, g_out):
        assert np.isfinite(array).all()


@pytest.mark.parametrize("loss", LOSSES)
def test_members_of_a_stack_do_not_mix(loss: str) -> None:
    """Each member's gradient depends only on its own logits."""
    logits = random_logits(members=2, batch=8, scale=1.0, seed=3)
    both_d, both_g = engine_grads(loss, logits)
    alone_d, alone_g = engine_grads(loss, logits[1:])
    np.testing.assert_array_equal(both_d[1:], alone_d)
    np.testing.assert_array_equal(both_g[1:], alone_g)


# D's raw output when it cannot tell real from fake: D(x) = sigmoid(0) = 1/2 for the log losses,
# LSGAN's optimal D = (p_data * 1 + p_fake * 0) / (p_data + p_fake) = 1/2, and 0 for the hinge
# and for the critic (whose level is free: any constant does).
UNDECIDED_OUTPUT = {"minimax": 0.0, "non_saturating": 0.0, "least_squares": 0.5, "hinge": 0.0,
                    "wasserstein": 0.0}
CRITIC = "wasserstein"
PROBABILISTIC = [loss for loss in LOSSES if loss != CRITIC]


@pytest.mark.parametrize("loss", LOSSES)
def test_equilibrium_values_are_the_losses_of_an_undecided_discriminator(loss: str) -> None:
    logits = np.full((1, 4, 1), UNDECIDED_OUTPUT[loss], np.float32)
    ref_d, ref_g, _, _ = reference(loss, logits)
    d_eq, g_eq = equilibrium(loss)
    np.testing.assert_allclose(d_eq, ref_d[0], rtol=1e-12)
    if loss == CRITIC:  # G's loss is minus the critic's free level: no target
        assert math.isnan(g_eq)
    else:
        np.testing.assert_allclose(g_eq, ref_g[0], rtol=1e-12)


def test_tutorial_d_score_at_equilibrium_is_minus_log_four() -> None:
    """The tutorial prints ``D score = -D_loss`` and says -1.38 means G has converged."""
    assert -equilibrium("minimax")[0] == pytest.approx(-1.386, abs=1e-3)


def test_unknown_loss_is_refused() -> None:
    logits = random_logits(members=1, batch=2, scale=1.0, seed=0)
    with pytest.raises(ValueError, match="earth_mover"):
        loss_values("earth_mover", logits[:, :2], logits[:, 2:])
    with pytest.raises(ValueError, match="earth_mover"):
        engine_grads("earth_mover", logits)


# -- where every readout settles -----------------------------------------------------------


def d_loss_on_identical_curves(loss: str, logit: float, real_label: float = 1.0) -> float:
    """D's loss when the real and the generated batch are the same curves and D outputs
    ``logit`` on all of them."""
    both = np.full((1, 1, 1), logit)
    return float(loss_values(loss, both, both, real_label)[0][0])


@pytest.mark.parametrize("real_label", [1.0, 0.9, 0.7])
@pytest.mark.parametrize("loss", LOSSES)
def test_the_equilibrium_logit_is_what_d_learns_when_it_cannot_tell(loss: str,
                                                                    real_label: float) -> None:
    """Where real and generated curves are alike D's best output minimises its loss over a
    curve seen as both; every logit of the equilibrium's range does, and no other (for the
    critic, every logit: its loss is flat there)."""
    point = equilibrium_point(loss, real_label)
    grid = np.linspace(-3, 3, 6001)
    values = np.array([d_loss_on_identical_curves(loss, v, real_label) for v in grid])
    best = grid[values <= values.min() + 1e-12]
    low, high = np.clip(point.logit_range, -3, 3)
    assert best.min() == pytest.approx(low, abs=1e-3)
    assert best.max() == pytest.approx(high, abs=1e-3)
    assert low <= point.logit <= high
    # the grid misses the exact optimum by under half a step: it reads a hair above it
    assert values.min() - 1e-6 <= point.d_loss <= values.min() + 1e-12


@pytest.mark.parametrize("loss", PROBABILISTIC)
def test_the_equilibrium_readouts_are_what_the_page_computes_there(loss: str) -> None:
    """D accuracy is the mean sigmoid of D's logit, the D score is -D_loss; ``equilibrium``
    keeps giving (D_loss, G_loss)."""
    point = equilibrium_point(loss)
    assert point.d_real == point.d_fake == pytest.approx(1 / (1 + math.exp(-point.logit)))
    assert point.d_score == -point.d_loss
    assert equilibrium(loss) == (point.d_loss, point.g_loss)


def test_least_squares_d_accuracy_settles_at_sigmoid_of_one_half_not_one_half() -> None:
    assert equilibrium_point("least_squares").d_real == pytest.approx(0.6225, abs=1e-4)
    assert equilibrium_point("hinge").logit_range == (-1.0, 1.0)
    assert equilibrium_point("minimax").d_real == 0.5


def test_an_unknown_loss_has_no_equilibrium() -> None:
    with pytest.raises(ValueError, match="unknown loss 'earth_mover'"):
        equilibrium_point("earth_mover")


def test_a_critic_has_no_probability_and_no_level_only_a_gap_that_settles_at_zero() -> None:
    point = equilibrium_point("wasserstein")
    assert math.isnan(point.d_real) and math.isnan(point.d_fake) and math.isnan(point.g_loss)
    assert point.d_loss == point.d_score == 0.0
    assert point.logit_range == (-math.inf, math.inf)


def test_smoothing_moves_the_undecided_d_to_half_the_real_label() -> None:
    """The optimal D of the smoothed cross-entropy is s p_data / (p_data + p_g): s/2 where the
    laws agree; least squares' undecided logit is s/2 too; hinge has no label to smooth."""
    assert equilibrium_point("minimax", 0.9).d_real == pytest.approx(0.45)
    assert equilibrium_point("non_saturating", 0.8).d_real == pytest.approx(0.4)
    assert equilibrium_point("least_squares", 0.9).logit == pytest.approx(0.45)
    assert equilibrium_point("hinge", 0.9) == equilibrium_point("hinge")


# -- one-sided label smoothing and the penalties, against autograd ---------------------------


def textbook_smoothed(loss: str, real: torch.Tensor, fake: torch.Tensor,
                      s: float) -> torch.Tensor:
    """D's loss with target ``s`` for real curves, as Salimans et al. write it."""
    if loss == "least_squares":
        return 0.5 * _mean((real - s) ** 2) + 0.5 * _mean(fake**2)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    return -_mean(s * torch.log(d_real) + (1 - s) * torch.log(1 - d_real)
                  + torch.log(1 - d_fake))


@pytest.mark.parametrize("s", [0.9, 0.75])
@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares"])
def test_smoothed_losses_and_gradients_equal_the_textbook(loss: str, s: float) -> None:
    logits = random_logits(members=2, batch=16, scale=2.0, seed=5)
    t = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    ref = textbook_smoothed(loss, t[:, :16], t[:, 16:], s)
    (ref_grad,) = torch.autograd.grad(ref.sum(), t)
    d_loss, _ = loss_values(loss, logits[:, :16], logits[:, 16:], s)
    np.testing.assert_allclose(d_loss, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    d_out, g_out = engine_grads(loss, logits, s)
    np.testing.assert_allclose(d_out, ref_grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(g_out, engine_grads(loss, logits)[1])  # G's is untouched


@pytest.mark.parametrize("loss", ["hinge", "wasserstein"])
def test_losses_without_a_target_ignore_the_real_label(loss: str) -> None:
    logits = random_logits(members=1, batch=8, scale=2.0, seed=6)
    np.testing.assert_array_equal(engine_grads(loss, logits, 0.8)[0], engine_grads(loss, logits)[0])


def test_a_real_label_per_member_smooths_each_member_with_its_own() -> None:
    logits = random_logits(members=2, batch=8, scale=1.0, seed=7)
    labels = np.array([0.9, 0.7], np.float32).reshape(2, 1, 1)
    both = engine_grads("minimax", logits, labels)[0]
    for k, s in enumerate((0.9, 0.7)):
        np.testing.assert_allclose(both[k], engine_grads("minimax", logits[k:k + 1], s)[0][0],
                                   rtol=1e-6)


def input_gradients(seed: int, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((2, 12, 15)) * scale).astype(np.float32)


@pytest.mark.parametrize("scale", [0.01, 0.3, 3.0])
def test_the_penalties_and_their_gradients_equal_autograd_of_their_formulas(scale: float) -> None:
    """R1/R2: gamma/2 E ||g||^2; WGAN-GP: lam E (||g|| - 1)^2, written as GAN_stability's
    compute_grad2 and wgan_gp_reg write them, differentiated by autograd."""
    grads = input_gradients(1, scale)
    t = torch.tensor(grads, dtype=torch.float64, requires_grad=True)
    r1 = 0.7 / 2 * t.pow(2).sum(2).mean(1)
    gp = 10.0 * (t.norm(2, dim=2) - 1).pow(2).mean(1)
    (r1_grad,) = torch.autograd.grad(r1.sum(), t)
    (gp_grad,) = torch.autograd.grad(gp.sum(), t)
    np.testing.assert_allclose(zero_centred_penalty(grads, 0.7), r1.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(one_centred_penalty(grads, 10.0), gp.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(zero_centred_penalty_grad(grads, 0.7), r1_grad.numpy(),
                               rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(one_centred_penalty_grad(grads, 10.0), gp_grad.numpy(),
                               rtol=1e-4, atol=1e-7)


def test_a_zero_input_gradient_gets_torchs_zero_subgradient_from_wgan_gp() -> None:
    grads = np.zeros((1, 2, 3), np.float32)
    t = torch.zeros(1, 2, 3, dtype=torch.float64, requires_grad=True)
    (ref,) = torch.autograd.grad((t.norm(2, dim=2) - 1).pow(2).mean(), t)
    np.testing.assert_array_equal(one_centred_penalty_grad(grads, 1.0), ref.numpy())

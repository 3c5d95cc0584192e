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
from gan_core.gan.losses import equilibrium, equilibrium_point, logit_grads, loss_values

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


TEXTBOOK: dict[str, Callable[[torch.Tensor, torch.Tensor], Pair]] = {
    "minimax": textbook_minimax,
    "non_saturating": textbook_non_saturating,
    "least_squares": textbook_least_squares,
    "hinge": textbook_hinge,
}


def random_logits(members: int, batch: int, scale: float, seed: int) -> np.ndarray:
    """``(members, 2 * batch, 1)`` logits, real rows first, as the engine lays them out."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((members, 2 * batch, 1)) * scale).astype(np.float32)


def engine_grads(loss: str, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    batch = logits.shape[1] // 2
    d_out = np.full_like(logits, np.nan)
    g_out = np.full((logits.shape[0], batch, 1), np.nan, logits.dtype)
    logit_grads(loss, logits, d_out, g_out)
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
# LSGAN's optimal D = (p_data * 1 + p_fake * 0) / (p_data + p_fake) = 1/2, and 0 for the hinge.
UNDECIDED_OUTPUT = {"minimax": 0.0, "non_saturating": 0.0, "least_squares": 0.5, "hinge": 0.0}


@pytest.mark.parametrize("loss", LOSSES)
def test_equilibrium_values_are_the_losses_of_an_undecided_discriminator(loss: str) -> None:
    logits = np.full((1, 4, 1), UNDECIDED_OUTPUT[loss], np.float32)
    ref_d, ref_g, _, _ = reference(loss, logits)
    np.testing.assert_allclose(equilibrium(loss), [ref_d[0], ref_g[0]], rtol=1e-12)


def test_tutorial_d_score_at_equilibrium_is_minus_log_four() -> None:
    """The tutorial prints ``D score = -D_loss`` and says -1.38 means G has converged."""
    assert -equilibrium("minimax")[0] == pytest.approx(-1.386, abs=1e-3)


def test_unknown_loss_is_refused() -> None:
    logits = random_logits(members=1, batch=2, scale=1.0, seed=0)
    with pytest.raises(ValueError, match="wasserstein"):
        loss_values("wasserstein", logits[:, :2], logits[:, 2:])
    with pytest.raises(ValueError, match="wasserstein"):
        engine_grads("wasserstein", logits)


# -- where every readout settles -----------------------------------------------------------


def d_loss_on_identical_curves(loss: str, logit: float) -> float:
    """D's loss when the real and the generated batch are the same curves and D outputs
    ``logit`` on all of them."""
    both = np.full((1, 1, 1), logit)
    return float(loss_values(loss, both, both)[0][0])


@pytest.mark.parametrize("loss", LOSSES)
def test_the_equilibrium_logit_is_what_d_learns_when_it_cannot_tell(loss: str) -> None:
    """Where real and generated curves are alike D's best output minimises its loss over a
    curve seen as both; every logit of the equilibrium's range does, and no other."""
    point = equilibrium_point(loss)
    grid = np.linspace(-3, 3, 6001)
    values = np.array([d_loss_on_identical_curves(loss, v) for v in grid])
    best = grid[values <= values.min() + 1e-12]
    low, high = point.logit_range
    assert best.min() == pytest.approx(low, abs=1e-3)
    assert best.max() == pytest.approx(high, abs=1e-3)
    assert low <= point.logit <= high
    assert point.d_loss == pytest.approx(values.min(), abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
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
    with pytest.raises(ValueError, match="unknown loss 'wasserstein'"):
        equilibrium_point("wasserstein")

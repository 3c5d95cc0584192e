"""The hand-written engine trains exactly the GAN of the tutorial.

A plain torch implementation, written as in the fixed ``406_GAN.py`` (``nn.Sequential``,
autograd, ``torch.optim``; G's step through the current D first, then D's step on the real batch
and ``G(z).detach()``), starts from the engine's initial weights and consumes the batches the
engine draws (drawn again, with ``engine.draw_batch``, from a copy of its training stream).
After 20 steps both must hold the same weights, for every loss, both optimizers and several D
steps per G step.

Two correct float32 implementations may still part ways where a ReLU input (or a hinge logit)
lands within rounding of its kink, as each may round to a different side; such a run is set
aside for the next seed, and only such a run (see ``assert_agrees_on_a_seed``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import GANConfig
from gan_core.gan.config import LOSSES
from gan_core.gan.engine import GANStack, Net, draw_batch

STEPS = 20
# Distinct, non-default hyperparameters, so that swapping G's and D's would show.
BASE = GANConfig(lr_g=2e-3, lr_d=5e-4, beta1=0.5, beta2=0.99, momentum=0.8)

Batch = tuple[torch.Tensor, torch.Tensor]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- the engine, recorded ------------------------------------------------------------------


def engine_and_batches(config: GANConfig) -> tuple[GANStack, list[Batch]]:
    """The engine of one run, and the batches (real curves, noise) it draws in ``STEPS``
    steps: drawn the engine's way from a copy of its training stream. If the engine drew them
    any other way, nothing below would agree."""
    stack = GANStack(config, [config.seed])
    rng = np.random.default_rng()
    rng.bit_generator.state = stack.rngs[0].bit_generator.state
    batches = [draw_batch(rng, stack.target, stack.x, config.batch_size, config.latent_dim)
               for _ in range(STEPS * config.d_steps)]
    return stack, [(torch.from_numpy(real), torch.from_numpy(z)) for real, z in batches]


# -- the reference, as in the tutorial -----------------------------------------------------


def mlp(net: Net) -> nn.Sequential:
    """The tutorial's ``Linear -> ReLU -> Linear`` with the engine net's current weights."""
    first, second = net.layers
    model = nn.Sequential(nn.Linear(first.n_in, first.n_out), nn.ReLU(),
                          nn.Linear(second.n_in, second.n_out))
    load(model, net.params[0])
    return model


def linears(model: nn.Sequential) -> list[nn.Linear]:
    return [layer for layer in model if isinstance(layer, nn.Linear)]


def load(model: nn.Sequential, flat: np.ndarray) -> None:
    """Engine layout: per layer, weight as (n_in, n_out) row-major, then bias."""
    with torch.no_grad():
        for tensor, part in zip(parameters(model), split(model, flat), strict=True):
            tensor.copy_(part)


def parameters(model: nn.Sequential) -> list[torch.Tensor]:
    return [p for layer in linears(model) for p in (layer.weight, layer.bias)]


def split(model: nn.Sequential, flat: np.ndarray) -> list[torch.Tensor]:
    parts, offset = [], 0
    for layer in linears(model):
        n = layer.in_features * layer.out_features
        weight = flat[offset:offset + n].reshape(layer.in_features, layer.out_features)
        parts.append(torch.from_numpy(np.ascontiguousarray(weight.T)))
        parts.append(torch.from_numpy(flat[offset + n:offset + n + layer.out_features].copy()))
        offset += n + layer.out_features
    return parts


def flatten(model: nn.Sequential, grads: bool = False) -> np.ndarray:
    """Weights (or their gradients) of a model in the engine's flat layout."""
    out = []
    for layer in linears(model):
        weight, bias = (layer.weight.grad, layer.bias.grad) if grads else (layer.weight,
                                                                          layer.bias)
        out += [weight.detach().T.reshape(-1), bias.detach().reshape(-1)]
    return torch.cat(out).numpy()


def d_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D's loss on D's logits for a real and a fake batch, as the papers write it."""
    if loss in ("minimax", "non_saturating"):  # the tutorial's D_loss, D = sigmoid(logit)
        return -torch.mean(torch.log(torch.sigmoid(real)) + torch.log(1.0 - torch.sigmoid(fake)))
    if loss == "least_squares":
        return 0.5 * torch.mean((real - 1) ** 2) + 0.5 * torch.mean(fake**2)
    if loss == "wasserstein":  # the critic maximises E critic(real) - E critic(fake)
        return torch.mean(fake) - torch.mean(real)
    return torch.mean(torch.relu(1 - real)) + torch.mean(torch.relu(1 + fake))


def g_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    if loss == "minimax":  # the tutorial's G_loss
        return torch.mean(torch.log(1.0 - torch.sigmoid(fake)))
    if loss == "non_saturating":
        return -torch.mean(torch.log(torch.sigmoid(fake)))
    if loss == "least_squares":
        return 0.5 * torch.mean((fake - 1) ** 2)
    return -torch.mean(fake)


def optimizer(config: GANConfig, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(config.beta1, config.beta2))
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=config.momentum)


class Reference:
    """The tutorial's training loop, fed with given batches.

    It also records how close any ReLU input (and, for the hinge loss, any logit to +-1) came
    to its kink: there the two branches differ, and which one float32 takes depends on rounding
    that legitimately differs between two correct implementations.
    """

    def __init__(self, config: GANConfig, g: nn.Sequential, d: nn.Sequential) -> None:
        self.config, self.g, self.d = config, g, d
        self.opt_g = optimizer(config, g, config.lr_g)
        self.opt_d = optimizer(config, d, config.lr_d)
        self.kink_margin = float("inf")
        for model in (g, d):
            model[0].register_forward_hook(lambda _, __, out: self._near(out))

    def _near(self, values: torch.Tensor) -> None:
        self.kink_margin = min(self.kink_margin, float(values.detach().abs().min()))

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        real_logits, fake_logits = self.d(real), self.d(fake)
        if self.config.loss == "hinge":
            self._near(real_logits - 1)
            self._near(fake_logits + 1)
        loss = d_loss(self.config.loss, real_logits, fake_logits)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()

    def step(self, batches: Iterator[Batch]) -> None:
        """One iteration: ``d_steps - 1`` D-only updates, then G's update and D's update."""
        for _ in range(self.config.d_steps - 1):
            real, z = next(batches)
            self.d_step(real, self.g(z).detach())
        real, z = next(batches)
        paintings = self.g(z)
        loss = g_loss(self.config.loss, self.d(paintings))
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self.d_step(real, paintings.detach())


SEEDS = range(11, 16)
KINK = 1e-6


def assert_agrees_on_a_seed(config: GANConfig, run: Callable[[GANConfig], tuple[float, float]],
                            tolerance: float) -> None:
    """``run`` returns (largest difference, reference's closest approach to a kink).

    A difference is only excused when the reference came within ``KINK`` of a kink; then the
    next seed is tried. An engine bug shows on every seed, and is never near-kink-excused on
    all of them.
    """
    for seed in SEEDS:
        error, margin = run(config.replace(seed=seed))
        if error <= tolerance:
            return
        assert margin < KINK, (f"seed {seed}: engine and autograd differ by {error:.3g}, and no "
                               f"ReLU or hinge input came within {KINK:g} of its kink")
    pytest.fail(f"differences on every seed, each after a kink within {KINK:g}")


# -- free-running comparison ---------------------------------------------------------------

TIED = ("hinge", "wasserstein")
"""Losses whose logit gradients are exactly +-1/batch, so that some weight gradients are exact
ties of rounding noise, which Adam magnifies (see the step-by-step test below)."""
CASES = [
    (loss, opt, d_steps)
    for loss, opt, d_steps in itertools.product(LOSSES, ("adam", "sgd"), (1, 3))
    if not (loss in TIED and opt == "adam")  # see the step-by-step test below
]


def free_run(config: GANConfig) -> tuple[float, float]:
    """Both sides train 20 steps from the same initial weights on the same batches."""
    stack, batches = engine_and_batches(config)
    return run_free(stack, batches, Reference(config, mlp(stack.g), mlp(stack.d)))


def run_free(stack: GANStack, batches: list, reference: Any) -> tuple[float, float]:
    """:func:`free_run` for any engine and its reference on the same initial weights."""
    start = stack.g.params[0].copy()
    for _ in range(STEPS):
        stack.train_step()
    replay = iter(batches)
    for _ in range(STEPS):
        reference.step(replay)
    assert np.abs(stack.g.params[0] - start).max() > 1e-3  # G moved far beyond the tolerance
    error = max(np.abs(stack.g.params[0] - flatten(reference.g)).max(),
                np.abs(stack.d.params[0] - flatten(reference.d)).max())
    return float(error), reference.kink_margin


@pytest.mark.parametrize(("loss", "opt", "d_steps"), CASES)
def test_engine_matches_autograd_over_twenty_steps(loss: str, opt: str, d_steps: int) -> None:
    config = BASE.replace(loss=loss, optimizer=opt, d_steps=d_steps)
    assert_agrees_on_a_seed(config, free_run, tolerance=1e-5)


# -- hinge with Adam, step by step ---------------------------------------------------------


def adam_from(opt: torch.optim.Optimizer, model: nn.Sequential, net: Net) -> None:
    """Give a torch Adam the engine's moment estimates and step count."""
    if net.t == 0:
        return
    for p, m, v in zip(parameters(model), split(model, net.m[0]), split(model, net.v[0]),
                       strict=True):
        opt.state[p] = {"step": torch.tensor(float(net.t)), "exp_avg": m.clone(),
                        "exp_avg_sq": v.clone()}


def lockstep_hinge_adam(config: GANConfig) -> tuple[float, float]:
    """Every step starts both sides from the engine's state; returns the largest difference of
    a gradient, or of an update away from exact gradient ties."""
    stack, batches = engine_and_batches(config)
    return lockstep(stack, batches, lambda g, d: Reference(config, g, d))


def lockstep(stack: GANStack, batches: list, reference_of: Callable[..., Any]
             ) -> tuple[float, float]:
    """:func:`lockstep_hinge_adam` for any engine and reference (``reference_of(g, d)``: the
    reference on these torch modules), each step from the engine's state."""
    error, margin, ties = 0.0, float("inf"), 0
    for i in range(STEPS):
        reference = reference_of(mlp(stack.g), mlp(stack.d))
        adam_from(reference.opt_g, reference.g, stack.g)
        adam_from(reference.opt_d, reference.d, stack.d)
        stack.train_step()
        reference.step(iter(batches[i:i + 1]))
        margin = min(margin, reference.kink_margin)
        for net, model in ((stack.g, reference.g), (stack.d, reference.d)):
            grad, ref_grad = net.grads[0], flatten(model, grads=True)
            tiny = (np.abs(ref_grad) < 1e-6) | (np.abs(grad) < 1e-6)
            tie = tiny & ~((ref_grad == 0) & (grad == 0))  # two exact zeros do agree
            ties += int(tie.sum())
            update_error = np.abs(net.params[0] - flatten(model))[~tie].max()
            error = max(error, float(np.abs(grad - ref_grad).max()), float(update_error))
    assert ties < 0.02 * STEPS * (stack.g.params.size + stack.d.params.size)
    return error, margin


@pytest.mark.parametrize("loss", TIED)
def test_hinge_or_a_critic_with_adam_matches_autograd_step_by_step_except_at_exact_ties(
        loss: str) -> None:
    """With the hinge loss every logit gradient is exactly +-1/B, so a gradient such as D's
    hidden bias (w2 times the count of active real rows minus fake rows) can be exactly zero,
    and then float rounding, which depends on summation order, leaves ~1e-9 of either sign.
    Adam divides by sqrt(v): at such an entry it turns that noise into a step of up to ~lr,
    which then spreads through later steps. So here both sides start every step from the
    engine's state; all gradients must agree, and so must all updates except where the
    gradient is below 1e-6, an exact tie. (With SGD the noise stays noise: see above.) A
    critic's logit gradients are exactly +-1/B as well."""
    config = BASE.replace(loss=loss, optimizer="adam")
    assert_agrees_on_a_seed(config, lockstep_hinge_adam, tolerance=1e-5)

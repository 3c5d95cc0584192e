"""The hand-written engine trains exactly the tutorial's conditional GAN too.

``406_conditional_GAN.py`` gives G the class label beside its ideas and D the label beside the
curve (``torch.cat((G_ideas, labels), 1)``, ``torch.cat((G_paintings, labels), 1)``). The
reference here is tests/test_fidelity.py's plain torch loop with those inputs, in the fixed
order (G's step through the current D, then D's step on the real batch and the detached
paintings, each with its label), fed the batches and labels the engine draws. After 20 steps
both hold the same weights (1e-5), for every loss, both optimizers and several D steps per G
step, on every target with classes; with the same excuse for a ReLU or hinge kink, and only
that one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from test_fidelity import (
    BASE,
    STEPS,
    TIED,
    Reference,
    assert_agrees_on_a_seed,
    g_loss,
    mlp,
    run_free,
)
from test_fidelity import lockstep as fidelity_lockstep

from gan_core import GANConfig
from gan_core.gan.config import LOSSES
from gan_core.gan.engine import GANStack, draw_batch, draw_labelled_batch
from gan_core.gan.labels import label_columns

LabelledBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
CONDITIONAL = BASE.replace(conditional=True)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def engine_and_labelled_batches(config: GANConfig) -> tuple[GANStack, list[LabelledBatch]]:
    """The engine of one conditional run and the (real curves, label columns, noise) its
    ``STEPS`` steps draw, drawn again from a copy of its training stream."""
    stack = GANStack(config, [config.seed])
    rng = np.random.default_rng()
    rng.bit_generator.state = stack.rngs[0].bit_generator.state
    batches = []
    for _ in range(STEPS * config.d_steps):
        real, labels, z = draw_labelled_batch(rng, stack.target, stack.x, config.batch_size,
                                              config.latent_dim)
        columns = label_columns(labels, stack.n_classes)
        batches.append((torch.from_numpy(real), torch.from_numpy(columns), torch.from_numpy(z)))
    return stack, batches


class ConditionalReference(Reference):
    """The tutorial's conditional loop, fixed: G paints from its ideas and the real batch's
    labels and learns through D told the same labels; then D learns on the labelled real
    batch and the labelled paintings, detached."""

    def step(self, batches: Iterator[LabelledBatch]) -> None:  # type: ignore[override]
        for _ in range(self.config.d_steps - 1):
            real, labels, z = next(batches)
            paintings = self.g(torch.cat((z, labels), 1)).detach()
            self.d_step(torch.cat((real, labels), 1), torch.cat((paintings, labels), 1))
        real, labels, z = next(batches)
        paintings = self.g(torch.cat((z, labels), 1))
        loss = g_loss(self.config.loss, self.d(torch.cat((paintings, labels), 1)))
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self.d_step(torch.cat((real, labels), 1), torch.cat((paintings.detach(), labels), 1))


def free_run(config: GANConfig) -> tuple[float, float]:
    """test_fidelity's free run of 20 steps, conditional."""
    stack, batches = engine_and_labelled_batches(config)
    return run_free(stack, batches, ConditionalReference(config, mlp(stack.g), mlp(stack.d)))


def lockstep(config: GANConfig) -> tuple[float, float]:
    """test_fidelity's step-by-step comparison (hinge or a critic with Adam), conditional."""
    stack, batches = engine_and_labelled_batches(config)
    return fidelity_lockstep(stack, batches, lambda g, d: ConditionalReference(config, g, d))


CASES = [(loss, opt, d_steps)
         for loss, opt, d_steps in itertools.product(LOSSES, ("adam", "sgd"), (1, 3))
         # Adam's exact gradient ties under the hinge and a critic spread through a step's
         # extra D updates before anything is compared: one D step, step by step, as
         # test_fidelity.
         if not (loss in TIED and opt == "adam" and d_steps == 3)]


@pytest.mark.parametrize(("loss", "opt", "d_steps"), CASES)
def test_the_conditional_engine_matches_autograd_over_twenty_steps(
        loss: str, opt: str, d_steps: int) -> None:
    config = CONDITIONAL.replace(loss=loss, optimizer=opt, d_steps=d_steps)
    if loss in TIED and opt == "adam":  # exact gradient ties: see test_fidelity
        assert_agrees_on_a_seed(config, lockstep, tolerance=1e-5)
    else:
        assert_agrees_on_a_seed(config, free_run, tolerance=1e-5)


@pytest.mark.parametrize("config", [
    CONDITIONAL.replace(target="two_bands"),
    CONDITIONAL.replace(target="sine", loss="non_saturating"),
    CONDITIONAL.replace(target="sine", loss="least_squares", optimizer="sgd", d_steps=2,
                        latent_dim=2, hidden=9, n_points=4, batch_size=8),
], ids=["two_bands", "sine", "sine-tiny"])
def test_every_target_with_classes_trains_conditionally_as_autograd_does(
        config: GANConfig) -> None:
    assert_agrees_on_a_seed(config, free_run, tolerance=1e-5)


def test_the_gradient_g_receives_is_over_the_curves_points_not_its_label() -> None:
    """The force on a generated curve (``fake_grad``) is dG_loss/d(paintings), as autograd
    gives it for ``G_paintings`` inside ``torch.cat((G_paintings, labels), 1)``."""
    config = CONDITIONAL.replace(seed=3)
    stack, batches = engine_and_labelled_batches(config)
    _real, labels, z = batches[0]
    g, d = mlp(stack.g), mlp(stack.d)
    paintings = g(torch.cat((z, labels), 1))
    paintings.retain_grad()
    g_loss(config.loss, d(torch.cat((paintings, labels), 1))).backward()
    stack.train_step()
    assert stack.fake_grad.shape == (1, config.batch_size, config.n_points)
    np.testing.assert_allclose(stack.fake_grad[0], paintings.grad.numpy(), atol=1e-8, rtol=1e-4)


def test_a_conditional_run_sees_the_real_curves_and_noise_of_an_unconditional_one() -> None:
    """The labelled draw reads each class off the curve it draws and draws nothing more: the
    same stream gives the same real curves and noise either way, and the tutorial's label."""
    config = GANConfig(seed=9)
    stack = GANStack(config, [config.seed])
    first, second = np.random.default_rng(4), np.random.default_rng(4)
    for _ in range(3):
        real, z = draw_batch(first, stack.target, stack.x, 64, 5)
        real2, labels, z2 = draw_labelled_batch(second, stack.target, stack.x, 64, 5)
        assert np.array_equal(real, real2) and np.array_equal(z, z2)
        a = stack.target.fit(real, stack.x)[0][:, 0]
        assert np.array_equal(labels, ((a - 1) > 0.5).astype(np.int64))
    assert first.bit_generator.state == second.bit_generator.state

"""A conditional run's stabilizers act on the curves' points alone, as autograd says.

A conditional D reads each curve and then its class (label columns). The class is given, not
painted: R1, R2 and WGAN-GP penalise D's gradient over the points, instance noise falls on the
points, and spectral normalisation divides D's whole first layer, label columns included, as
``torch.nn.utils.parametrizations.spectral_norm`` on the tutorial's ``Linear(N + C, H)`` does.
The reference is test_stabilizers' plain-torch loop, with G and D told each draw's classes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from test_fidelity import BASE, assert_agrees_on_a_seed, mlp
from test_stabilizers import (
    OTHERS,
    PENALTIES,
    Draw,
    StabilizedReference,
    flat_grads,
    torch_vectors,
)
from torch import nn

from gan_core import GANConfig, Trainer
from gan_core.gan.engine import DTYPE, GANStack, draw_labelled_batch
from gan_core.gan.labels import label_columns
from gan_core.gan.stabilizers import noise_scale


class Told(nn.Sequential):
    """The tutorial's conditional G or D: its input, then the label columns of the draw it is
    working on (``columns``)."""

    columns: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat((x, self.columns), 1))


def replay_labelled_draws(config: GANConfig, stack: GANStack, first_step: int
                          ) -> list[tuple[Draw, torch.Tensor]]:
    """One training step's draws in the engine's order, from a copy of its stream: each pass's
    labelled batch, then instance noise over the points, then WGAN-GP's mixing weights; each
    with its label columns."""
    rng = np.random.default_rng()
    rng.bit_generator.state = stack.rngs[0].bit_generator.state
    b, n = config.batch_size, config.n_points
    sigma = float(noise_scale(np.array([config.instance_noise]),
                              np.array([config.instance_noise_steps]), first_step)[0])
    draws = []
    for _ in range(config.d_steps):
        real, labels, z = draw_labelled_batch(rng, stack.target, stack.x, b, config.latent_dim)
        noise = rng.standard_normal((2 * b, n), dtype=DTYPE) if sigma > 0 else None
        mix = rng.random((b, 1), dtype=DTYPE) if config.gp > 0 else None
        draw = Draw(*(None if a is None else torch.from_numpy(a) for a in (real, z, noise, mix)))
        draws.append((draw, torch.from_numpy(label_columns(labels, stack.n_classes))))
    return draws


def telling(draws: list[tuple[Draw, torch.Tensor]], *nets: Told) -> Iterator[Draw]:
    """The draws, each told to G and D as the reference takes it."""
    for draw, columns in draws:
        for net in nets:
            net.columns = columns
        yield draw


def conditional_step_gradients(config: GANConfig) -> tuple[float, float]:
    """test_stabilizers' one-step comparison, for a conditional run."""
    stack = GANStack(config, [config.seed])
    warm = 3
    for step in range(warm):
        stack.train_step(step=step)
    draws = replay_labelled_draws(config, stack, warm)
    g, d = Told(*mlp(stack.g)), Told(*mlp(stack.d))
    vectors = stack.d.spectral.vectors[0].copy() if config.spectral_norm else None
    reference = StabilizedReference(config, g, d, vectors)
    stack.train_step(step=warm)
    reference.stabilized_step(telling(draws, g, d), warm)
    error = max(np.abs(stack.d.grads[0] - flat_grads(reference.d)).max(),
                np.abs(stack.g.grads[0] - flat_grads(reference.g)).max())
    if config.spectral_norm:
        error = max(error, np.abs(stack.d.spectral.vectors[0] - torch_vectors(reference.d)).max())
    return float(error), reference.kink_margin


STABILIZERS = {name: value for name, value in {**PENALTIES, **OTHERS}.items() if name != "none"}


@pytest.mark.parametrize("stabilizer", list(STABILIZERS))
@pytest.mark.parametrize("loss", ["minimax", "wasserstein"])
def test_a_conditional_runs_stabilizers_have_autograds_gradients_over_the_points(
        loss: str, stabilizer: str) -> None:
    config = BASE.replace(conditional=True, loss=loss, **STABILIZERS[stabilizer])
    assert_agrees_on_a_seed(config, conditional_step_gradients, tolerance=1e-5)


def test_a_conditional_run_with_every_stabilizer_learns_both_classes() -> None:
    trainer = Trainer(GANConfig(conditional=True, r1=1.0, r2=1.0, instance_noise=0.05,
                                instance_noise_steps=1000, spectral_norm=True))
    before = trainer.evaluate().class_accuracy
    trainer.train(3000)
    after = trainer.evaluate()
    assert after.class_accuracy > max(0.8, before + 0.2), (before, after.class_accuracy)

"""The run as the tutorial's torch modules and optimizers: same curves, same next update."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_core import GANConfig, Trainer
from gan_core.files.layout import from_named, network_sizes
from gan_core.gan.engine import draw_batch
from gan_core.pytorch import modules, optimizers


def test_g_paints_the_runs_curves_and_d_judges_as_the_run_does() -> None:
    trainer = Trainer(GANConfig(seed=2))
    trainer.train(40)
    generator, discriminator = modules(trainer)
    z = np.random.default_rng(5).standard_normal((16, 5)).astype(np.float32)
    with torch.no_grad():
        curves = generator(torch.from_numpy(z)).numpy()
        belief = discriminator(torch.from_numpy(curves))[:, 0].numpy()
    np.testing.assert_allclose(curves, trainer.generate(z), atol=1e-6)
    np.testing.assert_allclose(belief, trainer.discriminate(curves), atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_torch_optimizers_take_the_engines_next_update(optimizer: str) -> None:
    """From the run's state, one tutorial step in torch on the engine's next batch lands on
    the engine's own next weights."""
    config = GANConfig(optimizer=optimizer, lr_g=1e-3, lr_d=5e-4, beta1=0.5, seed=9)
    trainer = Trainer(config)
    trainer.train(25)
    generator, discriminator = modules(trainer)
    opt_g, opt_d = optimizers(trainer, generator, discriminator)
    state = trainer.state()
    rng = np.random.default_rng()
    rng.bit_generator.state = state.rng
    real, z = (torch.from_numpy(a) for a in draw_batch(
        rng, trainer.target, trainer.x, config.batch_size, config.latent_dim))

    paintings = generator(z)
    g_loss = torch.mean(torch.log(1.0 - discriminator(paintings)))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    d_loss = -torch.mean(torch.log(discriminator(real))
                         + torch.log(1.0 - discriminator(paintings.detach())))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()

    trainer.train(1)
    after, sizes = trainer.state(), network_sizes(config)
    for net, before in ((after.g, state.g), (after.d, state.d)):  # a step far above tolerance
        assert np.abs(net.params - before.params).max() > 1e-4
    for module, net, size in ((generator, after.g, sizes["G"]),
                              (discriminator, after.d, sizes["D"])):
        named = {k: v.detach().numpy() for k, v in module.state_dict().items()}
        np.testing.assert_allclose(from_named(named, size), net.params, atol=1e-5)

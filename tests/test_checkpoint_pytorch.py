"""A checkpoint is plain PyTorch: ``torch.load(weights_only=True)`` opens it, the tutorial's modules
and optimizers take its state dicts strictly, and they go on as the lab does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import GANConfig, Trainer
from gan_core.files.layout import from_named, network_sizes
from gan_core.gan.engine import draw_batch


def load_in_plain_torch(path: Path) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer,
                                             torch.optim.Optimizer, dict[str, Any]]:
    """What a PyTorch user writes, from the file alone (nothing from gan_core): the tutorial's
    G and D and their optimizers, each loaded with ``strict`` state dicts."""
    ckpt = torch.load(path, weights_only=True)
    c = ckpt["config"]
    G = nn.Sequential(nn.Linear(c["latent_dim"], c["hidden"]), nn.ReLU(),
                      nn.Linear(c["hidden"], c["n_points"]))
    D = nn.Sequential(nn.Linear(c["n_points"], c["hidden"]), nn.ReLU(),
                      nn.Linear(c["hidden"], 1), nn.Sigmoid())
    G.load_state_dict(ckpt["G"], strict=True)
    D.load_state_dict(ckpt["D"], strict=True)
    make: Callable[[nn.Module, float], torch.optim.Optimizer]
    if c["optimizer"] == "adam":
        def make(module: nn.Module, lr: float) -> torch.optim.Optimizer:
            return torch.optim.Adam(module.parameters(), lr=lr, betas=(c["beta1"], c["beta2"]))
    else:
        def make(module: nn.Module, lr: float) -> torch.optim.Optimizer:
            return torch.optim.SGD(module.parameters(), lr=lr, momentum=c["momentum"])
    opt_G, opt_D = make(G, c["lr_g"]), make(D, c["lr_d"])
    opt_G.load_state_dict(ckpt["opt_G"])
    opt_D.load_state_dict(ckpt["opt_D"])
    return G, D, opt_G, opt_D, ckpt


def saved(trainer: Trainer, tmp_path: Path) -> Path:
    path = tmp_path / "run.pt"
    trainer.save(path)
    return path


def test_a_checkpoint_opens_with_weights_only_into_tensors_and_plain_values(
        tmp_path: Path) -> None:
    trainer = Trainer(GANConfig(seed=3))
    trainer.train(50)
    ckpt = torch.load(saved(trainer, tmp_path), weights_only=True)
    assert set(ckpt) == {"format", "config", "step", "G", "D", "opt_G", "opt_D",
                         "optimizer_steps", "rng", "history"}
    assert ckpt["format"] == "gan-curve-lab/2" and ckpt["step"] == 50
    assert ckpt["config"] == trainer.config.to_mapping()
    assert ckpt["optimizer_steps"] == {"G": 50, "D": 50}
    assert ckpt["rng"] == trainer.state().rng
    assert {k: (v.dtype, tuple(v.shape)) for k, v in ckpt["D"].items()} == {
        "0.weight": (torch.float32, (128, 15)), "0.bias": (torch.float32, (128,)),
        "2.weight": (torch.float32, (1, 128)), "2.bias": (torch.float32, (1,))}
    train = ckpt["history"]["train"]
    assert train["steps"].dtype == torch.int64 and train["rows"].dtype == torch.float64
    assert train["rows"].shape == (len(train["steps"]), len(train["columns"]))
    assert train["columns"] == ["d_loss", "g_loss", "d_real", "d_fake", "g_force"]


def test_the_loaded_modules_paint_and_judge_as_the_run_does(tmp_path: Path) -> None:
    trainer = Trainer(GANConfig(seed=2))
    trainer.train(40)
    G, D, *_ = load_in_plain_torch(saved(trainer, tmp_path))
    z = np.random.default_rng(5).standard_normal((16, 5)).astype(np.float32)
    with torch.no_grad():
        curves = G(torch.from_numpy(z)).numpy()
        belief = D(torch.from_numpy(curves))[:, 0].numpy()
    np.testing.assert_allclose(curves, trainer.generate(z), atol=1e-6)
    np.testing.assert_allclose(belief, trainer.discriminate(curves), atol=1e-6)


def tutorial_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer,
                  opt_D: torch.optim.Optimizer, real: torch.Tensor, z: torch.Tensor) -> None:
    """One step of ``406_GAN.py``: G's update through the current D, then D's."""
    paintings = G(z)
    g_loss = torch.mean(torch.log(1.0 - D(paintings)))
    opt_G.zero_grad()
    g_loss.backward()
    opt_G.step()
    d_loss = -torch.mean(torch.log(D(real)) + torch.log(1.0 - D(paintings.detach())))
    opt_D.zero_grad()
    d_loss.backward()
    opt_D.step()


@pytest.mark.parametrize(("optimizer", "steps", "extra_d_updates"), [
    ("adam", 25, 0), ("sgd", 25, 0), ("adam", 0, 0), ("adam", 10, 3)],
    ids=["adam", "sgd", "fresh run", "D updated alone"])
def test_one_tutorial_step_from_the_loaded_optimizers_is_the_runs_next_step(
        tmp_path: Path, optimizer: str, steps: int, extra_d_updates: int) -> None:
    """From the file, one tutorial step in torch on the run's next batch lands on the weights
    the run itself reaches with ``train(1)``."""
    config = GANConfig(optimizer=optimizer, lr_g=1e-3, lr_d=5e-4, beta1=0.5, seed=9)
    trainer = Trainer(config)
    trainer.train(steps)
    trainer.train_d(extra_d_updates)
    G, D, opt_G, opt_D, ckpt = load_in_plain_torch(saved(trainer, tmp_path))
    rng = np.random.default_rng()
    rng.bit_generator.state = ckpt["rng"]
    real, z = (torch.from_numpy(a) for a in draw_batch(
        rng, trainer.target, trainer.x, config.batch_size, config.latent_dim))
    before = trainer.state()

    tutorial_step(G, D, opt_G, opt_D, real, z)
    trainer.train(1)

    after, sizes = trainer.state(), network_sizes(config)
    for module, net, old, size in ((G, after.g, before.g, sizes["G"]),
                                   (D, after.d, before.d, sizes["D"])):
        assert np.abs(net.params - old.params).max() > 1e-4  # a step far above tolerance
        named = {k: v.detach().numpy() for k, v in module.state_dict().items()}
        np.testing.assert_allclose(from_named(named, size), net.params, atol=1e-5)


def test_saving_leaves_torchs_global_random_stream_alone(tmp_path: Path) -> None:
    trainer = Trainer(GANConfig(seed=1))
    trainer.train(5)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    saved(trainer, tmp_path)
    assert torch.equal(torch.rand(3), expected)

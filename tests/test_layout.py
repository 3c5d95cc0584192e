"""The engine's flat weights read under PyTorch's names and shapes, and back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import GANConfig, Trainer
from gan_core.files.layout import PARAMETER_NAMES, from_named, network_sizes, to_named


def test_named_weights_load_into_the_tutorials_modules_and_compute_the_same_curves() -> None:
    config = GANConfig(hidden=16, latent_dim=3, n_points=9, seed=4)
    trainer = Trainer(config)
    trainer.train(5)
    state, sizes = trainer.state(), network_sizes(config)
    g = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 9))
    d = nn.Sequential(nn.Linear(9, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    g.load_state_dict({k: torch.from_numpy(v) for k, v in to_named(state.g.params,
                                                                     sizes["G"]).items()})
    d.load_state_dict({k: torch.from_numpy(v) for k, v in to_named(state.d.params,
                                                                     sizes["D"]).items()})
    z = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    with torch.no_grad():
        curves = g(torch.from_numpy(z)).numpy()
        belief = d(torch.from_numpy(curves)).numpy()[:, 0]
    np.testing.assert_allclose(curves, trainer.generate(z), atol=1e-6)
    np.testing.assert_allclose(belief, trainer.discriminate(curves), atol=1e-6)
    assert list(to_named(state.g.params, sizes["G"])) == list(PARAMETER_NAMES)
    assert [name for name, _ in g.named_parameters()] == list(PARAMETER_NAMES)


def test_from_named_inverts_to_named() -> None:
    sizes = (5, 8, 15)
    flat = np.random.default_rng(1).standard_normal(5 * 8 + 8 + 8 * 15 + 15).astype(np.float32)
    np.testing.assert_array_equal(from_named(to_named(flat, sizes), sizes), flat)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("2.bias", None, "2.bias is missing"),
    ("0.weight", np.zeros((5, 8), np.float32), "0.weight has shape (5, 8), expected (8, 5)"),
])
def test_a_missing_or_mis_shaped_entry_is_named(key: str, value: np.ndarray | None,
                                                message: str) -> None:
    sizes = (5, 8, 15)
    named = to_named(np.zeros(5 * 8 + 8 + 8 * 15 + 15, np.float32), sizes)
    if value is None:
        del named[key]
    else:
        named[key] = value
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_named(named, sizes)

"""A run as PyTorch: the tutorial's modules and optimizers holding the run's state.

torch is imported when a module or optimizer is first built, not with this module: the page
shows the script without paying for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..gan.engine import ADAM_EPS, NetState
from ..threads import import_torch
from .layout import network_sizes, to_named, vectors_to_named

if TYPE_CHECKING:
    import torch
    from torch import nn, optim

    from ..gan.config import GANConfig
    from ..gan.targets import Target
    from ..training.trainer import Trainer

def tutorial_modules(config: GANConfig,
                     target: Target | None = None) -> tuple[nn.Sequential, nn.Sequential]:
    """Fresh ``G`` and ``D`` as the tutorial builds them, sized by ``config`` (and for a
    conditional run of your data, by their ``target``'s classes): a wasserstein critic has no
    Sigmoid, and with ``spectral_norm`` D's ``Linear`` layers carry
    ``torch.nn.utils.parametrizations.spectral_norm``."""
    torch = import_torch()
    nn = torch.nn

    sizes = network_sizes(config, target)
    g, d = sizes["G"], sizes["D"]
    generator = nn.Sequential(nn.Linear(g[0], g[1]), nn.ReLU(), nn.Linear(g[1], g[2]))
    layers = [nn.Linear(d[0], d[1]), nn.ReLU(), nn.Linear(d[1], d[2])]
    if config.spectral_norm:
        spectral_norm = torch.nn.utils.parametrizations.spectral_norm
        layers = [spectral_norm(layer) if isinstance(layer, nn.Linear) else layer
                  for layer in layers]
    if config.loss != "wasserstein":
        layers.append(nn.Sigmoid())
    return generator, nn.Sequential(*layers)


def modules(trainer: Trainer) -> tuple[nn.Sequential, nn.Sequential]:
    """The run's networks now, as the tutorial's ``G`` and ``D``: fed the same noise, ``G``
    paints ``trainer.generate(z)``, and ``D`` gives ``trainer.discriminate``. A conditional
    run's are those of ``406_conditional_GAN.py``: ``G(torch.cat((z, labels), 1))`` paints
    ``trainer.generate(z, labels)`` and ``D(torch.cat((curves, labels), 1))`` gives
    ``trainer.discriminate(curves, labels)``, with ``labels`` a column of 0 and 1. A spectrally
    normalised ``D`` comes in eval mode, where its power iteration's vectors stay as they are
    (in training mode each call would take a step of the iteration)."""
    config = trainer.config
    state, sizes = trainer.state(), network_sizes(config, trainer.target)
    generator, discriminator = tutorial_modules(config, trainer.target)
    for module, net, size, spectral in ((generator, state.g, sizes["G"], False),
                                        (discriminator, state.d, sizes["D"],
                                         config.spectral_norm)):
        named = to_named(net.params, size, spectral)
        if spectral:
            named |= vectors_to_named(net.vectors, size)
        module.load_state_dict(_tensors(named))
    if config.spectral_norm:  # to look at, not to train: .train() brings the iteration back
        discriminator.eval()
    return generator, discriminator


def optimizers(trainer: Trainer, generator: nn.Module,
               discriminator: nn.Module) -> tuple[optim.Optimizer, optim.Optimizer]:
    """``opt_G`` and ``opt_D`` over the given modules' parameters, set as the run's are: the
    config's optimizer, learning rates, betas or momentum, and the moment estimates and step
    count the engine has, so that their next ``step()`` is the engine's next update."""
    config, state = trainer.config, trainer.state()
    sizes = network_sizes(config, trainer.target)
    made = []
    for module, net, size, lr, spectral in (
            (generator, state.g, sizes["G"], config.lr_g, False),
            (discriminator, state.d, sizes["D"], config.lr_d, config.spectral_norm)):
        opt = new_optimizer(config, module, lr)
        _fill(opt, module, net, size, config.optimizer, spectral)
        made.append(opt)
    return made[0], made[1]


def new_optimizer(config: GANConfig, module: nn.Module, lr: float) -> optim.Optimizer:
    """The optimizer the config names, as ``torch.optim`` builds it."""
    torch = import_torch()
    if config.optimizer == "adam":
        return torch.optim.Adam(module.parameters(), lr=lr, betas=(config.beta1, config.beta2),
                                eps=ADAM_EPS)
    return torch.optim.SGD(module.parameters(), lr=lr, momentum=config.momentum)


def _fill(opt: optim.Optimizer, module: nn.Module, net: NetState,
          size: tuple[int, int, int], kind: str, spectral: bool) -> None:
    if net.t == 0:
        return  # torch keeps no state for a parameter before its first step
    torch = import_torch()
    first, second = to_named(net.m, size, spectral), to_named(net.v, size, spectral)
    for name, parameter in module.named_parameters():
        if kind == "adam":
            opt.state[parameter] = {"step": torch.tensor(float(net.t)),
                                    "exp_avg": torch.from_numpy(first[name]),
                                    "exp_avg_sq": torch.from_numpy(second[name])}
        else:
            opt.state[parameter] = {"momentum_buffer": torch.from_numpy(first[name])}


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    torch = import_torch()
    return {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}

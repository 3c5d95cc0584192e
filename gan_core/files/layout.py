"""The engine's flat weights under PyTorch's names.

The engine keeps each network's weights in one flat array, per layer a ``(n_in, n_out)`` weight
block (row-major) and then a bias. The tutorial's modules are ``nn.Sequential(nn.Linear,
nn.ReLU, nn.Linear[, nn.Sigmoid])``, whose ``state_dict`` keys are ``0.weight``, ``0.bias``,
``2.weight`` and ``2.bias``, each weight ``(n_out, n_in)``. Optimizer moments have the shape of
the weights, so they map the same way, in the order of ``Module.parameters()``.
"""

from __future__ import annotations

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import mlp_layout
from ..gan.labels import label_width_of
from ..gan.targets import Target

PARAMETER_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")
"""A network's parameters in ``nn.Sequential`` order: what ``parameters()`` yields."""
SPECTRAL_NAMES = ("0.bias", "0.parametrizations.weight.original", "2.bias",
                  "2.parametrizations.weight.original")
"""The same parameters of a network whose ``Linear`` layers carry
``torch.nn.utils.parametrizations.spectral_norm``, in the order ``parameters()`` yields them
there: a layer's own bias first, then the weight its parametrization holds."""
VECTOR_NAMES = ("0.parametrizations.weight.0._u", "0.parametrizations.weight.0._v",
                "2.parametrizations.weight.0._u", "2.parametrizations.weight.0._v")
"""The power iteration's buffers ``_u`` (the layer's ``n_out``) and ``_v`` (``n_in``)."""


def parameter_names(spectral: bool) -> tuple[str, ...]:
    """A network's parameter names in ``parameters()`` order, plain or spectrally normalised."""
    return SPECTRAL_NAMES if spectral else PARAMETER_NAMES


def _weight_name(index: int, spectral: bool) -> str:
    return f"{index}.parametrizations.weight.original" if spectral else f"{index}.weight"


def network_sizes(config: GANConfig,
                  target: Target | None = None) -> dict[str, tuple[int, int, int]]:
    """Layer sizes of G (noise -> hidden -> curve) and D (curve -> hidden -> logit); a
    conditional run's G and D also read the label columns (``gan_core.gan.labels``), after the
    noise and after the curve, as the tutorial's ``nn.Linear(N_IDEAS+1, 128)`` and
    ``nn.Linear(ART_COMPONENTS+1, 128)``. ``target``: your data's, whose labels set a
    conditional run's classes."""
    return sizes_with_labels(config, label_width_of(config, target))


def sizes_with_labels(config: GANConfig, c: int) -> dict[str, tuple[int, int, int]]:
    """:func:`network_sizes` with ``c`` label columns (what a checkpoint's labels give before
    its curves are read)."""
    return {"G": (config.latent_dim + c, config.hidden, config.n_points),
            "D": (config.n_points + c, config.hidden, 1)}


def to_named(flat: np.ndarray, sizes: tuple[int, int, int],
             spectral: bool = False) -> dict[str, np.ndarray]:
    """A flat engine array (weights or a moment) as PyTorch-shaped arrays by parameter name
    (the names of a spectrally normalised network with ``spectral``)."""
    layers, size = mlp_layout(sizes)
    if flat.shape != (size,):
        raise ValueError(f"expected {size} values for sizes {sizes}, got shape {flat.shape}")
    named = {}
    for index, layer in zip((0, 2), layers, strict=True):
        named[_weight_name(index, spectral)] = flat[layer.weight].reshape(
            layer.n_in, layer.n_out).T.copy()
        named[f"{index}.bias"] = flat[layer.bias].copy()
    return named


def vectors_to_named(vectors: np.ndarray, sizes: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The engine's power-iteration vectors (per layer ``u`` then ``v``) as the buffers of
    torch's spectral_norm."""
    parts, offset = [], 0
    for layer in mlp_layout(sizes)[0]:
        for n in (layer.n_out, layer.n_in):
            parts.append(vectors[offset:offset + n].copy())
            offset += n
    if offset != vectors.shape[0]:
        raise ValueError(f"expected {offset} vector entries, got {vectors.shape[0]}")
    return dict(zip(VECTOR_NAMES, parts, strict=True))


def vectors_from_named(named: dict[str, np.ndarray], sizes: tuple[int, int, int]) -> np.ndarray:
    """The inverse of :func:`vectors_to_named`."""
    return np.concatenate([np.asarray(named[name], np.float32).ravel() for name in VECTOR_NAMES])


def vector_shapes(sizes: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    """The shapes of torch's ``_u`` and ``_v`` buffers of each layer."""
    layers = mlp_layout(sizes)[0]
    return dict(zip(VECTOR_NAMES, [(n,) for layer in layers for n in (layer.n_out, layer.n_in)],
                    strict=True))


def from_named(named: dict[str, np.ndarray], sizes: tuple[int, int, int],
               spectral: bool = False) -> np.ndarray:
    """The inverse of :func:`to_named`; raises ``ValueError`` naming a missing or mis-shaped
    entry."""
    layers, size = mlp_layout(sizes)
    flat = np.empty(size, np.float32)
    for index, layer in zip((0, 2), layers, strict=True):
        for part, shape, where in (("weight", (layer.n_out, layer.n_in), layer.weight),
                                   ("bias", (layer.n_out,), layer.bias)):
            key = _weight_name(index, spectral) if part == "weight" else f"{index}.bias"
            if key not in named:
                raise ValueError(f"{key} is missing")
            array = np.asarray(named[key])
            if array.shape != shape:
                raise ValueError(f"{key} has shape {tuple(array.shape)}, expected {shape}")
            flat[where] = (array.T if part == "weight" else array).ravel()
    return flat

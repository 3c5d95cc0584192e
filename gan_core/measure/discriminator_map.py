"""What D believes over the plane of the target's curves: one member of a stack, drawn from its
own random stream so that looking never changes the run. In a conditional run, for one class:
D told that class, G asked for it, and the real curves of that class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import GANStack
from ..gan.losses import sigmoid
from ..gan.streams import DISCRIMINATOR_MAP, stream


@dataclass(frozen=True)
class DiscriminatorMap:
    """D's output over the target's plane of curves ``origin + u * b1(x) + v * b2(x)``."""

    u: np.ndarray  # (res_u,)
    v: np.ndarray  # (res_v,)
    prob: np.ndarray  # (res_v, res_u): sigmoid of D's logit for the curve at (u, v)
    generated: np.ndarray  # (n, 2): least-squares position of generated curves on the plane
    real: np.ndarray  # (m, 2): where real curves sit
    u_label: str
    v_label: str
    critic: bool = False
    """D is a wasserstein critic: ``prob`` is the sigmoid of its score less the midpoint of
    its mean scores on the real and the generated curves shown (its level is free, so the
    map is centred on where it separates them)."""


def discriminator_map(stack: GANStack, member: int, config: GANConfig, resolution: int = 41,
                      n_generated: int = 200, n_real: int = 100,
                      label: int | None = None) -> DiscriminatorMap:
    """D's output over a grid of the target's plane, and where curves fall on it; in a
    conditional run for class ``label`` (which it then needs)."""
    target, x = stack.target, stack.x
    real_target, labels = target, None
    if stack.label_width:
        if label is None or not 0 <= label < stack.n_classes:
            raise ValueError(f"label: {label!r}; a conditional run's D map is of one class, "
                             f"0 to {stack.n_classes - 1}")
        real_target = target.class_target(label)
    elif label is not None:
        raise ValueError("label: this run is not conditional; its D reads no class")
    plane = target.plane
    u = np.linspace(*plane.u_range, resolution)
    v = np.linspace(*plane.v_range, resolution)
    uu, vv = np.meshgrid(u, v)
    coords = np.stack([uu.ravel(), vv.ravel()], axis=1)
    origin, basis = target.plane_origin(x), target.plane_basis(x.astype(np.float64))
    curves = origin + coords @ basis
    rng = stream(config.seed, DISCRIMINATOR_MAP)
    z = rng.standard_normal((n_generated, config.latent_dim), dtype=np.float32)
    asked = None if label is None else np.full(n_generated, label)
    fakes = stack.generate(z, member, asked)
    generated = target.plane_coords(fakes, x)
    real = real_target.real_plane_coords(n_real)
    if label is not None:
        labels = np.full(len(curves), label)
    critic = config.loss == "wasserstein"
    with np.errstate(all="ignore"):
        logits = stack.discriminate(curves, member, labels)
        if critic:
            real_curves = origin + real @ basis
            told = None if label is None else np.full(len(real_curves), label)
            logits = logits - 0.5 * (stack.discriminate(real_curves, member, told).mean()
                                     + stack.discriminate(fakes, member, asked).mean())
        prob = sigmoid(logits).reshape(resolution, resolution)
    return DiscriminatorMap(u, v, prob, generated, real, plane.u_label, plane.v_label, critic)

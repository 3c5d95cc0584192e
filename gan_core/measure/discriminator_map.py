"""What D believes over the plane of the target's curves: one member of a stack, drawn from its
own random stream so that looking never changes the run."""

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


def discriminator_map(stack: GANStack, member: int, config: GANConfig, resolution: int = 41,
                      n_generated: int = 200, n_real: int = 100) -> DiscriminatorMap:
    """D's output over a grid of the target's plane, and where curves fall on it."""
    target, x = stack.target, stack.x
    plane = target.plane
    u = np.linspace(*plane.u_range, resolution)
    v = np.linspace(*plane.v_range, resolution)
    uu, vv = np.meshgrid(u, v)
    coords = np.stack([uu.ravel(), vv.ravel()], axis=1)
    curves = target.plane_origin(x) + coords @ target.plane_basis(x.astype(np.float64))
    with np.errstate(all="ignore"):
        prob = sigmoid(stack.discriminate(curves, member)).reshape(resolution, resolution)
    rng = stream(config.seed, DISCRIMINATOR_MAP)
    z = rng.standard_normal((n_generated, config.latent_dim), dtype=np.float32)
    generated = target.plane_coords(stack.generate(z, member), x)
    return DiscriminatorMap(u, v, prob, generated, target.real_plane_coords(n_real),
                            plane.u_label, plane.v_label)

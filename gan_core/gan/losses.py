"""GAN losses in logits form: their values and their gradients with respect to D's logits.

D's last layer outputs a logit ``l``; the tutorial's ``D(x)`` is ``sigmoid(l)``. Writing the
tutorial's ``log D`` and ``log(1 - D)`` as ``-softplus(-l)`` and ``-softplus(l)`` gives the same
values without overflow, and gradients that need one sigmoid.

Arrays are stacked: ``(members, batch, 1)``. Losses average over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * logits) + 0.5


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def loss_values(loss: str, real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D_loss, G_loss)`` per member, each averaged over the batch (axis 1)."""
    if loss in ("minimax", "non_saturating"):
        d_loss = softplus(-real).mean(axis=(1, 2)) + softplus(fake).mean(axis=(1, 2))
        if loss == "minimax":  # G minimises log(1 - D(G(z))), as in the tutorial
            g_loss = -softplus(fake).mean(axis=(1, 2))
        else:  # G minimises -log D(G(z))
            g_loss = softplus(-fake).mean(axis=(1, 2))
    elif loss == "least_squares":
        d_loss = 0.5 * ((real - 1) ** 2).mean(axis=(1, 2)) + 0.5 * (fake**2).mean(axis=(1, 2))
        g_loss = 0.5 * ((fake - 1) ** 2).mean(axis=(1, 2))
    elif loss == "hinge":
        d_loss = (np.maximum(0, 1 - real).mean(axis=(1, 2))
                  + np.maximum(0, 1 + fake).mean(axis=(1, 2)))
        g_loss = -fake.mean(axis=(1, 2))
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return d_loss, g_loss


def logit_grads(loss: str, logits: np.ndarray, d_out: np.ndarray, g_out: np.ndarray) -> None:
    """Write dD_loss/dlogits into ``d_out`` (real rows first) and dG_loss/dfake-logits into
    ``g_out``. ``logits`` holds the real batch then the fake batch along axis 1."""
    batch = g_out.shape[1]
    real, fake = logits[:, :batch], logits[:, batch:]
    inv = 1.0 / batch
    if loss in ("minimax", "non_saturating"):
        np.tanh(0.5 * logits, out=d_out)
        d_out *= 0.5 * inv
        d_out += 0.5 * inv  # sigmoid(l) / batch
        d_out[:, :batch] -= inv  # real rows: (sigmoid(l) - 1) / batch
        if loss == "minimax":
            np.negative(d_out[:, batch:], out=g_out)
        else:
            np.subtract(d_out[:, batch:], inv, out=g_out)
    elif loss == "least_squares":
        np.multiply(logits, inv, out=d_out)
        d_out[:, :batch] -= inv
        np.subtract(fake, 1.0, out=g_out)
        g_out *= inv
    elif loss == "hinge":
        np.less(real, 1.0, out=d_out[:, :batch])
        d_out[:, :batch] *= -inv
        np.greater(fake, -1.0, out=d_out[:, batch:])
        d_out[:, batch:] *= inv
        g_out.fill(-inv)
    else:
        raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, logits: np.ndarray) -> np.ndarray:
    """Each generated curve's own G loss ``l_G`` from D's logit on it (G_loss is their mean).

    minimax: ``log(1 - D)``; non_saturating: ``-log D``; least_squares: ``(l - 1)^2 / 2`` on the
    logit; hinge: ``-l``.
    """
    if loss == "minimax":
        return -softplus(logits)
    if loss == "non_saturating":
        return softplus(-logits)
    if loss == "least_squares":
        return 0.5 * (logits - 1) ** 2
    if loss == "hinge":
        return -logits
    raise ValueError(f"unknown loss {loss!r}; one of minimax, non_saturating, least_squares, "
                     "hinge")


def generator_loss_grad(loss: str, logits: np.ndarray) -> np.ndarray:
    """``d l_G / d logit`` per curve: :func:`generator_loss`'s derivative, without the 1/batch
    of the batch mean. Minimax's ``-D`` vanishes where D rejects a curve (D -> 0); the
    non-saturating ``D - 1`` is largest there."""
    if loss == "minimax":
        return -sigmoid(logits)
    if loss == "non_saturating":
        return sigmoid(logits) - 1
    if loss == "least_squares":
        return logits - 1.0
    if loss == "hinge":
        return np.full_like(logits, -1.0)
    raise ValueError(f"unknown loss {loss!r}; one of minimax, non_saturating, least_squares, "
                     "hinge")


@dataclass(frozen=True)
class Equilibrium:
    """What every readout settles at when D cannot tell real from fake, for one loss.

    ``logit`` is what the optimal D outputs on every curve once the generator's law equals the
    data's; ``d_real`` and ``d_fake`` are the page's mean sigmoid of it (its "D accuracy");
    ``d_score`` is the tutorial's ``-d_loss``. Hinge's D loss is flat for any logit in
    ``[-1, 1]`` there, so ``logit_range`` says which outputs are all optimal (0 is the symmetric
    choice); for the other losses the range is the single point.
    """

    loss: str
    logit: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    d_score: float
    logit_range: tuple[float, float]


def equilibrium_point(loss: str) -> Equilibrium:
    """The :class:`Equilibrium` of ``loss``: the target of every readout and reference line.

    Minimax and non-saturating: D outputs logit 0, D(x) = 1/2. Least squares (targets 1 and 0
    on the logit): the optimal logit is ``p_data / (p_data + p_g) = 1/2``, so the page's
    sigmoid reads sigmoid(1/2) = 0.62, not 0.5. Hinge: any logit in [-1, 1] is optimal; 0
    gives 1/2.
    """
    logit = {"minimax": 0.0, "non_saturating": 0.0, "least_squares": 0.5, "hinge": 0.0}.get(loss)
    if logit is None:
        raise ValueError(f"unknown loss {loss!r}; one of minimax, non_saturating, "
                         "least_squares, hinge")
    both = np.full((1, 1, 1), logit)
    d_loss, g_loss = (float(v[0]) + 0.0 for v in loss_values(loss, both, both))  # no -0.0
    d = float(sigmoid(np.float64(logit)))
    low, high = (-1.0, 1.0) if loss == "hinge" else (logit, logit)
    return Equilibrium(loss, logit, d, d, d_loss, g_loss, -d_loss, (low, high))


def equilibrium(loss: str) -> tuple[float, float]:
    """``(D_loss, G_loss)`` when D cannot tell real from fake: :func:`equilibrium_point`'s."""
    point = equilibrium_point(loss)
    return point.d_loss, point.g_loss

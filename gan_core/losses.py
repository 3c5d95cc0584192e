"""GAN losses in logits form: their values and their gradients with respect to D's logits.

D's last layer outputs a logit ``l``; the tutorial's ``D(x)`` is ``sigmoid(l)``. Writing the
tutorial's ``log D`` and ``log(1 - D)`` as ``-softplus(-l)`` and ``-softplus(l)`` gives the same
values without overflow, and gradients that need one sigmoid.

Arrays are stacked: ``(members, batch, 1)``. Losses average over the batch.
"""

from __future__ import annotations

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


def equilibrium(loss: str) -> tuple[float, float]:
    """``(D_loss, G_loss)`` when D cannot tell real from fake (D(x) = 1/2 for every curve).

    Minimax and non-saturating: D outputs logit 0; LSGAN's optimal D outputs 1/2 on both;
    hinge's D outputs 0.
    """
    log2 = float(np.log(2.0))
    return {
        "minimax": (2 * log2, -log2),
        "non_saturating": (2 * log2, log2),
        "least_squares": (0.25, 0.125),
        "hinge": (2.0, 0.0),
    }[loss]

"""GAN losses in logits form: their values and their gradients with respect to D's logits.

D's last layer outputs a logit ``l``; the tutorial's ``D(x)`` is ``sigmoid(l)``. Writing the
tutorial's ``log D`` and ``log(1 - D)`` as ``-softplus(-l)`` and ``-softplus(l)`` gives the same
values without overflow, and gradients that need one sigmoid. Under the ``wasserstein`` loss
``l`` is the critic's score itself: there is no sigmoid and no probability.

``real_label`` ``s`` is D's target for real curves (one-sided label smoothing, Salimans et al.
2016): the cross-entropy's real term becomes ``s softplus(-l) + (1 - s) softplus(l)`` and least
squares' ``(l - s)^2 / 2``; hinge and wasserstein have no target and ignore it.

The gradient penalties are functions of D's input gradient ``g = d logit / d x`` per curve, as
in Mescheder et al.'s ``compute_grad2``: their values, and their derivative with respect to
``g``, which ``gan_core.gan.stabilizers`` carries back into D's weights.

Arrays are stacked: ``(members, batch, 1)``, input gradients ``(members, batch, n_points)``.
Losses and penalties average over the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * logits) + 0.5


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


SMOOTHED_LOSSES = ("minimax", "non_saturating", "least_squares")
"""Losses with a target for real curves, which ``real_label`` smooths."""
Label = float | np.ndarray
"""A real label per member: a number, or a ``(members, 1, 1)`` column."""


def _unsmoothed(real_label: Label) -> bool:
    """Is the real label 1 for every member? (A plain 1.0 is answered without numpy: this is
    on every step's path.)"""
    if isinstance(real_label, float | int | np.floating):
        return bool(real_label == 1.0)
    return bool(np.all(real_label == 1.0))


def loss_values(loss: str, real: np.ndarray, fake: np.ndarray,
                real_label: Label = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(D_loss, G_loss)`` per member, each averaged over the batch (axis 1)."""
    s = real_label
    if loss in ("minimax", "non_saturating"):
        real_term = softplus(-real) if _unsmoothed(s) else (
            s * softplus(-real) + (1 - s) * softplus(real))
        d_loss = real_term.mean(axis=(1, 2)) + softplus(fake).mean(axis=(1, 2))
        if loss == "minimax":  # G minimises log(1 - D(G(z))), as in the tutorial
            g_loss = -softplus(fake).mean(axis=(1, 2))
        else:  # G minimises -log D(G(z))
            g_loss = softplus(-fake).mean(axis=(1, 2))
    elif loss == "least_squares":
        d_loss = 0.5 * ((real - s) ** 2).mean(axis=(1, 2)) + 0.5 * (fake**2).mean(axis=(1, 2))
        g_loss = 0.5 * ((fake - 1) ** 2).mean(axis=(1, 2))
    elif loss == "hinge":
        d_loss = (np.maximum(0, 1 - real).mean(axis=(1, 2))
                  + np.maximum(0, 1 + fake).mean(axis=(1, 2)))
        g_loss = -fake.mean(axis=(1, 2))
    elif loss == "wasserstein":  # the critic maximises E critic(real) - E critic(fake)
        d_loss = fake.mean(axis=(1, 2)) - real.mean(axis=(1, 2))
        g_loss = -fake.mean(axis=(1, 2))
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return d_loss, g_loss


def logit_grads(loss: str, logits: np.ndarray, d_out: np.ndarray, g_out: np.ndarray,
                real_label: Label = 1.0) -> None:
    """Write dD_loss/dlogits into ``d_out`` (real rows first) and dG_loss/dfake-logits into
    ``g_out``. ``logits`` holds the real batch then the fake batch along axis 1."""
    batch = g_out.shape[1]
    real, fake = logits[:, :batch], logits[:, batch:]
    inv = 1.0 / batch
    smoothed = loss in SMOOTHED_LOSSES and not _unsmoothed(real_label)
    if loss in ("minimax", "non_saturating"):
        np.tanh(0.5 * logits, out=d_out)
        d_out *= 0.5 * inv
        d_out += 0.5 * inv  # sigmoid(l) / batch
        if loss == "minimax":
            np.negative(d_out[:, batch:], out=g_out)
        else:
            np.subtract(d_out[:, batch:], inv, out=g_out)
        # real rows: (sigmoid(l) - s) / batch
        d_out[:, :batch] -= np.float32(inv) * real_label if smoothed else inv
    elif loss == "least_squares":
        np.multiply(logits, inv, out=d_out)
        d_out[:, :batch] -= np.float32(inv) * real_label if smoothed else inv
        np.subtract(fake, 1.0, out=g_out)
        g_out *= inv
    elif loss == "hinge":
        np.less(real, 1.0, out=d_out[:, :batch])
        d_out[:, :batch] *= -inv
        np.greater(fake, -1.0, out=d_out[:, batch:])
        d_out[:, batch:] *= inv
        g_out.fill(-inv)
    elif loss == "wasserstein":
        d_out[:, :batch] = -inv
        d_out[:, batch:] = inv
        g_out.fill(-inv)
    else:
        raise ValueError(f"unknown loss {loss!r}")


def discriminator_loss_grads(loss: str, l_real: np.ndarray, l_fake: np.ndarray,
                             real_label: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per curve, not averaged: the derivative of D's loss term of a real curve with respect
    to its logit, and of a generated curve's term with respect to its."""
    s = real_label
    if loss in ("minimax", "non_saturating"):
        return sigmoid(l_real) - s, sigmoid(l_fake)
    if loss == "least_squares":
        return l_real - s, np.asarray(l_fake, float) * 1.0
    if loss == "hinge":
        return -1.0 * (np.asarray(l_real) < 1.0), 1.0 * (np.asarray(l_fake) > -1.0)
    if loss == "wasserstein":
        return np.full_like(l_real, -1.0, dtype=float), np.full_like(l_fake, 1.0, dtype=float)
    raise ValueError(f"unknown loss {loss!r}")


# -- gradient penalties ----------------------------------------------------------------------


def _squared_norms(input_grad: np.ndarray) -> np.ndarray:
    """``||g||^2`` per curve ``(members, batch, 1)``."""
    return np.einsum("kbn,kbn->kb", input_grad, input_grad)[..., None]


def zero_centred_penalty(input_grad: np.ndarray, gamma: Label) -> np.ndarray:
    """R1 (on real curves) or R2 (on generated ones), per member: ``gamma/2 E ||g||^2``, with
    ``g`` D's input gradient of its logit on each curve (Mescheder et al. 2018, eq. 9)."""
    return (0.5 * np.asarray(gamma) * _squared_norms(input_grad)).mean(axis=(1, 2))


def zero_centred_penalty_grad(input_grad: np.ndarray, gamma: Label,
                              batch: int | None = None) -> np.ndarray:
    """``d penalty / d g`` per curve: ``gamma g / batch`` (the batch is the curves' count
    unless given: R1 and R2 taken in one pass have a batch each)."""
    return input_grad * (np.asarray(gamma, np.float32) / (batch or input_grad.shape[1]))


def one_centred_penalty(input_grad: np.ndarray, lam: Label) -> np.ndarray:
    """WGAN-GP's penalty per member: ``lam E (||g|| - 1)^2``, on D's input gradients at
    random mixes of a real and a generated curve (Gulrajani et al. 2017)."""
    norms = np.sqrt(_squared_norms(input_grad))
    return (np.asarray(lam) * (norms - 1.0) ** 2).mean(axis=(1, 2))


def one_centred_penalty_grad(input_grad: np.ndarray, lam: Label) -> np.ndarray:
    """``d penalty / d g`` per curve: ``2 lam (||g|| - 1) g / ||g|| / batch``; 0 where ``g`` is
    0, as torch's ``norm`` takes its gradient there."""
    norms = np.sqrt(_squared_norms(input_grad))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > 0, (norms - 1.0) / norms, 0.0)
    scale *= 2.0 * np.asarray(lam) / input_grad.shape[1]
    return input_grad * scale.astype(input_grad.dtype)


def generator_loss(loss: str, logits: np.ndarray) -> np.ndarray:
    """Each generated curve's own G loss ``l_G`` from D's logit on it (G_loss is their mean).

    minimax: ``log(1 - D)``; non_saturating: ``-log D``; least_squares: ``(l - 1)^2 / 2`` on the
    logit; hinge and wasserstein: ``-l``.
    """
    if loss == "minimax":
        return -softplus(logits)
    if loss == "non_saturating":
        return softplus(-logits)
    if loss == "least_squares":
        return 0.5 * (logits - 1) ** 2
    if loss in ("hinge", "wasserstein"):
        return -logits
    raise ValueError(f"unknown loss {loss!r}; one of {', '.join(LOSS_NAMES)}")


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
    if loss in ("hinge", "wasserstein"):
        return np.full_like(logits, -1.0)
    raise ValueError(f"unknown loss {loss!r}; one of {', '.join(LOSS_NAMES)}")


@dataclass(frozen=True)
class Equilibrium:
    """What every readout settles at when D cannot tell real from fake, for one loss.

    ``logit`` is what the optimal D outputs on every curve once the generator's law equals the
    data's; ``d_real`` and ``d_fake`` are the page's mean sigmoid of it (its "D accuracy");
    ``d_score`` is the tutorial's ``-d_loss``. Hinge's D loss is flat for any logit in
    ``[-1, 1]`` there, so ``logit_range`` says which outputs are all optimal (0 is the symmetric
    choice); for the other losses the range is the single point. A wasserstein critic's loss
    does not change when a constant is added to it, so its level is free (``logit_range`` is
    the whole line, ``d_real``, ``d_fake`` and ``g_loss`` are NaN: no target); what settles is
    the gap between its means on real and generated curves, the D score, at 0.
    """

    loss: str
    logit: float
    d_real: float
    d_fake: float
    d_loss: float
    g_loss: float
    d_score: float
    logit_range: tuple[float, float]


LOSS_NAMES = ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein")


def equilibrium_point(loss: str, real_label: float = 1.0) -> Equilibrium:
    """The :class:`Equilibrium` of ``loss``: the target of every readout and reference line.

    Minimax and non-saturating: D outputs logit 0, D(x) = 1/2; with a real label ``s`` the
    optimal D is ``s p_data / (p_data + p_g)``, so ``s/2``. Least squares (targets ``s`` and 0
    on the logit): the optimal logit is ``s p_data / (p_data + p_g) = s/2``, so the page's
    sigmoid reads sigmoid(1/2) = 0.62, not 0.5. Hinge: any logit in [-1, 1] is optimal; 0
    gives 1/2. Wasserstein: see :class:`Equilibrium`.
    """
    if loss not in LOSS_NAMES:
        raise ValueError(f"unknown loss {loss!r}; one of {', '.join(LOSS_NAMES)}")
    s = real_label if loss in SMOOTHED_LOSSES else 1.0
    if loss == "wasserstein":
        nan = float("nan")
        return Equilibrium(loss, 0.0, nan, nan, 0.0, nan, 0.0, (-np.inf, np.inf))
    logit = {"minimax": math.log(s / (2 - s)), "non_saturating": math.log(s / (2 - s)),
             "least_squares": s / 2, "hinge": 0.0}[loss]
    both = np.full((1, 1, 1), logit)
    d_loss, g_loss = (float(v[0]) + 0.0 for v in loss_values(loss, both, both, s))  # no -0.0
    d = float(sigmoid(np.float64(logit)))
    low, high = (-1.0, 1.0) if loss == "hinge" else (logit, logit)
    return Equilibrium(loss, logit, d, d, d_loss, g_loss, -d_loss, (low, high))


def equilibrium(loss: str, real_label: float = 1.0) -> tuple[float, float]:
    """``(D_loss, G_loss)`` when D cannot tell real from fake: :func:`equilibrium_point`'s."""
    point = equilibrium_point(loss, real_label)
    return point.d_loss, point.g_loss

"""The push the generator receives: ``-d l_G / d x`` at each of its curves, through D.

G never sees a real curve. Everything it learns arrives through its output: for a generated curve
``x``, the gradient of its own G loss ``l_G(D(x))`` with respect to the curve's points, carried
back by the chain rule into G's weights. Drawn at each point of a curve, this is the direction
and strength in which the current D pulls that curve (GAN Lab's gradient lines). Its size tells
whether G still learns: under the tutorial's minimax loss it vanishes where D confidently
rejects a curve (``d log(1 - D) / d logit = -D -> 0``), the loss's saturation.

Computed in float64 from D's float32 weights: it is used where precision is wanted (a finite-
difference check, small differences between losses) and costs microseconds at page sizes.

In a conditional run D also reads each curve's class (its label columns, after the points): the
push on a curve is through D told the class G was asked for, and is over the curve's points
alone, as the gradient G receives in training is.
"""

from __future__ import annotations

import numpy as np

from ..gan.engine import GANStack
from ..gan.losses import generator_loss_grad


def _d_weights(stack: GANStack, member: int) -> tuple[np.ndarray, ...]:
    """D's weights as its forward pass uses them (spectrally normalised, where it is)."""
    return tuple(a.astype(np.float64) for a in stack.d_weights(member))


def _d_input(stack: GANStack, curves: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """Curves as D reads them, in float64: with their label columns in a conditional run."""
    return stack.with_labels(np.asarray(curves, np.float64), labels).astype(np.float64)


def d_logits64(stack: GANStack, curves: np.ndarray, member: int = 0,
               labels: np.ndarray | None = None) -> np.ndarray:
    """D's logits ``(n,)`` for curves ``(n, n_points)`` (told ``labels`` in a conditional run),
    in float64."""
    w1, b1, w2, b2 = _d_weights(stack, member)
    hidden = np.maximum(_d_input(stack, curves, labels) @ w1 + b1, 0.0)
    return (hidden @ w2 + b2)[:, 0]


def curve_forces(stack: GANStack, curves: np.ndarray, loss: str,
                 member: int = 0, labels: np.ndarray | None = None) -> np.ndarray:
    """``-d l_G / d x`` ``(n, n_points)`` at each curve ``x`` of ``curves``, under ``loss`` (in
    a conditional run through D told ``labels``, the classes G was asked for).

    Per curve, without the ``1/batch`` of the batch mean: a training step's
    ``GANStack.fake_grad`` (``d G_loss / d x``) is ``-forces / batch`` for the same curves and
    weights. Through D (``in -> hidden -> ReLU -> logit``):
    ``d l_G / d x = l_G'(logit) * W1 @ (relu'(h) * w2)``, with ``W1``'s rows of the points.
    """
    curves = np.asarray(curves, np.float64)
    if curves.ndim != 2 or curves.shape[1] != stack.config.n_points:
        raise ValueError(f"curves have shape {curves.shape}; expected (n, "
                         f"{stack.config.n_points})")
    w1, b1, w2, b2 = _d_weights(stack, member)
    pre = _d_input(stack, curves, labels) @ w1 + b1  # (n, hidden)
    logits = np.maximum(pre, 0.0) @ w2 + b2  # (n, 1)
    dl = generator_loss_grad(loss, logits)  # (n, 1): d l_G / d logit
    hidden_grad = dl * (pre > 0) * w2[:, 0]  # (n, hidden): d l_G / d pre-activation
    return -(hidden_grad @ w1[:stack.config.n_points].T)


def input_gradients(stack: GANStack, curves: np.ndarray, member: int = 0,
                    labels: np.ndarray | None = None) -> np.ndarray:
    """D's input gradient of its logit ``d logit / d x`` ``(n, n_points)`` at each curve (over
    its points; told ``labels`` in a conditional run), float64: what R1 and R2 penalise, and
    what WGAN-GP holds near length 1."""
    w1, b1, w2, _ = _d_weights(stack, member)
    pre = _d_input(stack, curves, labels) @ w1 + b1
    return ((pre > 0) * w2[:, 0]) @ w1[:stack.config.n_points].T


def force_size(forces: np.ndarray) -> np.ndarray:
    """The length (L2 norm over a curve's points) of each curve's force ``(n,)``."""
    return np.sqrt(np.einsum("ij,ij->i", forces, forces))

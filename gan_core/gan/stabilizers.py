"""The backward passes the stabilizers need, written out: D's input gradient and its second
derivatives, and spectral normalisation's power iteration and Jacobian.

D is ``x -> h = relu(x W1 + b1) -> l = h w2 + b2`` (the engine's layout: ``W1`` is
``(n_in, hidden)``, ``w2`` is ``(hidden, 1)``). Its input gradient on a curve is

    g = d l / d x = W1 (m * w2),    m = 1[x W1 + b1 > 0]

linear in ``W1`` and ``w2`` once the ReLU's pattern ``m`` is fixed, and independent of the biases.
ReLU's second derivative is zero wherever it exists, which is what torch's autograd takes too
(``create_graph=True`` through ``threshold_backward``), so a penalty ``P(g)`` with
``R = dP/dg`` per curve has, summed over the curves,

    dP/dW1 = R^T A,    dP/dw2 = sum over curves of m * (R W1),    dP/db1 = dP/db2 = 0,

with ``A = m * w2^T`` the rows of :func:`input_gradient`. The penalties' own formulas ``P`` and
``R`` are in :mod:`gan_core.gan.losses`.

Spectral normalisation (Miyato et al. 2018) replaces a weight ``W`` (torch's ``(out, in)``, the
transpose of the engine's) by ``W / sigma``, ``sigma = u^T W v``, where ``u`` and ``v`` come from
one step of the power iteration per forward pass in training, as
``torch.nn.utils.parametrizations.spectral_norm`` does: ``u <- normalize(W v)``,
``v <- normalize(W^T u)``. ``u`` and ``v`` are constants to the gradient, so for
``G = dL / d(W / sigma)``

    dL/dW = (G - <G, W / sigma> u v^T) / sigma.

All arrays are stacked over members along their first axis; every member's arithmetic is its
own, so a member of a grid computes what a single run computes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SN_EPS = 1e-12
"""``F.normalize``'s floor on a norm, as torch's spectral_norm uses it."""
SN_START_ITERATIONS = 15
"""Power iterations when normalisation starts, as torch's spectral_norm does at registration."""


def noise_scale(sigma: np.ndarray, anneal_steps: np.ndarray, step: int) -> np.ndarray:
    """Instance noise's standard deviation at ``step`` per member: ``sigma`` while
    ``anneal_steps`` is 0, else ``sigma * max(0, 1 - step / anneal_steps)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(anneal_steps > 0, np.maximum(0.0, 1.0 - step / anneal_steps), 1.0)
    return sigma * left


# -- D's input gradient and its second derivatives -----------------------------------------------


def input_gradient(mask: np.ndarray, w1: np.ndarray, w2: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(A, g)``: ``A = m * w2^T`` ``(members, rows, hidden)`` and D's input gradient of its
    logit ``g = A W1^T`` ``(members, rows, n_in)``, for rows whose ReLU pattern is ``mask``."""
    a = mask * w2.transpose(0, 2, 1)
    return a, np.matmul(a, w1.transpose(0, 2, 1))


def penalty_backward(r: np.ndarray, a: np.ndarray, mask: np.ndarray, w1: np.ndarray,
                     gw1: np.ndarray, gw2: np.ndarray) -> None:
    """Add a penalty's gradient to D's weight gradients ``gw1`` ``(members, n_in, hidden)`` and
    ``gw2`` ``(members, hidden, 1)``, from ``R = dP/dg`` ``(members, rows, n_in)`` and the ``A``
    and ``mask`` of :func:`input_gradient` (see the module's docstring)."""
    gw1 += np.matmul(r.transpose(0, 2, 1), a)
    through = np.matmul(r, w1)
    through *= mask
    gw2 += through.sum(axis=1)[:, :, None]


# -- spectral normalisation -----------------------------------------------------------------------


def _normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (members, n) over their norm, at least ``SN_EPS`` (``F.normalize``)."""
    norm = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    return x / np.maximum(norm, np.float32(SN_EPS))


class SpectralNorm:
    """The power iteration's vectors of each layer of one network, for every member, and the
    layers' normalised weights.

    ``vectors`` holds, per member, each layer's ``u`` (its ``n_out``) then ``v`` (its
    ``n_in``): torch's ``_u`` and ``_v`` buffers. A member's vectors are meaningful only while
    its ``on`` flag is set; :meth:`start` sets them up from that member's weights.
    """

    def __init__(self, shapes: Sequence[tuple[int, int]], members: int) -> None:
        self.shapes = tuple(shapes)
        size = sum(n_in + n_out for n_in, n_out in self.shapes)
        self.vectors = np.zeros((members, size), np.float32)
        self.on = np.zeros(members, bool)
        self.sigma = [np.ones((members, 1, 1), np.float32) for _ in self.shapes]
        offset, self._u, self._v = 0, [], []
        for n_in, n_out in self.shapes:
            self._u.append(slice(offset, offset + n_out))
            self._v.append(slice(offset + n_out, offset + n_out + n_in))
            offset += n_in + n_out

    def u(self, layer: int) -> np.ndarray:
        return self.vectors[:, self._u[layer]]

    def v(self, layer: int) -> np.ndarray:
        return self.vectors[:, self._v[layer]]

    def start(self, k: int, weights: Sequence[np.ndarray]) -> None:
        """Switch normalisation on for member ``k``: ``v`` from the unit vector of equal
        entries, then ``SN_START_ITERATIONS`` power iterations on its weights ``(n_in, n_out)``
        (torch starts from random vectors; after these iterations both are the top singular
        vectors for any start not orthogonal to them)."""
        self.on[k] = True
        for layer, w in enumerate(weights):
            n_in = w.shape[0]
            self.vectors[k, self._v[layer]] = np.float32(1 / np.sqrt(n_in))
        for _ in range(SN_START_ITERATIONS):
            self._iterate([w[None] for w in weights], k)

    def _iterate(self, weights: Sequence[np.ndarray], k: int | slice) -> None:
        for layer, w in enumerate(weights):
            u_out, v_out = self.vectors[k, self._u[layer]], self.vectors[k, self._v[layer]]
            v = v_out.reshape(w.shape[0], 1, w.shape[1])
            u = _normalize(np.matmul(v, w)[:, 0])  # torch: normalize(W v), W = w^T
            u_out[...] = u.reshape(u_out.shape)
            v = _normalize(np.matmul(w, u[:, :, None])[:, :, 0])  # normalize(W^T u)
            v_out[...] = v.reshape(v_out.shape)

    def sigmas(self, weights: Sequence[np.ndarray], layer: int) -> np.ndarray:
        """``sigma = u^T W v`` per member ``(members, 1, 1)`` with the current vectors; 1 for a
        member that is not normalised."""
        w = weights[layer]
        uwv = np.matmul(np.matmul(self.v(layer)[:, None, :], w), self.u(layer)[:, :, None])
        return np.where(self.on[:, None, None], uwv, np.float32(1.0))

    def normalize(self, weights: Sequence[np.ndarray], out: Sequence[np.ndarray],
                  iterate: bool = True) -> None:
        """One power iteration (with ``iterate``, as a forward pass in training does), then
        each layer's ``W / sigma`` into ``out``; members that are not normalised get ``W``."""
        if iterate:
            self._iterate(weights, slice(None))
        for layer, w in enumerate(weights):
            self.sigma[layer] = self.sigmas(weights, layer)
            np.divide(w, self.sigma[layer], out=out[layer])

    def backward(self, normalized: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Turn the gradients with respect to the normalised weights, in ``grads``, into those
        with respect to the weights, in place: ``(G - <G, W / sigma> v u^T) / sigma`` in the
        engine's layout (members that are not normalised keep ``G``)."""
        members = self.on.shape[0]
        for layer, (w_sn, g) in enumerate(zip(normalized, grads, strict=True)):
            inner = (g * w_sn).reshape(members, -1).sum(axis=1)
            inner *= self.on
            outer = self.v(layer)[:, :, None] * self.u(layer)[:, None, :]
            outer *= inner.astype(np.float32)[:, None, None]
            g -= outer
            g /= self.sigma[layer]

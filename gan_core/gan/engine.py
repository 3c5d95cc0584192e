"""K independent generator/discriminator pairs, trained by hand-written backprop.

Why by hand: the networks are tiny (a few thousand weights), so autograd's and the optimizers'
per-operation overhead is most of the tutorial loop's time. Here every network's weights live in
one flat ``(members, n_weights)`` array with per-layer views, gradients are written straight into
a twin array, and Adam updates the whole flat array in a dozen vectorised operations. Weights of K
members are stacked along the first axis, so a grid of K GANs trains in one pass of stacked matrix
products, and a single trainer is just ``K = 1``.

One training step follows the fixed tutorial (``406_GAN.py``): draw a fresh real batch and fresh
noise, compute ``fake = G(z)`` and D's logits on real and fake *once*; update G from
``G_loss(D(fake))`` through the current D, and update D from ``D_loss`` on the real batch and the
same fake batch treated as a constant (detached). Because D has not changed between the two
updates, the tutorial's second D forward gives the same numbers and is skipped. With ``d_steps > 1``
that many minus one extra D-only updates, each on a fresh real batch and fresh fakes, come first.

The stabilizers (``gan_core.gan.stabilizers``) hook into that pass where they act, and only while
one is on: instance noise is drawn after the batch and added to D's inputs; spectral
normalisation runs its power iteration at each forward pass and divides D's weights before it;
the interpolates of the WGAN-GP penalty (mixing weights drawn after the noise) take a forward
pass of their own; the penalties add their second-order terms to D's gradients, and
normalisation turns those into gradients of the raw weights. With every stabilizer off a step
is the plain pass above, array for array.

A conditional run (``GANConfig.conditional``, the tutorial's ``406_conditional_GAN.py``) draws
each real curve's class with it and appends the class as label columns (``labels.py``) to G's
noise and to D's input: a row of D's input is a curve's points, then its label columns, and a
generated curve carries the label G was asked for. What G receives, and the force on a curve,
is the gradient over the points alone (``_curve_rows``): a class is given, not painted. So are
the penalties on D's input gradient, and instance noise falls on the points alone. Without
classes no label column exists and every array and operation is as it was.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import LOSSES, GANConfig
from .labels import label_columns, label_width, n_classes_of
from .losses import (
    SMOOTHED_LOSSES,
    logit_grads,
    loss_values,
    one_centred_penalty_grad,
    sigmoid,
    zero_centred_penalty_grad,
)
from .stabilizers import SpectralNorm, input_gradient, noise_scale, penalty_backward
from .targets import Target, get_target

DTYPE = np.float32
BLOW_UP = 1e6
"""Generated values or logits beyond this (or non-finite) mean training has diverged."""
GRAD_BLOW_UP = 1e15
ADAM_EPS = 1e-8


STABILIZER_FIELDS = ("r1", "r2", "gp", "spectral_norm", "instance_noise",
                     "instance_noise_steps", "real_label")
MEMBER_FIELDS = ("lr_g", "lr_d", "beta1", "beta2", "momentum", "loss", *STABILIZER_FIELDS)
"""The config fields that may differ between the members of one stack."""


@dataclass(frozen=True)
class NetState:
    """One network of one member: its flat weights and its optimizer's state.

    ``m`` is Adam's first moment (torch's ``exp_avg``) or SGD's momentum buffer; ``v`` Adam's
    second moment (``exp_avg_sq``, zeros under SGD); ``t`` the optimizer steps taken.
    ``vectors``: while the network is spectrally normalised, each layer's power-iteration
    vectors ``u`` then ``v`` (``SpectralNorm.vectors``); None otherwise.
    """

    params: np.ndarray
    m: np.ndarray
    v: np.ndarray
    t: int
    vectors: np.ndarray | None = None


@dataclass(frozen=True)
class Layer:
    weight: slice
    bias: slice
    n_in: int
    n_out: int


def mlp_layout(sizes: Sequence[int]) -> tuple[list[Layer], int]:
    """Slices of each layer's weight ``(n_in, n_out)`` and bias in a flat weight vector."""
    layers, offset = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        w = slice(offset, offset + n_in * n_out)
        b = slice(w.stop, w.stop + n_out)
        layers.append(Layer(w, b, n_in, n_out))
        offset = b.stop
    return layers, offset


class Net:
    """Stacked two-layer MLPs (``in -> hidden -> ReLU -> out``) with optimizer state."""

    def __init__(self, sizes: Sequence[int], members: int) -> None:
        self.layers, size = mlp_layout(sizes)
        self.params = np.zeros((members, size), DTYPE)
        self.grads = np.zeros_like(self.params)
        self.m = np.zeros_like(self.params)
        self.v = np.zeros_like(self.params)
        self.t = 0
        self._tmp = np.zeros_like(self.params)
        self._tmp2 = np.zeros_like(self.params)
        (self.w1, self.b1), (self.w2, self.b2) = self._views(self.params)
        (self.gw1, self.gb1), (self.gw2, self.gb2) = self._views(self.grads)
        self.spectral = SpectralNorm([(layer.n_in, layer.n_out) for layer in self.layers],
                                     members)

    def _views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        k = flat.shape[0]
        views = []
        for layer in self.layers:
            w = flat[:, layer.weight].reshape(k, layer.n_in, layer.n_out)
            b = flat[:, layer.bias].reshape(k, 1, layer.n_out)
            assert np.shares_memory(w, flat) and np.shares_memory(b, flat)
            views.append((w, b))
        return views

    def init_member(self, k: int, rng: np.random.Generator) -> None:
        """``torch.nn.Linear``'s default init: weight and bias ~ U(-1/sqrt(n_in), 1/sqrt(n_in))."""
        for layer in self.layers:
            bound = 1.0 / math.sqrt(layer.n_in)
            for part in (layer.weight, layer.bias):
                n = part.stop - part.start
                self.params[k, part] = (rng.random(n, dtype=DTYPE) * 2 - 1) * bound

    def state(self, k: int = 0) -> NetState:
        """A copy of member ``k``'s weights and optimizer state."""
        vectors = self.spectral.vectors[k].copy() if self.spectral.on[k] else None
        return NetState(self.params[k].copy(), self.m[k].copy(), self.v[k].copy(), self.t,
                        vectors)

    def load(self, state: NetState, k: int = 0) -> None:
        """Put ``state`` (checked to fit) in place of member ``k``'s."""
        pairs = [(key, getattr(state, key), getattr(self, key)[k]) for key in ("params", "m", "v")]
        if state.vectors is not None:
            pairs.append(("vectors", state.vectors, self.spectral.vectors[k]))
        for key, array, expected in pairs:
            if array.shape != expected.shape or array.dtype != expected.dtype:
                raise ValueError(f"{key} has shape {tuple(array.shape)} {array.dtype}, but "
                                 f"this network needs {tuple(expected.shape)} {expected.dtype}")
        self.params[k], self.m[k], self.v[k] = state.params, state.m, state.v
        self.t = state.t
        self.spectral.on[k] = state.vectors is not None
        if state.vectors is not None:
            self.spectral.vectors[k] = state.vectors

    def weights(self) -> list[np.ndarray]:
        """Each layer's weight ``(members, n_in, n_out)``: views into ``params``."""
        return [self.w1, self.w2]

    def weights_grads(self) -> list[np.ndarray]:
        """The gradients of :meth:`weights`: views into ``grads``."""
        return [self.gw1, self.gw2]

    def reset_optimizer(self) -> None:
        self.m.fill(0)
        self.v.fill(0)
        self.t = 0

    def adam(self, lr: np.ndarray, beta1: np.ndarray, beta2: np.ndarray) -> None:
        """``torch.optim.Adam`` (no weight decay, not amsgrad) on every member at once.

        Per-member coefficients are ``(members, 1)`` arrays; bias corrections are computed in
        float64 as torch does, then applied in float32 (mixed-dtype array ops are slower).
        """
        self.t += 1
        one_minus_b1, one_minus_b2, inv_sqrt_bc2, step_size, beta2 = _adam_coefficients(
            lr, beta1, beta2, self.t)
        g, tmp, tmp2 = self.grads, self._tmp, self._tmp2
        np.subtract(g, self.m, out=tmp)  # m <- m + (1 - b1) (g - m): torch's lerp
        tmp *= one_minus_b1
        self.m += tmp
        np.multiply(g, g, out=tmp)  # v <- b2 v + (1 - b2) g^2
        tmp *= one_minus_b2
        self.v *= beta2
        self.v += tmp
        np.sqrt(self.v, out=tmp)  # p <- p - step_size m / (sqrt(v) / sqrt(bc2) + eps)
        tmp *= inv_sqrt_bc2
        tmp += np.float32(ADAM_EPS)
        np.divide(self.m, tmp, out=tmp2)
        tmp2 *= step_size
        self.params -= tmp2

    def sgd(self, lr: np.ndarray, momentum: np.ndarray) -> None:
        """``torch.optim.SGD`` with momentum (no dampening or Nesterov); ``m`` is the buffer."""
        self.t += 1
        self.m *= momentum.astype(np.float32)
        self.m += self.grads
        np.multiply(self.m, lr.astype(np.float32), out=self._tmp)
        self.params -= self._tmp


def _adam_coefficients(lr: np.ndarray, beta1: np.ndarray, beta2: np.ndarray,
                       t: int) -> tuple[np.ndarray | np.float32, ...]:
    """``1 - b1``, ``1 - b2``, ``1 / sqrt(bias correction 2)``, the step size and ``b2``, as
    float32. One member gets plain scalars: numpy's per-call cost on ``(1, 1)`` arrays is most
    of an Adam step on these tiny networks."""
    f32 = np.float32
    if lr.shape[0] == 1:
        lr_, b1, b2 = float(lr[0, 0]), float(beta1[0, 0]), float(beta2[0, 0])
        return (f32(1 - b1), f32(1 - b2), f32(1 / math.sqrt(1 - b2**t)),
                f32(lr_ / (1 - b1**t)), f32(b2))
    if beta1.shape[0] == 1:  # betas shared by every member: scalars, as one member has them
        b1, b2 = float(beta1[0, 0]), float(beta2[0, 0])
        return (f32(1 - b1), f32(1 - b2), f32(1 / math.sqrt(1 - b2**t)),
                (lr / (1 - b1**t)).astype(f32), f32(b2))
    return ((1 - beta1).astype(f32), (1 - beta2).astype(f32),
            (1 / np.sqrt(1 - beta2**t)).astype(f32), (lr / (1 - beta1**t)).astype(f32),
            beta2.astype(f32))


def draw_batch(rng: np.random.Generator, target: Target, x: np.ndarray, batch: int,
               latent_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """One step's real curves ``(batch, n_points)`` and noise ``(batch, latent_dim)``, drawn
    from a member's training stream in this order: the order a run's batches depend on."""
    real = target.sample(rng, batch, x)
    return real, rng.standard_normal((batch, latent_dim), dtype=DTYPE)


def draw_labelled_batch(rng: np.random.Generator, target: Target, x: np.ndarray, batch: int,
                        latent_dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conditional step's real curves, their classes ``(batch,)`` and noise: the draws of
    :func:`draw_batch`, in its order, with each real curve's class read off it."""
    real, labels = target.sample_labelled(rng, batch, x)
    return real, labels, rng.standard_normal((batch, latent_dim), dtype=DTYPE)


class GANStack:
    """K GANs that share shapes, batch size, target, optimizer and ``d_steps``.

    Learning rates, betas, momentum and the loss may differ per member (``hparams``), as may
    the seed. A member whose outputs or gradients blow up is marked in ``diverged`` and frozen
    with its last finite weights; the others go on.
    """

    def __init__(self, config: GANConfig, seeds: Sequence[int],
                 hparams: dict[str, Sequence] | None = None,
                 target: Target | None = None) -> None:
        self.config = config
        self.members = len(seeds)
        self.target = get_target(config.target) if target is None else target
        """The config's family, or ``target`` given (your data's, ``targets.data_target``)."""
        self.x = self.target.grid(config.n_points)
        self.rngs = [np.random.default_rng(seed) for seed in seeds]
        self.n_classes = n_classes_of(config, self.target)
        """Classes G is asked for: 0 unless the run is conditional."""
        self.label_width = c = label_width(self.n_classes)
        """Label columns after G's noise and after D's curve (0 unless conditional)."""
        k, n, h, z = self.members, config.n_points, config.hidden, config.latent_dim
        self.g = Net((z + c, h, n), k)
        self.d = Net((n + c, h, 1), k)
        for i, rng in enumerate(self.rngs):
            self.g.init_member(i, rng)
            self.d.init_member(i, rng)
        self.diverged = np.zeros(k, bool)
        self.same_batches = False
        """Every member draws the batches member 0 draws (twins of one run, as a ghost is):
        drawn once from ``rngs[0]`` and copied; the other members' streams are not used, but
        for the noise or mixing weights of a stabilizer that member 0 does not use."""
        # D's normalised weights, used in place of its own while spectral normalisation is on
        self._w_sn = [np.zeros_like(w) for w in self.d.weights()]
        self.batch = 0  # no buffers yet: set_hparams allocates them for the batch size
        self.set_hparams(config, hparams or {})

    def set_hparams(self, config: GANConfig, hparams: dict[str, Sequence]) -> None:
        """Apply a config, and per-member values of any of ``MEMBER_FIELDS``, without touching
        weights."""
        unknown = set(hparams) - set(MEMBER_FIELDS)
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: not a per-member field; those are "
                             f"{', '.join(MEMBER_FIELDS)}")
        if config.optimizer != self.config.optimizer:
            self.g.reset_optimizer()
            self.d.reset_optimizer()
        self.config = config

        def column(name: str) -> np.ndarray:
            values = hparams.get(name, [getattr(config, name)] * self.members)
            return np.asarray(values, np.float64).reshape(self.members, 1)  # float64: bias terms

        self.lr_g, self.lr_d = column("lr_g"), column("lr_d")
        self.beta1, self.beta2, self.momentum = column("beta1"), column("beta2"), column("momentum")
        shared = (self.beta1 == self.beta1[0]).all() and (self.beta2 == self.beta2[0]).all()
        self._adam_betas = (self.beta1[:1], self.beta2[:1]) if shared else (self.beta1, self.beta2)
        losses = list(hparams.get("loss", [config.loss] * self.members))
        self.loss_groups = {name: np.array([x == name for x in losses]) for name in LOSSES
                            if name in losses}
        if len(self.loss_groups) > 1:
            self._loss_mask = {name: m.reshape(-1, 1, 1) for name, m in self.loss_groups.items()}
        if config.batch_size != self.batch:
            self._alloc(config.batch_size)
        self._set_stabilizers(column, hparams)

    def _set_stabilizers(self, column: Callable[[str], np.ndarray],
                         hparams: dict[str, Sequence]) -> None:
        """Each stabilizer's per-member strength, and what a step must do for them: nothing
        at all while every one is off."""
        k, b, f32 = self.members, self.batch, np.float32
        label = column("real_label").astype(f32)  # float32, as a per-member column computes
        self._real_label = (label[0, 0] if (label == label[0, 0]).all()  # one number: cheaper
                            else label.reshape(k, 1, 1))
        r1, r2 = column("r1")[:, 0], column("r2")[:, 0]
        self._penalized_rows: slice | None = None  # rows of D's pass that R1 and R2 penalise
        if r1.any() or r2.any():
            rows = slice(0 if r1.any() else b, 2 * b if r2.any() else b)
            gamma = np.concatenate([np.repeat(r1[:, None], b, 1), np.repeat(r2[:, None], b, 1)],
                                   axis=1)[:, rows, None]
            self._penalized_rows, self._gamma = rows, gamma.astype(f32)
        gp = column("gp")
        self._gp = gp.reshape(k, 1, 1).astype(f32) if gp.any() else None
        sigma, anneal = column("instance_noise")[:, 0], column("instance_noise_steps")[:, 0]
        self._noise = (sigma, anneal) if sigma.any() else None
        wanted = np.asarray(hparams.get("spectral_norm", [self.config.spectral_norm] * k), bool)
        spectral = self.d.spectral
        for i in np.flatnonzero(wanted & ~spectral.on):  # normalisation starts: fresh vectors
            spectral.start(int(i), [w[i] for w in self.d.weights()])
        spectral.on &= wanted
        self._sn = bool(spectral.on.any())
        self._dw1, self._dw2 = self._w_sn if self._sn else self.d.weights()
        self._stabilized = bool(self._sn or self._noise is not None or self._gp is not None
                                or self._penalized_rows is not None)
        self._d_in = self.xs  # D's input: the curves, or the curves with instance noise

    def _alloc(self, batch: int) -> None:
        """The step's working arrays for ``batch``: allocated once, written in place."""
        self.batch = batch
        k, n, h, z = self.members, self.config.n_points, self.config.hidden, self.config.latent_dim
        c = self.label_width
        zeros = lambda *shape: np.zeros(shape, DTYPE)  # noqa: E731
        self.z = zeros(k, batch, z + c)  # G's input noise (then a conditional run's labels)
        self.xs = zeros(k, 2 * batch, n + c)  # D's input: the real batch, then G's curves
        self._fake = self.xs[:, batch:, :n]  # G's curves, written in place by the forward pass
        self.g_hidden = zeros(k, batch, h)  # G's hidden layer after ReLU
        self.d_hidden = zeros(k, 2 * batch, h)  # D's hidden layer after ReLU, real then fake
        self.logits = zeros(k, 2 * batch, 1)  # D's output before the sigmoid
        self.d_logit_grad = zeros(k, 2 * batch, 1)  # dD_loss / dlogits
        self.g_logit_grad = zeros(k, batch, 1)  # dG_loss / dlogits of the fake rows
        self.d_hidden_grad = zeros(k, 2 * batch, h)  # dD_loss / D's hidden pre-activation
        self.fake_hidden_grad = zeros(k, batch, h)  # dG_loss / D's hidden, fake rows
        self.fake_grad = zeros(k, batch, n)  # dG_loss / G's curves: the push G receives
        self.g_hidden_grad = zeros(k, batch, h)  # dG_loss / G's hidden pre-activation
        self._zeros_g, self._zeros_d = zeros(k, batch, h), zeros(k, 2 * batch, h)
        # Bias gradients are column sums, taken as a product with a row of ones: faster than
        # np.sum over the batch axis, a strided reduction (benchmarks/speed.py).
        self._ones_b = np.ones((k, 1, batch), DTYPE)
        self._ones_2b = np.ones((k, 1, 2 * batch), DTYPE)
        self._mask_g = np.zeros((k, batch, h), bool)
        self._mask_d = np.zeros((k, 2 * batch, h), bool)
        # The stabilizers' draws: instance noise for D's inputs (on the points alone; a
        # conditional run's label columns stay 0), WGAN-GP's mixing weights.
        self._noise_draw, self._noisy = zeros(k, 2 * batch, n + c), zeros(k, 2 * batch, n + c)
        self._sigma_t = np.zeros((k, 1, 1), DTYPE)
        self._mix = zeros(k, batch, 1)

    @staticmethod
    def bytes_per_member(config: GANConfig, target: Target | None = None) -> int:
        """Bytes of arrays a stack holds per member of ``config``'s sizes: each network's
        weights, gradients, moments and scratch (six arrays of its size) and the step's working
        arrays (``_alloc``, the stabilizers' draws included). What a grid of many members
        costs in memory. ``target``: your data's, whose labels set a conditional run's
        classes."""
        b, z, h, n = config.batch_size, config.latent_dim, config.hidden, config.n_points
        c = label_width(n_classes_of(config, target))
        weights = mlp_layout((z + c, h, n))[1] + mlp_layout((n + c, h, 1))[1]
        z, n = z + c, n + c  # the inputs and D's input rows carry the label columns
        floats = (6 * weights + b * z + 2 * b * n + b * h + 2 * b * h + 2 * b + 2 * b + b
                  + 2 * b * h + b * h + b * n + b * h + b * h + 2 * b * h + b + 2 * b
                  + 3 * 2 * b * n + 1 + b)  # D's inputs, instance noise and WGAN-GP's mixing
        masks = b * h + 2 * b * h
        return 4 * floats + masks

    # -- one step --------------------------------------------------------------------------

    def _draw(self, step: int = 0) -> None:
        if self.label_width:
            self._draw_labelled()
            if self._stabilized:
                self._draw_stabilizers(step)
            return
        b = self.batch
        if self.same_batches:
            self.xs[0, :b], self.z[0] = draw_batch(self.rngs[0], self.target, self.x, b,
                                                   self.config.latent_dim)
            self.xs[1:, :b] = self.xs[0, :b]
            self.z[1:] = self.z[0]
        else:
            for i, rng in enumerate(self.rngs):
                self.xs[i, :b], self.z[i] = draw_batch(rng, self.target, self.x, b,
                                                       self.config.latent_dim)
        if self._stabilized:
            self._draw_stabilizers(step)

    def _draw_stabilizers(self, step: int) -> None:
        """After each member's batch, from its stream: instance noise ``(2 batch, n_points)``
        (real rows, then generated) while its scale at ``step`` is above 0, then WGAN-GP's
        mixing weights ``(batch, 1)`` while ``gp`` is on. Twins share member 0's draws; one
        that needs a draw member 0 does not make takes it from its own stream."""
        b, n = self.batch, self.config.n_points
        self._d_in = self.xs
        noisy = np.zeros(self.members, bool)
        if self._noise is not None:
            scale = noise_scale(*self._noise, step)
            self._sigma_t[:, 0, 0] = scale
            noisy = scale > 0
            if noisy.any():
                self._d_in = self._noisy
        mixed = self._gp[:, 0, 0] > 0 if self._gp is not None else np.zeros(self.members, bool)
        for i, rng in enumerate(self.rngs):
            shared = self.same_batches and i > 0
            if noisy[i] and not (shared and noisy[0]):
                self._noise_draw[i, :, :n] = rng.standard_normal((2 * b, n), dtype=DTYPE)
            if shared and noisy[0]:
                self._noise_draw[i] = self._noise_draw[0]
            if mixed[i] and not (shared and mixed[0]):
                self._mix[i] = rng.random((b, 1), dtype=DTYPE)
            if shared and mixed[0]:
                self._mix[i] = self._mix[0]

    def _draw_labelled(self) -> None:
        """A conditional step's draws: each real curve's label columns go beside it and beside
        the curve G paints in its row, and after G's noise."""
        b, n, z = self.batch, self.config.n_points, self.config.latent_dim
        for i, rng in enumerate(self.rngs[:1] if self.same_batches else self.rngs):
            real, labels, noise = draw_labelled_batch(rng, self.target, self.x, b, z)
            columns = label_columns(labels, self.n_classes)
            self.xs[i, :b, :n], self.xs[i, :b, n:], self.xs[i, b:, n:] = real, columns, columns
            self.z[i, :, :z], self.z[i, :, z:] = noise, columns
        if self.same_batches:
            self.xs[1:, :b] = self.xs[0, :b]
            self.xs[1:, b:, n:] = self.xs[0, b:, n:]
            self.z[1:] = self.z[0]

    def _forward(self) -> None:
        g, d = self.g, self.d
        np.matmul(self.z, g.w1, out=self.g_hidden)
        self.g_hidden += g.b1
        # ReLU against a same-shape zero array: faster than broadcasting a scalar 0.
        np.maximum(self.g_hidden, self._zeros_g, out=self.g_hidden)
        fake = self._fake
        np.matmul(self.g_hidden, g.w2, out=fake)
        fake += g.b2
        if self._stabilized:
            self._stabilize_forward()
        np.matmul(self._d_in, self._dw1, out=self.d_hidden)
        self.d_hidden += d.b1
        np.maximum(self.d_hidden, self._zeros_d, out=self.d_hidden)
        np.greater(self.d_hidden, self._zeros_d, out=self._mask_d)  # both backward passes use it
        np.matmul(self.d_hidden, self._dw2, out=self.logits)
        self.logits += d.b2
        if self._gp is not None:
            self._interpolate()

    def _stabilize_forward(self) -> None:
        """Before D's pass: its weights normalised (one power iteration), its inputs noised."""
        if self._sn:
            self.d.spectral.normalize(self.d.weights(), self._w_sn)
        if self._d_in is self._noisy:  # x + sigma_t * noise, members without noise get x
            np.multiply(self._noise_draw, self._sigma_t, out=self._noisy)
            self._noisy += self.xs

    def _interpolate(self) -> None:
        """WGAN-GP's interpolates ``x_hat = e x_real + (1 - e) x_fake`` of D's inputs, and the
        ReLU pattern of D's pass on them: all its input gradient needs."""
        b, x = self.batch, self._d_in
        mixed = self._mix * x[:, :b] + (1 - self._mix) * x[:, b:]
        pre = np.matmul(mixed, self._dw1)
        pre += self.d.b1
        self._mask_mixed = pre > 0

    def _logit_grads(self) -> None:
        if len(self.loss_groups) == 1:
            logit_grads(next(iter(self.loss_groups)), self.logits, self.d_logit_grad,
                        self.g_logit_grad, self._real_label)
            return
        d_grad, g_grad = np.empty_like(self.d_logit_grad), np.empty_like(self.g_logit_grad)
        for name, mask in self._loss_mask.items():  # members with different losses
            logit_grads(name, self.logits, d_grad, g_grad, self._real_label)
            np.copyto(self.d_logit_grad, d_grad, where=mask)
            np.copyto(self.g_logit_grad, g_grad, where=mask)

    def _d_backward(self) -> None:
        d = self.d
        np.matmul(self.d_hidden.transpose(0, 2, 1), self.d_logit_grad, out=d.gw2)
        np.matmul(self._ones_2b, self.d_logit_grad, out=d.gb2)
        np.multiply(self.d_logit_grad, self._dw2.transpose(0, 2, 1), out=self.d_hidden_grad)
        self.d_hidden_grad *= self._mask_d
        np.matmul(self._d_in.transpose(0, 2, 1), self.d_hidden_grad, out=d.gw1)
        np.matmul(self._ones_2b, self.d_hidden_grad, out=d.gb1)
        if self._stabilized:
            self._stabilize_backward()

    def _stabilize_backward(self) -> None:
        """The penalties' second-order terms added to D's gradients, then (with spectral
        normalisation) the gradients of the normalised weights turned into the weights'."""
        d, w1, w2 = self.d, self._curve_rows(self._dw1), self._dw2
        gw1 = self._curve_rows(d.gw1)  # a view: the penalties add to the points' rows alone
        rows = self._penalized_rows
        if rows is not None:  # R1 on the real rows, R2 on the generated ones
            mask = self._mask_d[:, rows]
            a, grad = input_gradient(mask, w1, w2)
            penalty_backward(zero_centred_penalty_grad(grad, self._gamma, self.batch), a, mask,
                             w1, gw1, d.gw2)
        if self._gp is not None:
            a, grad = input_gradient(self._mask_mixed, w1, w2)
            penalty_backward(one_centred_penalty_grad(grad, self._gp), a, self._mask_mixed, w1,
                             gw1, d.gw2)
        if self._sn:
            d.spectral.backward(self._w_sn, d.weights_grads())

    def _curve_rows(self, w1: np.ndarray) -> np.ndarray:
        """D's first-layer rows that read a curve's points (all of them without classes): the
        gradient G receives, and the penalties' input gradient, are over them."""
        return w1[:, :self.config.n_points] if self.label_width else w1

    def _g_backward(self) -> None:
        g, b = self.g, self.batch
        np.multiply(self.g_logit_grad, self._dw2.transpose(0, 2, 1), out=self.fake_hidden_grad)
        self.fake_hidden_grad *= self._mask_d[:, b:]
        np.matmul(self.fake_hidden_grad, self._curve_rows(self._dw1).transpose(0, 2, 1),
                  out=self.fake_grad)
        np.matmul(self.g_hidden.transpose(0, 2, 1), self.fake_grad, out=g.gw2)
        np.matmul(self._ones_b, self.fake_grad, out=g.gb2)
        np.matmul(self.fake_grad, g.w2.transpose(0, 2, 1), out=self.g_hidden_grad)
        np.greater(self.g_hidden, self._zeros_g, out=self._mask_g)
        self.g_hidden_grad *= self._mask_g
        np.matmul(self.z.transpose(0, 2, 1), self.g_hidden_grad, out=g.gw1)
        np.matmul(self._ones_b, self.g_hidden_grad, out=g.gb1)

    def _blown_up(self, *arrays: np.ndarray, limit: float) -> np.ndarray:
        """Per member: is the norm of the arrays non-finite or beyond ``limit``?

        One sum of squares per array is the cheapest check that catches NaN, infinity and any
        single value beyond ``limit`` (NaN fails every comparison, hence the ``not``). A few
        members take one ``vdot`` each, cheaper than an ``einsum`` over them.
        """
        total = np.zeros(self.members)
        for a in arrays:
            flat = a.reshape(self.members, -1)
            if self.members <= 2:
                for k in range(self.members):
                    total[k] += np.vdot(flat[k], flat[k])
            else:
                total += np.einsum("kn,kn->k", flat, flat)
        return ~(total <= limit * limit)

    def _update(self, net: Net, lr: np.ndarray, frozen: np.ndarray) -> None:
        if frozen.any():
            net.grads[frozen] = 0
            lr = np.where(frozen[:, None], 0.0, lr)
        if self.config.optimizer == "adam":
            net.adam(lr, *self._adam_betas)
        else:
            net.sgd(lr, self.momentum)

    def d_update(self, step: int = 0) -> None:
        """One update of D alone, on a fresh batch drawn as a step draws it; G is untouched.
        A training step with ``d_steps = k`` starts with k - 1 of these. ``step``: the steps
        completed before it (the instance noise's anneal reads it)."""
        self._update_alone(self.d, self.lr_d, self._d_backward, step)

    def g_update(self, step: int = 0) -> None:
        """One update of G alone through the current D, on a fresh batch drawn as a step draws
        it (its real curves go unused); D and its optimizer are untouched."""
        self._update_alone(self.g, self.lr_g, self._g_backward, step)

    def _update_alone(self, net: Net, lr: np.ndarray, backward: Callable[[], None],
                      step: int) -> None:
        with np.errstate(all="ignore"):
            self._draw(step)
            self._forward()
            self._logit_grads()
            backward()
            frozen = self.diverged | self._blown_up(self.xs, self.logits, limit=BLOW_UP)
            frozen |= self._blown_up(net.grads, limit=GRAD_BLOW_UP)
            self.diverged |= frozen
            self._update(net, lr, frozen)

    def train_step(self, record: bool = False, step: int = 0) -> np.ndarray | None:
        """One training iteration of every live member; ``step`` is the steps completed
        before it (the instance noise's anneal reads it).

        With ``record`` returns ``(members, 5)``: D_loss, G_loss, mean D(real), mean D(fake) on
        this step's batch, before its update, and the mean force G received (``force_sizes``):
        the columns of ``History.TRAIN_COLUMNS``. D_loss is the loss's own, without a penalty;
        under the wasserstein loss the means are the critic's scores, not probabilities.
        """
        with np.errstate(all="ignore"):
            for _ in range(self.config.d_steps - 1):
                self.d_update(step)
            self._draw(step)
            self._forward()
            self._logit_grads()
            self._d_backward()
            self._g_backward()
            frozen = self.diverged | self._blown_up(self.xs, self.logits, limit=BLOW_UP)
            frozen |= self._blown_up(self.d.grads, self.g.grads, limit=GRAD_BLOW_UP)
            self.diverged |= frozen
            self._update(self.g, self.lr_g, frozen)
            self._update(self.d, self.lr_d, frozen)
            return self.step_stats() if record else None

    def force_sizes(self) -> np.ndarray:
        """Per member, float64: the mean over this step's generated curves of the length (L2
        norm over the points) of the force G received, ``|d l_G / d x|`` per curve. That is
        ``fake_grad`` times the batch size, which undoes the batch mean, so it reads the same
        at any batch size."""
        grad = self.fake_grad.astype(np.float64)
        return np.sqrt(np.einsum("kbn,kbn->kb", grad, grad)).mean(axis=1) * self.batch

    def step_stats(self) -> np.ndarray:
        b = self.batch
        real, fake = self.logits[:, :b], self.logits[:, b:]
        stats = np.zeros((self.members, 5))
        for name, mask in self.loss_groups.items():
            d_loss, g_loss = loss_values(name, real, fake, self._real_label
                                         if name in SMOOTHED_LOSSES else 1.0)
            stats[mask, 0], stats[mask, 1] = d_loss[mask], g_loss[mask]
        stats[:, 2] = sigmoid(real).mean(axis=(1, 2))
        stats[:, 3] = sigmoid(fake).mean(axis=(1, 2))
        critics = self.loss_groups.get("wasserstein")
        if critics is not None:  # a critic's scores are no probabilities: their means
            stats[critics, 2] = real[critics].mean(axis=(1, 2))
            stats[critics, 3] = fake[critics].mean(axis=(1, 2))
        stats[:, 4] = self.force_sizes()
        return stats

    # -- inference ---------------------------------------------------------------------------

    def generate(self, z: np.ndarray, member: int = 0,
                 labels: np.ndarray | None = None) -> np.ndarray:
        """G's curves ``(n, n_points)`` for latent vectors ``z`` ``(n, latent_dim)`` and, in a
        conditional run, the classes asked for (``labels``, as ``labels.label_columns`` takes
        them: classes, or with two classes any label from 0 to 1)."""
        g = self.g
        inputs = self.with_labels(np.asarray(z, DTYPE), labels)
        h = np.maximum(inputs @ g.w1[member] + g.b1[member], 0)
        return h @ g.w2[member] + g.b2[member]

    def d_weights(self, member: int = 0) -> tuple[np.ndarray, ...]:
        """D's ``(w1, b1, w2, b2)`` as its forward pass uses them: spectrally normalised with
        the current vectors (no power iteration: torch's spectral_norm in eval mode) while
        normalisation is on."""
        d = self.d
        w1, w2 = d.w1[member], d.w2[member]
        if d.spectral.on[member]:
            w1, w2 = w1 / self._sigma_of(member, 0), w2 / self._sigma_of(member, 1)
        return w1, d.b1[member], w2, d.b2[member]

    def _sigma_of(self, member: int, layer: int) -> np.float32:
        """``u^T W v`` of one layer of D with its current vectors."""
        spectral, w = self.d.spectral, self.d.weights()[layer][member]
        return (spectral.v(layer)[member] @ w) @ spectral.u(layer)[member]

    def discriminate(self, curves: np.ndarray, member: int = 0,
                     labels: np.ndarray | None = None) -> np.ndarray:
        """D's logits ``(n,)`` for curves ``(n, n_points)`` (a critic's scores under the
        wasserstein loss) and, in a conditional run, the class D is told each curve is of."""
        w1, b1, w2, b2 = self.d_weights(member)
        inputs = self.with_labels(np.asarray(curves, DTYPE), labels)
        h = np.maximum(inputs @ w1 + b1, 0)
        return (h @ w2 + b2)[:, 0]

    def with_labels(self, rows: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        """``rows`` (noise or curves) as G or D reads them: with the label columns of
        ``labels`` after them in a conditional run, as they are otherwise. Raises
        ``ValueError`` for labels a run without classes is given, or a conditional run
        lacks."""
        if not self.label_width:
            if labels is not None:
                raise ValueError("labels: this run is not conditional; its G and D read no "
                                 "class")
            return rows
        if labels is None:
            raise ValueError("labels: a conditional run's G and D read each curve's class; "
                             "give one per row")
        columns = label_columns(labels, self.n_classes)
        if rows.ndim != 2 or len(columns) != len(rows):
            raise ValueError(f"labels: {len(columns)} for {len(rows)} rows")
        return np.concatenate([rows, columns], axis=1)

"""The Dirac-GAN (Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually
Converge?", ICML 2018): the smallest GAN that shows why GAN training circles, and what each
stabilizer does about it.

The real data are a single point at 0. G is a point too, at ``theta``; D is a line through the
origin, ``logit(x) = psi * x`` (a real-ness score, as the lab's D: the paper's ``psi`` is this
one's negative). The only equilibrium is ``theta = psi = 0``: G on the data, D undecided. Away
from it the two players' gradients turn around it (G moves towards where D says "real", D tilts
to tell G's point from the data), so plain gradient descent circles it, or spirals out.

Everything here follows a :class:`~gan_core.gan.config.GANConfig`: its loss (each player's
gradient through ``gan_core.gan.losses``, so the lab's definitions), its optimizer (Adam or SGD
with momentum, as ``torch.optim`` and the engine step them), its learning rates, its D steps
per G step and its stabilizers:

- R1 and R2 penalise ``gamma/2 ||d logit / dx||^2 = gamma/2 psi^2`` (the slope is ``psi`` at every
  point): they pull ``psi`` to 0, the paper's ``GAN_GradPenalty`` (its ``reg`` is ``gamma``);
- WGAN-GP's ``lambda (|psi| - 1)^2`` pulls ``|psi|`` to 1, away from the equilibrium (the paper's
  ``WGAN_GP`` with ``reg = 2 lambda`` and ``target = 1``);
- instance noise of scale ``sigma`` blurs both points: each gradient is an expectation over the
  noise, taken here by Gauss-Hermite quadrature (deterministic; the paper's notebook samples);
- spectral normalisation divides D's one weight by its largest singular value, ``|psi|``: the
  normalised slope is ``sign(psi)``, whose derivative is 0, so ``psi`` never moves and G runs
  past the data (a one-weight D is too small to show what normalisation does in a network);
- a real label ``s`` smooths D's target for the data.

A step is the lab's: ``d_steps - 1`` updates of D alone, then G's and D's. ``simultaneous``
updates take both gradients at the same point, as the lab does (G and D learn from one forward
pass); ``alternating`` updates D after G has moved, as GAN_stability's ``trajectory_altgd``.

    >>> from gan_core import GANConfig
    >>> from gan_core.dirac import trajectory
    >>> run = trajectory(GANConfig(optimizer="sgd", momentum=0.0, lr_g=0.2, lr_d=0.2), steps=500)
    >>> run.verdict
    'spirals out'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from .config import GANConfig
from .engine import ADAM_EPS
from .losses import SMOOTHED_LOSSES

Updates = Literal["simultaneous", "alternating"]
UPDATES: tuple[Updates, ...] = ("simultaneous", "alternating")
START = (1.0, 1.0)
"""The paper's start, ``theta = psi = 1`` (in the paper's sign of ``psi``, ``(1, -1)``)."""
QUADRATURE_NODES = 16
"""Gauss-Hermite nodes per expectation over instance noise: exact for polynomials of degree 31,
within 1e-6 of the expectation for the smooth losses at every noise scale the lab offers (up
to 1); hinge's derivative is a step, which quadrature smears: a few percent at scale 1."""
CONVERGED = 0.05
"""A trajectory converges when it ends within this share of its start's distance from the
equilibrium."""
GROWN = 1.1
"""...spirals out when it ends beyond this multiple of it..."""
SETTINGS = ("loss", "optimizer", "lr_g", "lr_d", "beta1", "beta2", "momentum", "d_steps", "r1",
            "r2", "gp", "spectral_norm", "instance_noise", "instance_noise_steps", "real_label")
"""The settings the Dirac-GAN follows: all but the batch, the networks' sizes, the target and
the seed, which it has none of."""


@dataclass(frozen=True)
class Trajectory:
    """Where ``theta`` (G's point) and ``psi`` (D's slope) were after each step, the start
    first."""

    theta: np.ndarray
    psi: np.ndarray
    updates: Updates

    @property
    def steps(self) -> int:
        return len(self.theta) - 1

    @property
    def distance(self) -> np.ndarray:
        """Distance from the equilibrium ``(0, 0)`` after each step."""
        return np.hypot(self.theta, self.psi)

    @property
    def turns(self) -> float:
        """How many times the trajectory went round the equilibrium."""
        angle = np.unwrap(np.arctan2(self.psi, self.theta))
        return float(abs(angle[-1] - angle[0]) / (2 * np.pi)) if len(angle) > 1 else 0.0

    @property
    def verdict(self) -> str:
        """``converges``, ``spirals out``, ``circles`` (its distance kept within a tenth after
        a full turn), ``spirals in`` (closer, not yet there), ``runs off`` (farther, without
        turning: half a turn or less, or blew up), ``too slow to tell`` (under a turn, its
        distance within a tenth)."""
        r = self.distance
        if not np.isfinite(r).all():
            return "runs off"
        if r[-1] <= CONVERGED * r[0]:
            return "converges"
        if r[-1] >= GROWN * r[0]:
            return "spirals out" if self.turns > 0.5 else "runs off"
        if r[-1] <= r[0] / GROWN:
            return "spirals in"
        return "circles" if self.turns >= 1 else "too slow to tell"


# -- the players' gradients ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def _nodes(k: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Gauss-Hermite points and weights for ``E f(eps)``, ``eps ~ N(0, 1)``."""
    t, w = np.polynomial.hermite.hermgauss(k)
    return tuple((t * math.sqrt(2)).tolist()), tuple((w / math.sqrt(math.pi)).tolist())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def logit_derivatives(loss: str, real: float, fake: float,
                      real_label: float = 1.0) -> tuple[float, float, float]:
    """Per point, on plain floats (a trajectory takes tens of thousands of them, where numpy's
    per-call cost would dominate): the derivative of D's loss term of the real point with
    respect to its logit, of D's term of the generated point, and of G's loss. The same
    numbers as ``losses.discriminator_loss_grads`` and ``losses.generator_loss_grad``
    (``tests/test_dirac.py`` holds them to those)."""
    if loss in ("minimax", "non_saturating"):
        d_fake = _sigmoid(fake)
        g = -d_fake if loss == "minimax" else d_fake - 1.0
        return _sigmoid(real) - real_label, d_fake, g
    if loss == "least_squares":
        return real - real_label, fake, fake - 1.0
    if loss == "hinge":
        return -1.0 if real < 1.0 else 0.0, 1.0 if fake > -1.0 else 0.0, -1.0
    if loss == "wasserstein":
        return -1.0, 1.0, -1.0
    raise ValueError(f"unknown loss {loss!r}")


class _Game:
    """The two players' gradients under one config, at any point and step."""

    def __init__(self, config: GANConfig) -> None:
        self.config = config
        self.label = config.real_label if config.loss in SMOOTHED_LOSSES else 1.0

    def slope(self, psi: float) -> float:
        """D's slope as its forward pass uses it: ``psi``, or ``sign(psi)`` normalised."""
        if not self.config.spectral_norm:
            return psi
        return 0.0 if psi == 0 else math.copysign(1.0, psi)

    def _points(self, theta: float, step: int) -> tuple[list[float], list[float], list[float]]:
        """Where the real and the generated point are, with their quadrature weights."""
        c = self.config
        sigma = c.instance_noise
        if sigma and c.instance_noise_steps:  # engine.noise_scale, on one float
            sigma *= max(0.0, 1.0 - step / c.instance_noise_steps)
        if sigma == 0:
            return [0.0], [theta], [1.0]
        eps, weights = _nodes(QUADRATURE_NODES)
        return [sigma * e for e in eps], [theta + sigma * e for e in eps], list(weights)

    def g_grad(self, theta: float, psi: float, step: int) -> float:
        """``d L_G / d theta``: G's loss on D's logit ``psi theta`` (blurred by noise)."""
        slope, loss = self.slope(psi), self.config.loss
        _, fakes, weights = self._points(theta, step)
        grad = 0.0
        for fake, weight in zip(fakes, weights, strict=True):
            grad += weight * logit_derivatives(loss, 0.0, fake * slope)[2]
        return grad * slope

    def d_grad(self, theta: float, psi: float, step: int) -> float:
        """``d L_D / d psi``: D's loss on the real and the generated point, and its
        penalties, through spectral normalisation's Jacobian where it is on (0)."""
        c, slope = self.config, self.slope(psi)
        reals, fakes, weights = self._points(theta, step)
        grad = 0.0
        for real, fake, weight in zip(reals, fakes, weights, strict=True):
            dl_real, dl_fake, _ = logit_derivatives(c.loss, real * slope, fake * slope,
                                                    self.label)
            grad += weight * (dl_real * real + dl_fake * fake)
        grad += (c.r1 + c.r2) * slope  # gamma/2 psi^2, on the real point and on G's
        if c.gp and slope:  # at slope 0 torch's norm takes gradient 0, as the engine does
            grad += 2 * c.gp * (abs(slope) - 1.0) * math.copysign(1.0, slope)
        return 0.0 if c.spectral_norm else grad


def vector_field(config: GANConfig, theta: np.ndarray, psi: np.ndarray,
                 step: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The direction gradient descent moves each player at each point: ``(-d L_G / d theta,
    -d L_D / d psi)``, per unit learning rate (the paper's vector field). ``step`` sets the
    instance noise's anneal."""
    game = _Game(config)
    theta, psi = np.broadcast_arrays(np.asarray(theta, float), np.asarray(psi, float))
    v_theta = np.array([-game.g_grad(t, p, step) for t, p in zip(theta.flat, psi.flat,
                                                                  strict=True)])
    v_psi = np.array([-game.d_grad(t, p, step) for t, p in zip(theta.flat, psi.flat,
                                                                strict=True)])
    return v_theta.reshape(theta.shape), v_psi.reshape(theta.shape)


# -- the optimizers -------------------------------------------------------------------------------


class _Player:
    """One parameter and its optimizer, stepped as ``torch.optim`` steps a weight."""

    def __init__(self, value: float, lr: float, config: GANConfig) -> None:
        self.value, self.lr, self.config = value, lr, config
        self.m = self.v = 0.0
        self.t = 0

    def step(self, grad: float) -> None:
        c = self.config
        self.t += 1
        if c.optimizer == "sgd":  # torch: the buffer starts at the first gradient
            self.m = grad if self.t == 1 else c.momentum * self.m + grad
            self.value -= self.lr * self.m
            return
        self.m += (1 - c.beta1) * (grad - self.m)
        self.v = c.beta2 * self.v + (1 - c.beta2) * grad * grad
        step_size = self.lr / (1 - c.beta1**self.t)
        denominator = math.sqrt(self.v) / math.sqrt(1 - c.beta2**self.t) + ADAM_EPS
        self.value -= step_size * self.m / denominator


def trajectory(config: GANConfig, start: tuple[float, float] = START, steps: int = 500,
               updates: Updates = "simultaneous", first_step: int = 0) -> Trajectory:
    """``steps`` of the lab's training loop on the Dirac-GAN from ``start`` = ``(theta,
    psi)``, with ``simultaneous`` or ``alternating`` updates (see the module's docstring);
    ``first_step`` is the lab step the first one is (the noise's anneal reads it)."""
    if updates not in UPDATES:
        raise ValueError(f"updates: {updates!r} is not one of {', '.join(UPDATES)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps: {steps!r} is not a number of steps")
    game = _Game(config)
    g = _Player(float(start[0]), config.lr_g, config)
    d = _Player(float(start[1]), config.lr_d, config)
    thetas, psis = [g.value], [d.value]
    with np.errstate(all="ignore"):
        for step in range(first_step, first_step + steps):
            for _ in range(config.d_steps - 1):
                d.step(game.d_grad(g.value, d.value, step))
            g_grad = game.g_grad(g.value, d.value, step)
            d_grad = game.d_grad(g.value, d.value, step) if updates == "simultaneous" else None
            g.step(g_grad)
            d.step(d_grad if d_grad is not None else game.d_grad(g.value, d.value, step))
            thetas.append(g.value)
            psis.append(d.value)
            if not (math.isfinite(g.value) and math.isfinite(d.value)):
                break
    return Trajectory(np.array(thetas), np.array(psis), updates)


def settings_of(config: GANConfig) -> dict[str, object]:
    """The settings of ``config`` the Dirac-GAN follows (:data:`SETTINGS`)."""
    return {name: getattr(config, name) for name in SETTINGS}

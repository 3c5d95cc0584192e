"""The Dirac-GAN is the paper's, follows the lab's settings, and reproduces Figure 1's cases.

Mescheder, Geiger & Nowozin (2018) write the two-parameter GAN's vector field in their
notebook (LMescheder/GAN_stability, ``notebooks/diracgan``): with ``f'(t) = sigmoid(-t)``, the
unregularised GAN moves ``theta`` by ``-psi f'(psi theta)`` and ``psi`` by ``theta f'(psi
theta)``; the non-saturating G by ``-psi f'(-psi theta)``; a gradient penalty of weight ``reg``
adds ``-reg psi`` to ``psi``'s; WGAN-GP moves ``theta`` by ``-psi`` and ``psi`` by ``theta -
reg (|psi| - target) sign(psi)``. Their ``psi`` is the negative of the lab's (their D scores
fakeness), so the references below are theirs at ``-psi``, with ``psi``'s motion negated.
Simultaneous and alternating gradient descent are their ``trajectory_simgd`` and
``trajectory_altgd``; the lab's plain gradient descent is SGD without momentum.

A second reference is the Dirac-GAN in torch: ``theta`` a parameter, D an ``nn.Linear(1, 1,
bias=False)``, the losses on its logits, R1/R2/WGAN-GP through ``torch.autograd.grad(...,
create_graph=True)``, spectral normalisation by ``torch.nn.utils.parametrizations``, stepped
by ``torch.optim``: every loss, optimizer, D steps per G step and stabilizer of the lab.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_core import GANConfig
from gan_core.dirac import (
    START,
    UPDATES,
    Trajectory,
    logit_derivatives,
    settings_of,
    trajectory,
    vector_field,
)
from gan_core.gan.config import LOSSES
from gan_core.gan.losses import discriminator_loss_grads, generator_loss_grad

PLAIN = GANConfig(optimizer="sgd", momentum=0.0, lr_g=0.2, lr_d=0.2)
"""The notebook's setting: gradient descent with step 0.2 for both, 500 steps."""
H, STEPS = 0.2, 500


def fp(t: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(t))  # sigmoid(-t)


def paper_field(kind: str, theta: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, ...]:
    """The notebook's vector fields, in the paper's own sign of psi."""
    if kind == "gan":
        return -psi * fp(psi * theta), theta * fp(psi * theta)
    if kind == "nsgan":
        return -psi * fp(-psi * theta), theta * fp(psi * theta)
    if kind == "gradpen":  # reg 0.3
        return -psi * fp(psi * theta), theta * fp(psi * theta) - 0.3 * psi
    if kind == "wgan_gp":  # reg 0.7, target 1
        return -psi, theta - 0.7 * (np.abs(psi) - 1.0) * np.sign(psi)
    raise AssertionError(kind)


CASES = {"gan": PLAIN, "nsgan": PLAIN.replace(loss="non_saturating"),
         "gradpen": PLAIN.replace(r1=0.3), "wgan_gp": PLAIN.replace(loss="wasserstein", gp=0.35)}


def paper_trajectory(kind: str, alternating: bool) -> tuple[np.ndarray, np.ndarray]:
    """trajectory_simgd / trajectory_altgd (G first, then D), in the lab's sign of psi."""
    theta, psi = START[0], -START[1]
    thetas, psis = [theta], [psi]
    for _ in range(STEPS):
        v1, v2 = paper_field(kind, np.array(theta), np.array(psi))
        theta = theta + H * float(v1)
        if alternating:
            v2 = paper_field(kind, np.array(theta), np.array(psi))[1]
        psi = psi + H * float(v2)
        thetas.append(theta)
        psis.append(psi)
    return np.array(thetas), -np.array(psis)


@pytest.mark.parametrize("kind", list(CASES))
def test_the_vector_field_is_the_papers(kind: str) -> None:
    theta, psi = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9))
    v_theta, v_psi = vector_field(CASES[kind], theta, psi)
    ref_theta, ref_psi = paper_field(kind, theta, -psi)
    np.testing.assert_allclose(v_theta, ref_theta, atol=1e-12)
    np.testing.assert_allclose(v_psi, -ref_psi, atol=1e-12)


@pytest.mark.parametrize("updates", UPDATES)
@pytest.mark.parametrize("kind", list(CASES))
def test_plain_gradient_descent_follows_the_papers_trajectories(kind: str,
                                                                updates: str) -> None:
    run = trajectory(CASES[kind], steps=STEPS, updates=updates)
    theta, psi = paper_trajectory(kind, alternating=updates == "alternating")
    np.testing.assert_allclose(run.theta, theta, atol=1e-9)
    np.testing.assert_allclose(run.psi, psi, atol=1e-9)


def test_instance_noise_is_the_expectation_the_paper_samples() -> None:
    """The notebook averages 1,000 noise samples per call; quadrature takes the expectation
    exactly: a million samples agree to their own error."""
    sigma, theta, psi = 0.7, np.array([0.8, -0.4]), np.array([0.5, 1.3])
    v_theta, v_psi = vector_field(PLAIN.replace(instance_noise=sigma), theta, psi)
    rng = np.random.default_rng(0)
    eps_f, eps_r = rng.standard_normal((2, 1_000_000, 1))
    fake, real = theta + sigma * eps_f, sigma * eps_r
    paper_psi = -psi  # the paper's D: -psi
    ref_theta = (-paper_psi * fp(paper_psi * fake)).mean(axis=0)
    ref_psi = (fake * fp(paper_psi * fake) - real * fp(-real * paper_psi)).mean(axis=0)
    np.testing.assert_allclose(v_theta, ref_theta, atol=3e-3)
    np.testing.assert_allclose(v_psi, -ref_psi, atol=3e-3)


# -- Figure 1 --------------------------------------------------------------------------------


@pytest.mark.parametrize("updates", UPDATES)
def test_unregularised_training_never_converges(updates: str) -> None:
    """Alternating updates circle the equilibrium for ever, simultaneous ones spiral out."""
    run = trajectory(PLAIN, steps=STEPS, updates=updates)
    assert run.verdict == ("circles" if updates == "alternating" else "spirals out")
    assert run.turns > 2
    if updates == "alternating":
        assert 0.9 < run.distance[-1] / run.distance[0] < 1.1


@pytest.mark.parametrize("updates", UPDATES)
@pytest.mark.parametrize("stabilizer", [{"r1": 0.3}, {"r2": 0.3}, {"instance_noise": 0.7}],
                         ids=["R1", "R2", "instance noise"])
def test_zero_centred_penalties_and_instance_noise_converge(stabilizer: dict,
                                                            updates: str) -> None:
    run = trajectory(PLAIN.replace(**stabilizer), steps=STEPS, updates=updates)
    assert run.verdict == "converges" and run.distance[-1] < 1e-3


@pytest.mark.parametrize("d_steps", [1, 5])
@pytest.mark.parametrize("updates", UPDATES)
def test_wgan_gp_with_few_d_steps_does_not_converge(updates: str, d_steps: int) -> None:
    run = trajectory(CASES["wgan_gp"].replace(d_steps=d_steps), steps=STEPS, updates=updates)
    assert run.verdict != "converges" and run.distance[-1] > 0.5


def test_spectral_normalisation_freezes_a_one_weight_d_and_g_runs_past_the_data() -> None:
    """The normalised slope is sign(psi), whose derivative is 0: D never turns."""
    run = trajectory(PLAIN.replace(spectral_norm=True), steps=STEPS)
    assert np.all(run.psi == START[1]) and run.verdict == "runs off"
    assert np.all(np.diff(run.theta) > 0)  # pushed on by a D that says "real" to the right


# -- the lab's settings, in torch ------------------------------------------------------------


def torch_trajectory(config: GANConfig, steps: int, updates: str) -> np.ndarray:
    """The Dirac-GAN trained by torch: autograd, the penalties through create_graph,
    spectral_norm, torch.optim; returns (theta, psi) after each step."""
    torch.manual_seed(0)
    theta = nn.Parameter(torch.tensor([START[0]], dtype=torch.float64))
    d = nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        d.weight.fill_(START[1])
    if config.spectral_norm:
        spectral_norm(d)
    weight = d.parametrizations.weight.original if config.spectral_norm else d.weight
    make = ((lambda p, lr: torch.optim.Adam([p], lr=lr, betas=(config.beta1, config.beta2)))
            if config.optimizer == "adam" else
            (lambda p, lr: torch.optim.SGD([p], lr=lr, momentum=config.momentum)))
    opt_g, opt_d = make(theta, config.lr_g), make(weight, config.lr_d)
    s = config.real_label if config.loss in ("minimax", "non_saturating",
                                             "least_squares") else 1.0
    real = torch.zeros(1, 1, dtype=torch.float64)

    def d_loss(fake: torch.Tensor) -> torch.Tensor:
        x_real = real.clone().requires_grad_(True)
        x_fake = fake.detach().clone().requires_grad_(True)
        l_real, l_fake = d(x_real), d(x_fake)
        if config.loss in ("minimax", "non_saturating"):
            loss = -(s * torch.nn.functional.logsigmoid(l_real)
                     + (1 - s) * torch.nn.functional.logsigmoid(-l_real)).mean() \
                - torch.nn.functional.logsigmoid(-l_fake).mean()
        elif config.loss == "least_squares":
            loss = 0.5 * ((l_real - s) ** 2).mean() + 0.5 * (l_fake**2).mean()
        elif config.loss == "hinge":
            loss = torch.relu(1 - l_real).mean() + torch.relu(1 + l_fake).mean()
        else:
            loss = l_fake.mean() - l_real.mean()
        for gamma, x, logit in ((config.r1, x_real, l_real), (config.r2, x_fake, l_fake)):
            if gamma:
                (grad,) = torch.autograd.grad(logit.sum(), x, create_graph=True)
                loss = loss + gamma / 2 * grad.pow(2).sum(1).mean()
        if config.gp:
            mixed = (0.5 * x_real + 0.5 * x_fake).detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(d(mixed).sum(), mixed, create_graph=True)
            loss = loss + config.gp * (grad.norm(2, dim=1) - 1).pow(2).mean()
        return loss

    def g_loss() -> torch.Tensor:
        logit = d(theta.view(1, 1))
        if config.loss == "minimax":
            return torch.nn.functional.logsigmoid(-logit).mean()
        if config.loss == "non_saturating":
            return -torch.nn.functional.logsigmoid(logit).mean()
        if config.loss == "least_squares":
            return 0.5 * ((logit - 1) ** 2).mean()
        return -logit.mean()

    def d_update() -> None:
        loss = d_loss(theta.view(1, 1))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()

    out = [(START[0], START[1])]
    for _ in range(steps):
        with parametrize.cached():
            for _ in range(config.d_steps - 1):
                d_update()
        with parametrize.cached():
            g = g_loss()
            opt_g.zero_grad()
            g.backward(retain_graph=config.spectral_norm)  # D's normalised weight serves D too
            if updates == "simultaneous":
                loss = d_loss(theta.view(1, 1))
                opt_d.zero_grad()
                loss.backward()
                opt_g.step()
                opt_d.step()
            else:
                opt_g.step()
        if updates == "alternating":
            with parametrize.cached():
                d_update()
        out.append((float(theta.detach()), float(weight.detach())))
    return np.array(out)


LAB = [
    GANConfig(lr_g=1e-2, lr_d=1e-2),
    GANConfig(lr_g=1e-2, lr_d=5e-3, beta1=0.5, beta2=0.99, loss="non_saturating", d_steps=3),
    GANConfig(optimizer="sgd", momentum=0.9, lr_g=0.05, lr_d=0.1, loss="least_squares",
              real_label=0.9),
    GANConfig(optimizer="sgd", lr_g=0.05, lr_d=0.05, loss="hinge", r1=0.5, r2=0.2),
    GANConfig(lr_g=1e-2, lr_d=1e-2, loss="wasserstein", gp=1.0, d_steps=2),
    GANConfig(lr_g=1e-2, lr_d=1e-2, real_label=0.8, r1=2.0),
    GANConfig(lr_g=1e-2, lr_d=1e-2, spectral_norm=True),
]


@pytest.mark.parametrize("updates", UPDATES)
@pytest.mark.parametrize("config", LAB, ids=["adam", "nonsat-3", "lsgan-sgd-smooth",
                                             "hinge-r1-r2", "wgan-gp-2", "smooth-r1", "sn"])
def test_every_setting_of_the_lab_moves_the_dirac_gan_as_torch_does(config: GANConfig,
                                                                    updates: str) -> None:
    """To 1e-6 after 300 steps: the two sides compute the losses' derivatives in different
    float64 expressions, and a trajectory that circles carries such rounding along."""
    run = trajectory(config, steps=300, updates=updates)
    reference = torch_trajectory(config, 300, updates)
    np.testing.assert_allclose(run.theta, reference[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(run.psi, reference[:, 1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
def test_the_fast_logit_derivatives_are_the_losses_own(loss: str) -> None:
    grid = np.linspace(-4, 4, 41)
    for s in (1.0, 0.9):
        ours = np.array([logit_derivatives(loss, r, f, s) for r, f in zip(grid, grid[::-1],
                                                                           strict=True)])
        d_real, d_fake = discriminator_loss_grads(loss, grid, grid[::-1], s)
        np.testing.assert_allclose(ours[:, 0], d_real, atol=1e-12)
        np.testing.assert_allclose(ours[:, 1], d_fake, atol=1e-12)
        np.testing.assert_allclose(ours[:, 2], generator_loss_grad(loss, grid[::-1]),
                                   atol=1e-12)


def test_annealed_noise_fades_as_the_lab_anneals_it() -> None:
    """Past the anneal the field is the noiseless one; halfway it is noise of half the scale."""
    noisy = PLAIN.replace(instance_noise=0.6, instance_noise_steps=100)
    theta, psi = np.array([0.7, -1.1]), np.array([1.2, 0.4])
    np.testing.assert_allclose(vector_field(noisy, theta, psi, step=100),
                               vector_field(PLAIN, theta, psi))
    np.testing.assert_allclose(vector_field(noisy, theta, psi, step=50),
                               vector_field(PLAIN.replace(instance_noise=0.3), theta, psi))


def test_the_dirac_gan_ignores_what_it_has_none_of() -> None:
    """Batch, sizes, target and seed change nothing: there is one point and no sampling."""
    other = PLAIN.replace(batch_size=8, hidden=16, target="sine", seed=9, latent_dim=2)
    a, b = trajectory(PLAIN, steps=50), trajectory(other, steps=50)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert settings_of(other) == settings_of(PLAIN)


def test_a_verdict_reads_the_trajectory() -> None:
    def run(r: np.ndarray, turns: float) -> Trajectory:
        angle = np.linspace(0, 2 * math.pi * turns, len(r))
        return Trajectory(r * np.cos(angle), r * np.sin(angle), "simultaneous")

    assert run(np.linspace(1, 0.01, 50), 3).verdict == "converges"
    assert run(np.linspace(1, 2, 50), 3).verdict == "spirals out"
    assert run(np.linspace(1, 2, 50), 0.1).verdict == "runs off"
    assert run(np.full(50, 1.0), 3).verdict == "circles"
    assert run(np.linspace(1, 0.5, 50), 3).verdict == "spirals in"
    assert run(np.full(50, 1.0), 0.2).verdict == "too slow to tell"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="updates"):
        trajectory(PLAIN, updates="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="steps"):
        trajectory(PLAIN, steps=-1)

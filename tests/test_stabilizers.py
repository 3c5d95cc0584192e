"""The stabilizers train exactly as plain torch writes them.

The reference is written as the papers' code writes it: D's losses on its logits (one-sided label
smoothing as Salimans et al.), the penalties through ``torch.autograd.grad(...,
create_graph=True)`` as GAN_stability's ``compute_grad2`` and ``wgan_gp_reg`` (R1 on real
curves, R2 on generated ones, WGAN-GP on random mixes of the two), spectral normalisation as
``torch.nn.utils.parametrizations.spectral_norm`` with one power iteration a step
(``parametrize.cached()`` around the step, so that G's and D's updates see one normalised D, as
the engine's single forward pass does), instance noise added to D's inputs. It is fed the
engine's initial weights, power-iteration vectors and every draw of the engine's training
stream (batch, noise, mixing weights), replayed from a copy of it.

First, one step's gradients from random weights and batches, for every loss with every penalty
and every other stabilizer; then 20 steps of training, both optimizers, with the excuse of
test_fidelity for float32 rounding at a ReLU or hinge kink, and only that one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pytest
import torch
from run_state import assert_same_course
from test_fidelity import BASE, Reference, assert_agrees_on_a_seed, g_loss, linears, mlp
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_core import GANConfig, Trainer, detect_events, link_query, read_link
from gan_core.gan.config import LOSSES
from gan_core.gan.engine import DTYPE, GANStack, draw_batch
from gan_core.gan.history import History
from gan_core.gan.schedule import Change, spans_of
from gan_core.gan.stabilizers import noise_scale
from gan_core.gan.streams import DISCRIMINATOR_MAP, stream


class Draw(NamedTuple):
    """Everything one D pass of the engine draws from its training stream."""

    real: torch.Tensor
    z: torch.Tensor
    noise: torch.Tensor | None  # (2 batch, n): real rows, then generated
    mix: torch.Tensor | None  # (batch, 1)


def replay_draws(config: GANConfig, stack: GANStack, steps: int, first_step: int = 0
                 ) -> list[Draw]:
    """The draws of ``steps`` training steps, in the engine's order, from a copy of its
    stream: the batch, then instance noise while its scale is above 0, then WGAN-GP's mixing
    weights while ``gp`` is on."""
    rng = np.random.default_rng()
    rng.bit_generator.state = stack.rngs[0].bit_generator.state
    b, n = config.batch_size, config.n_points
    draws = []
    for step in range(first_step, first_step + steps):
        sigma = float(noise_scale(np.array([config.instance_noise]),
                                  np.array([config.instance_noise_steps]), step)[0])
        for _ in range(config.d_steps):
            real, z = draw_batch(rng, stack.target, stack.x, b, config.latent_dim)
            noise = rng.standard_normal((2 * b, n), dtype=DTYPE) if sigma > 0 else None
            mix = rng.random((b, 1), dtype=DTYPE) if config.gp > 0 else None
            draws.append(Draw(*(None if a is None else torch.from_numpy(a)
                                for a in (real, z, noise, mix))))
    return draws


def smoothed_d_loss(loss: str, real: torch.Tensor, fake: torch.Tensor,
                    s: float) -> torch.Tensor:
    """D's loss on its logits, with target ``s`` for real curves where the loss has one."""
    if loss in ("minimax", "non_saturating"):
        d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
        real_term = torch.log(d_real) if s == 1.0 else (
            s * torch.log(d_real) + (1 - s) * torch.log(1 - d_real))
        return -torch.mean(real_term + torch.log(1.0 - d_fake))
    if loss == "least_squares":
        return 0.5 * torch.mean((real - s) ** 2) + 0.5 * torch.mean(fake**2)
    if loss == "hinge":
        return torch.mean(torch.relu(1 - real)) + torch.mean(torch.relu(1 + fake))
    return torch.mean(fake) - torch.mean(real)  # the critic's


def input_gradient(d: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits on ``x`` and their gradient with respect to ``x``, kept in the graph."""
    x = x.detach().requires_grad_(True)
    logits = d(x)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return logits, grad


def with_spectral_norm(d: nn.Sequential, vectors: np.ndarray) -> None:
    """torch's spectral_norm on both of D's layers, its ``_u`` and ``_v`` set to the engine's
    (per layer ``u`` then ``v``)."""
    offset = 0
    for layer in linears(d):
        spectral_norm(layer)
        sn = layer.parametrizations.weight[0]
        for buffer in (sn._u, sn._v):
            buffer.copy_(torch.from_numpy(vectors[offset:offset + buffer.numel()]))
            offset += buffer.numel()


def torch_vectors(d: nn.Sequential) -> np.ndarray:
    return np.concatenate([np.concatenate([layer.parametrizations.weight[0]._u.numpy(),
                                           layer.parametrizations.weight[0]._v.numpy()])
                           for layer in linears(d)])


def flat_grads(model: nn.Sequential) -> np.ndarray:
    """Gradients of the weights themselves (a normalised layer's ``original``), engine layout."""
    out = []
    for layer in linears(model):
        weight = (layer.parametrizations.weight.original if parametrize.is_parametrized(layer)
                  else layer.weight)
        out += [weight.grad.detach().T.reshape(-1), layer.bias.grad.detach().reshape(-1)]
    return torch.cat(out).numpy()


def flat_weights(model: nn.Sequential) -> np.ndarray:
    out = []
    for layer in linears(model):
        weight = (layer.parametrizations.weight.original if parametrize.is_parametrized(layer)
                  else layer.weight)
        out += [weight.detach().T.reshape(-1), layer.bias.detach().reshape(-1)]
    return torch.cat(out).numpy()


class StabilizedReference(Reference):
    """test_fidelity's tutorial loop with every stabilizer of ``config``, in plain torch."""

    def __init__(self, config: GANConfig, g: nn.Sequential, d: nn.Sequential,
                 vectors: np.ndarray | None) -> None:
        if config.spectral_norm:
            assert vectors is not None
            with_spectral_norm(d, vectors)
        super().__init__(config, g, d)
        self.d_terms: dict[str, float] = {}

    def noised(self, real: torch.Tensor, fake: torch.Tensor, draw: Draw,
               step: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        if draw.noise is None:
            return real, fake
        sigma = float(noise_scale(np.array([c.instance_noise]),
                                  np.array([c.instance_noise_steps]), step)[0])
        b = c.batch_size
        return real + sigma * draw.noise[:b], fake + sigma * draw.noise[b:]

    def d_total(self, real_in: torch.Tensor, fake_in: torch.Tensor,
                mix: torch.Tensor | None) -> torch.Tensor:
        """D's loss with its penalties, as GAN_stability adds them."""
        c = self.config
        real_logits, real_grad = input_gradient(self.d, real_in)
        fake_logits, fake_grad = input_gradient(self.d, fake_in)
        if c.loss == "hinge":
            self._near(real_logits - 1)
            self._near(fake_logits + 1)
        total = smoothed_d_loss(c.loss, real_logits, fake_logits, c.real_label)
        if c.r1:
            total = total + c.r1 / 2 * real_grad.pow(2).sum(1).mean()
        if c.r2:
            total = total + c.r2 / 2 * fake_grad.pow(2).sum(1).mean()
        if c.gp:
            assert mix is not None
            _, mixed_grad = input_gradient(self.d, mix * real_in + (1 - mix) * fake_in)
            total = total + c.gp * (mixed_grad.norm(2, dim=1) - 1).pow(2).mean()
        return total

    def d_update(self, real_in: torch.Tensor, fake_in: torch.Tensor,
                 mix: torch.Tensor | None) -> None:
        loss = self.d_total(real_in, fake_in, mix)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()

    def stabilized_step(self, draws: Iterator[Draw], step: int) -> None:
        """One iteration at ``step``: the extra D updates, then G's and D's from one pass."""
        for _ in range(self.config.d_steps - 1):
            draw = next(draws)
            with parametrize.cached():
                fake = self.g(draw.z).detach()
                self.d_update(*self.noised(draw.real, fake, draw, step), draw.mix)
        draw = next(draws)
        with parametrize.cached():
            paintings = self.g(draw.z)
            real_in, fake_in = self.noised(draw.real, paintings, draw, step)
            loss = g_loss(self.config.loss, self.d(fake_in))
            self.opt_g.zero_grad()
            loss.backward(retain_graph=True)  # D's normalised weights serve D's update too
            self.opt_g.step()
            self.d_update(real_in, fake_in.detach(), draw.mix)


def reference_for(config: GANConfig, stack: GANStack) -> StabilizedReference:
    vectors = stack.d.spectral.vectors[0].copy() if config.spectral_norm else None
    return StabilizedReference(config, mlp(stack.g), mlp(stack.d), vectors)


# -- one step's gradients, every loss with every penalty ---------------------------------------

PENALTIES = {
    "none": {}, "r1": {"r1": 0.5}, "r2": {"r2": 2.0}, "r1+r2": {"r1": 1.0, "r2": 0.3},
    "gp": {"gp": 10.0}, "all three": {"r1": 1.0, "r2": 0.5, "gp": 5.0},
}
OTHERS = {
    "spectral_norm": {"spectral_norm": True},
    "instance_noise": {"instance_noise": 0.2},
    "annealed_noise": {"instance_noise": 0.5, "instance_noise_steps": 10},
    "real_label": {"real_label": 0.9},
    "everything": {"r1": 1.0, "r2": 0.5, "gp": 5.0, "spectral_norm": True,
                   "instance_noise": 0.1, "real_label": 0.85},
}


def one_step_gradients(config: GANConfig) -> tuple[float, float]:
    """From the engine's random initial weights, a few steps in (so that D is not at its
    initial symmetry), one step's D and G gradients against autograd's; returns the largest
    difference and the closest approach to a kink."""
    stack = GANStack(config, [config.seed])
    warm = 3
    for step in range(warm):
        stack.train_step(step=step)
    draws = replay_draws(config, stack, 1, first_step=warm)
    reference = reference_for(config, stack)
    stack.train_step(step=warm)
    reference.stabilized_step(iter(draws), warm)
    error = max(np.abs(stack.d.grads[0] - flat_grads(reference.d)).max(),
                np.abs(stack.g.grads[0] - flat_grads(reference.g)).max())
    if config.spectral_norm:  # the power iteration moved the vectors as torch's did
        error = max(error, np.abs(stack.d.spectral.vectors[0] - torch_vectors(reference.d)).max())
    return float(error), reference.kink_margin


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_with_every_penalty_has_autograds_gradients(loss: str, penalty: str) -> None:
    config = BASE.replace(loss=loss, **PENALTIES[penalty])
    assert_agrees_on_a_seed(config, one_step_gradients, tolerance=1e-5)


@pytest.mark.parametrize("stabilizer", list(OTHERS))
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_with_every_other_stabilizer_has_autograds_gradients(
        loss: str, stabilizer: str) -> None:
    config = BASE.replace(loss=loss, **OTHERS[stabilizer])
    assert_agrees_on_a_seed(config, one_step_gradients, tolerance=1e-5)


# -- twenty steps of training ----------------------------------------------------------------

STEPS = 20
RUNS = {
    "r1": {"r1": 1.0}, "r2": {"r2": 1.0}, "wgan-gp": {"loss": "wasserstein", "gp": 10.0},
    "spectral_norm": {"spectral_norm": True},
    "noise-annealed": {"instance_noise": 0.3, "instance_noise_steps": 15},
    "real_label": {"real_label": 0.9, "loss": "non_saturating"},
    "everything": {"r1": 1.0, "r2": 0.3, "gp": 2.0, "spectral_norm": True,
                   "instance_noise": 0.1, "real_label": 0.9, "loss": "least_squares"},
}


def free_run(config: GANConfig) -> tuple[float, float]:
    stack = GANStack(config, [config.seed])
    draws = iter(replay_draws(config, stack, STEPS))
    reference = reference_for(config, stack)
    start = stack.g.params[0].copy()
    for step in range(STEPS):
        stack.train_step(step=step)
        reference.stabilized_step(draws, step)
    assert next(draws, None) is None
    assert np.abs(stack.g.params[0] - start).max() > 1e-3
    error = max(np.abs(stack.g.params[0] - flat_weights(reference.g)).max(),
                np.abs(stack.d.params[0] - flat_weights(reference.d)).max())
    return float(error), reference.kink_margin


def own_parameters(model: nn.Sequential) -> list[torch.Tensor]:
    """The weights themselves (a normalised layer's ``original``) and biases, in the engine's
    order."""
    return [p for layer in linears(model) for p in (
        layer.parametrizations.weight.original if parametrize.is_parametrized(layer)
        else layer.weight, layer.bias)]


def adam_state_from(opt: torch.optim.Optimizer, model: nn.Sequential, m: np.ndarray,
                    v: np.ndarray, t: int) -> None:
    """A torch Adam given the engine's moments and step count (engine layout ``m``, ``v``)."""
    if t == 0:
        return
    offset = 0
    for p in own_parameters(model):
        n = p.numel()
        shaped = (lambda a, p=p, offset=offset, n=n:  # noqa: E731
                  torch.from_numpy(a[offset:offset + n].reshape(p.shape[::-1]).T.copy()
                                   if p.ndim == 2 else a[offset:offset + n].copy()))
        opt.state[p] = {"step": torch.tensor(float(t)), "exp_avg": shaped(m),
                        "exp_avg_sq": shaped(v)}
        offset += n


def lockstep(config: GANConfig) -> tuple[float, float]:
    """Every step starts both sides from the engine's state (weights, Adam's moments, the
    power iteration's vectors); all gradients must agree, and all updates away from exact
    gradient ties (see test_fidelity's hinge-with-Adam test: a critic's logit gradients are
    exactly +-1/batch too, so D's hidden biases have exact ties)."""
    stack = GANStack(config, [config.seed])
    draws = iter(replay_draws(config, stack, STEPS))
    single = config.replace(d_steps=1)  # the extra D updates are taken one by one
    stack.set_hparams(single, {})
    error, margin, ties, compared = 0.0, float("inf"), 0, 0

    def synced() -> StabilizedReference:
        vectors = stack.d.spectral.vectors[0].copy() if config.spectral_norm else None
        reference = StabilizedReference(single, mlp(stack.g), mlp(stack.d), vectors)
        for net, model, opt in ((stack.g, reference.g, reference.opt_g),
                                (stack.d, reference.d, reference.opt_d)):
            adam_state_from(opt, model, net.m[0], net.v[0], net.t)
        return reference

    def compare(reference: StabilizedReference, *nets: str) -> None:
        nonlocal error, margin, ties, compared
        margin = min(margin, reference.kink_margin)
        for name in nets:
            net, model = getattr(stack, name), getattr(reference, name)
            grad, ref_grad = net.grads[0], flat_grads(model)
            tiny = (np.abs(ref_grad) < 1e-6) | (np.abs(grad) < 1e-6)
            tie = tiny & ~((ref_grad == 0) & (grad == 0))
            ties, compared = ties + int(tie.sum()), compared + tie.size
            update_error = np.abs(net.params[0] - flat_weights(model))[~tie].max()
            error = max(error, float(np.abs(grad - ref_grad).max()), float(update_error))

    for step in range(STEPS):
        for _ in range(config.d_steps - 1):
            reference, draw = synced(), next(draws)
            stack.d_update(step)
            with parametrize.cached():
                fake = reference.g(draw.z).detach()
                reference.d_update(*reference.noised(draw.real, fake, draw, step), draw.mix)
            compare(reference, "d")
        reference = synced()
        stack.train_step(step=step)
        reference.stabilized_step(draws, step)
        compare(reference, "g", "d")
    assert ties < 0.02 * compared
    return error, margin


CASES = [(run, opt, d_steps) for run, opt, d_steps in itertools.product(RUNS, ("adam", "sgd"),
                                                                        (1, 3))]


@pytest.mark.parametrize(("run", "opt", "d_steps"), CASES)
def test_twenty_steps_of_each_stabilizer_end_on_autograds_weights(
        run: str, opt: str, d_steps: int) -> None:
    config = BASE.replace(optimizer=opt, d_steps=d_steps, **RUNS[run])
    if config.loss == "wasserstein" and opt == "adam":  # exact ties: compared step by step
        assert_agrees_on_a_seed(config, lockstep, tolerance=1e-5)
    else:
        assert_agrees_on_a_seed(config, free_run, tolerance=1e-5)


# -- what is off costs nothing, and the step is the plain one -----------------------------------


def test_with_every_stabilizer_off_a_step_is_the_plain_pass_bit_for_bit() -> None:
    """Switching a stabilizer on and off again leaves the stack on the plain path: the same
    weights, bit for bit, as a stack that never had one."""
    plain, toggled = GANStack(BASE, [3]), GANStack(BASE, [3])
    toggled.set_hparams(BASE.replace(r1=1.0, spectral_norm=True, instance_noise=0.1, gp=1.0),
                        {})
    toggled.set_hparams(BASE, {})
    assert not toggled._stabilized
    for step in range(10):
        plain.train_step(step=step)
        toggled.train_step(step=step)
    np.testing.assert_array_equal(plain.d.params, toggled.d.params)
    np.testing.assert_array_equal(plain.g.params, toggled.g.params)
    assert plain.rngs[0].bit_generator.state == toggled.rngs[0].bit_generator.state


def test_noise_annealed_to_zero_draws_nothing_more_and_trains_as_without() -> None:
    """Past its anneal the noise is gone: the stream draws what a run without noise draws."""
    noisy = GANStack(BASE.replace(instance_noise=0.5, instance_noise_steps=5), [2])
    plain = GANStack(BASE, [2])
    for stack in (noisy, plain):
        stack.rngs[0] = np.random.default_rng(9)
    for step in range(5, 12):
        noisy.train_step(step=step)
        plain.train_step(step=step)
    assert noisy.rngs[0].bit_generator.state == plain.rngs[0].bit_generator.state


def test_spectral_normalisation_bounds_each_layer_by_its_top_singular_value() -> None:
    """D's normalised layers have spectral norm 1, to the power iteration's accuracy: close
    after its start (a random 15 x 128 matrix has nearly equal top singular values, so the
    iteration is slow there), closer as one iteration a step goes on; the last layer, a row,
    exactly but for the update made since its last iteration."""
    stack = GANStack(BASE.replace(spectral_norm=True), [0])
    stack.train_step()
    w1, _, w2, _ = stack.d_weights(0)
    assert 1.0 <= np.linalg.norm(w1, 2) < 1.01
    assert np.linalg.norm(w2, 2) == pytest.approx(1.0, abs=1e-3)
    for step in range(1, 200):
        stack.train_step(step=step)
    assert 1.0 <= np.linalg.norm(stack.d_weights(0)[0], 2) < 1.002


# -- carried by schedules, links, checkpoints, ghosts and rewinds --------------------------------

LIVE_PLAN = [(40, {"r1": 1.0}), (60, {"spectral_norm": True}),
             (80, {"instance_noise": 0.2, "instance_noise_steps": 200}),
             (100, {"loss": "wasserstein", "gp": 10.0}), (120, {"real_label": 0.9}),
             (130, {"loss": "least_squares", "r2": 0.5}), (150, {"spectral_norm": False})]
"""Every stabilizer switched on live, one after the other, and some off again."""


def planned_run(steps: int = 170) -> Trainer:
    run = Trainer(BASE.replace(seed=5))
    for step, values in LIVE_PLAN:
        run.train(step - run.step)
        assert run.reconfigure(run.config.replace(**values)) == list(values)
    run.train(steps - run.step)
    return run


def test_a_run_that_switches_every_stabilizer_live_replays_bit_for_bit_from_its_schedule(
        ) -> None:
    run = planned_run()
    again = Trainer(run.start_config, schedule=run.changes)
    again.train(run.step)
    assert_same_course(again, run)


def test_a_link_holds_every_stabilizer_and_its_changes() -> None:
    run = planned_run()
    query = link_query(run.config, run.changes)
    assert {"r1", "gp", "instance_noise", "instance_noise_steps", "real_label", "r2",
            "loss"} <= set(query)
    assert "spectral_norm-true" in query["changes"]  # switched on, then off: in the schedule
    link = read_link(query)
    assert link.problems == {} and link.config == run.config and link.changes == run.changes
    replayed = Trainer(link.start, schedule=link.changes)
    replayed.train(run.step)
    assert_same_course(replayed, run)


@pytest.mark.parametrize("at", [70, 110, 170])
def test_a_checkpoint_resumes_a_stabilized_run_exactly(at: int, tmp_path) -> None:
    """With spectral normalisation on (its vectors in the file), noise still annealing, a
    critic with its penalty: the loaded run goes on as the saved one."""
    run = planned_run(at)
    run.save(tmp_path / "run.pt")
    loaded = Trainer.load(tmp_path / "run.pt")
    assert_same_course(loaded, run)
    run.train(30)
    loaded.train(30)
    assert_same_course(loaded, run)


def test_rewinding_across_stabilizer_changes_and_replaying_them_is_the_same_run() -> None:
    run = planned_run()
    straight = planned_run()
    run.rewind(50, replay=True)
    run.train(straight.step - run.step)
    assert_same_course(run, straight)


DRAWLESS = {"r1": 1.0, "r2": 0.5, "spectral_norm": True, "real_label": 0.9}
DRAWING = {"instance_noise": 0.2, "gp": 5.0}


@pytest.mark.parametrize(("name", "value"), list(DRAWLESS.items()))
def test_a_ghost_of_a_stabilizer_is_the_run_that_never_switched_it_on(name: str,
                                                                      value: object) -> None:
    run = Trainer(BASE.replace(seed=2))
    run.train(50)
    run.fork(run.config.replace(**{name: value}))
    assert run.ghost.stacked and run.ghost.kept == {name: getattr(BASE, name)}
    run.train(60)
    never = Trainer(BASE.replace(seed=2))
    never.train(110)
    assert_same_course(Trainer.from_state(run.ghost.state()), never)


@pytest.mark.parametrize(("name", "value"), [*DRAWLESS.items(), *DRAWING.items()])
def test_the_live_run_goes_on_as_without_a_ghost_whichever_stabilizer_changed(
        name: str, value: object) -> None:
    """Both ways: switched on with a ghost that keeps it off, and switched off with a ghost
    that keeps it on (its noise or mixes then drawn from a stream of its own)."""
    on = BASE.replace(seed=2, **{name: value})
    for start, new in ((BASE.replace(seed=2), on), (on, BASE.replace(seed=2))):
        run, alone = Trainer(start), Trainer(start)
        for trainer in (run, alone):
            trainer.train(50)
        run.fork(new)
        alone.reconfigure(new)
        run.train(60)
        alone.train(60)
        assert_same_course(run, alone)
        assert not np.array_equal(run.ghost.state().g.params, run.state().g.params)


# -- the views, under a critic and a smoothed label ---------------------------------------------


def test_a_critics_evaluation_reads_its_scores_gap_and_slope_and_no_jsd_off_d() -> None:
    run = Trainer(BASE.replace(loss="wasserstein", gp=10.0, seed=3))
    run.train(200)
    m = run.evaluate()
    assert m.d_score == pytest.approx(m.d_real - m.d_fake, abs=1e-6)  # means of the scores
    assert math.isnan(m.jsd_d) and 0.1 < m.slope < 10
    readouts = run.readouts()
    assert readouts.d_real == m.d_real and readouts.slope == pytest.approx(m.slope)
    curves = run.real_samples(4)
    np.testing.assert_array_equal(run.discriminate(curves), run._stack.discriminate(curves))


def test_a_critic_has_no_d_star_and_the_view_says_so_but_keeps_the_densities() -> None:
    run = Trainer(BASE.replace(loss="wasserstein", gp=10.0))
    run.train(50)
    view = run.theory(n=300)
    assert not view.d_star_applies and not view.d_reads_jsd
    assert np.isnan(view.d_optimal).all() and np.isnan(view.d_learned).all()
    assert np.isnan(view.jsd_d) and np.isfinite(view.p_g).all() and 0 <= view.jsd <= math.log(2)


def test_with_a_smoothed_label_d_star_is_scaled_and_d_does_not_read_the_jsd() -> None:
    plain, smoothed = Trainer(BASE), Trainer(BASE.replace(real_label=0.9))
    for run in (plain, smoothed):
        run.train(50)
    a, b = plain.theory(n=300), smoothed.theory(n=300)
    assert a.d_reads_jsd and not b.d_reads_jsd and b.real_label == 0.9
    finite = np.isfinite(a.d_optimal)
    assert np.nanmax(b.d_optimal) <= 0.9 + 1e-12 and np.isfinite(b.d_optimal[finite]).all()


def test_a_critics_map_is_centred_on_where_it_separates_the_curves() -> None:
    run = Trainer(BASE.replace(loss="wasserstein", gp=10.0))
    run.train(100)
    dmap = run.discriminator_map(resolution=9, n_generated=50, n_real=20)
    assert dmap.critic and np.isfinite(dmap.prob).all()
    stack, basis = run._stack, run.target.plane_basis(run.x.astype(np.float64))
    z = stream(run.config.seed, DISCRIMINATOR_MAP).standard_normal((50, 5), dtype=np.float32)
    middle = 0.5 * (stack.discriminate(dmap.real @ basis).mean()
                    + stack.discriminate(run.generate(z)).mean())
    uu, vv = np.meshgrid(dmap.u, dmap.v)
    scores = stack.discriminate(np.stack([uu.ravel(), vv.ravel()], axis=1) @ basis)
    np.testing.assert_allclose(dmap.prob.ravel(), 1 / (1 + np.exp(-(scores - middle))),
                               rtol=1e-5)


def test_the_d_output_events_skip_the_steps_a_critic_trained() -> None:
    """A D that told the curves apart for long: D overpowers G, unless those rows were a
    critic's, whose scores are no probabilities."""
    history = History()
    for step in range(4, 4001, 4):
        history.train.append(step, [0.1, 3.0, 0.95, 0.05, 0.01])
    assert [e.kind for e in detect_events(history)] == ["d_overpowers"]
    assert detect_events(history, critic_spans=[(0, 4000)]) == []
    spans = spans_of(GANConfig(), [Change(1000, {"loss": "wasserstein"}, {"loss": "minimax"}),
                                   Change(3000, {"loss": "hinge"}, {"loss": "wasserstein"})],
                     "loss", "wasserstein", 4000)
    assert spans == [(1001, 3000)]
    assert spans_of(GANConfig(loss="wasserstein"), [], "loss", "wasserstein", 50) == [(0, 50)]

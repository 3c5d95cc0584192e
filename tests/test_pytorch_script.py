"""The script a run writes out is the tutorial's training code, and it trains the run's GAN.

The script is the reference: these tests execute the generated script's own code. Executed as
a module (not as ``__main__``, so nothing trains), it builds ``G``, ``D``, ``opt_G`` and
``opt_D``; its ``train_step()`` draws through ``artist_works()`` and ``new_ideas()``, which the
tests replace with the engine's batches, replayed with ``engine.draw_batch`` from a copy of
the engine's training stream exactly as tests/test_fidelity.py does. From the engine's initial
weights (``modules(Trainer(config))``) both must end 20 steps on the same weights, with the
same excuse for float32 rounding at a ReLU or hinge kink, and only that one.
"""

from __future__ import annotations

import ast
import inspect
import io
import math
import pickle
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruff.__main__ import find_ruff_bin
from test_fidelity import (
    BASE,
    STEPS,
    TIED,
    adam_from,
    assert_agrees_on_a_seed,
    engine_and_batches,
    flatten,
    load,
)
from test_stabilizers import CASES as STABILIZED_CASES
from test_stabilizers import RUNS as STABILIZED
from test_stabilizers import flat_weights, replay_draws, torch_vectors

from gan_core import PRESETS, GANConfig, Trainer
from gan_core.gan.config import LOSSES, OPTIMIZERS, TARGETS
from gan_core.gan.engine import GANStack
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.metrics import in_band_fraction, parameter_w1, w1_to_law
from gan_core.pytorch import modules, script

ROOT = Path(__file__).resolve().parents[1]


# -- the script, executed --------------------------------------------------------------------


def run_script(config: GANConfig) -> types.ModuleType:
    """The script of ``config`` executed as a module named ``run``: its networks, optimizers
    and functions exist, and nothing has trained."""
    module = types.ModuleType("run")
    exec(compile(script(config), "run.py", "exec"), module.__dict__)
    return module


def start_from(run: types.ModuleType, trainer: Trainer) -> None:
    """Give the script's ``G`` and ``D`` the run's weights now."""
    generator, discriminator = modules(trainer)
    run.G.load_state_dict(generator.state_dict())
    run.D.load_state_dict(discriminator.state_dict())


class Fed:
    """The script's own ``train_step``, fed given batches through its ``artist_works`` and
    ``new_ideas`` (which must be called in that order, once each per batch), and the
    stabilizers' draws, which a batch may carry (test_stabilizers' ``Draw``), through its
    ``noise_like`` (real paintings', then G's) and ``mix_weights``. It records how close any
    ReLU input, and with the hinge loss any real logit to 1 or fake logit to -1, came to its
    kink, as test_fidelity's ``Reference`` does."""

    def __init__(self, run: types.ModuleType, loss: str) -> None:
        self.run = run
        self.kink_margin = float("inf")
        self._batches: Iterator[Any] = iter(())
        self._ideas: torch.Tensor | None = None
        self._noise: list[torch.Tensor] = []
        self._mix: torch.Tensor | None = None
        self._reals: list[torch.Tensor] = []
        self._judging = "G"
        run.artist_works, run.new_ideas = self._artist_works, self._new_ideas
        if hasattr(run, "noise_like"):
            run.noise_like = self._noise_like
        if hasattr(run, "mix_weights"):
            run.mix_weights = self._mix_weights
        run.G[0].register_forward_hook(lambda _, __, out: self._near(out))
        run.D[0].register_forward_hook(lambda _, __, out: self._near(out))
        run.D[0].register_forward_pre_hook(self._d_input)
        if loss == "hinge":
            run.D[2].register_forward_hook(self._hinge_logits)

    def train(self, batches: list[Any], steps: int, first_step: int = 0) -> None:
        """``steps`` calls of the script's ``train_step`` (given its step, where it takes
        one), which must use up ``batches``."""
        self._batches = iter(batches)
        takes_step = bool(inspect.signature(self.run.train_step).parameters)
        for step in range(first_step, first_step + steps):
            self.run.train_step(step) if takes_step else self.run.train_step()
        assert next(self._batches, None) is None, "the steps left batches unused"
        self._check_used()

    def _check_used(self) -> None:
        assert not self._noise and self._mix is None, "a step left its draws unused"

    def _artist_works(self) -> torch.Tensor:
        assert self._ideas is None, "artist_works was called twice without new_ideas"
        self._check_used()
        batch = next(self._batches)
        real, self._ideas = batch[0], batch[1]
        if len(batch) > 2:
            noise, self._mix = batch[2], batch[3]
            half = len(real)
            self._noise = [] if noise is None else [noise[:half], noise[half:]]
        self._reals.append(real)
        return real

    def _noise_like(self, paintings: torch.Tensor) -> torch.Tensor:
        assert self._noise, "noise_like was called for a pass that draws no noise"
        noise = self._noise.pop(0)
        assert noise.shape == paintings.shape
        return noise

    def _mix_weights(self) -> torch.Tensor:
        assert self._mix is not None, "mix_weights was called for a pass that draws none"
        mix, self._mix = self._mix, None
        return mix

    def _new_ideas(self) -> torch.Tensor:
        assert self._ideas is not None, "new_ideas was called before artist_works"
        ideas, self._ideas = self._ideas, None
        return ideas

    def _near(self, values: torch.Tensor) -> None:
        self.kink_margin = min(self.kink_margin, float(values.detach().abs().min()))

    def _d_input(self, _: Any, inputs: tuple[torch.Tensor]) -> None:
        x = inputs[0]
        if any(x is real for real in self._reals):
            self._judging = "real"
        else:  # G's paintings: detached when D learns, attached when G learns through D
            self._judging = "G" if x.requires_grad else "fake"

    def _hinge_logits(self, _: Any, __: Any, logits: torch.Tensor) -> None:
        if self._judging == "real":
            self._near(logits - 1)
        elif self._judging == "fake":
            self._near(logits + 1)


# -- the script trains as the engine does ------------------------------------------------------


def script_free_run(config: GANConfig) -> tuple[float, float]:
    """Engine and script train 20 steps from the same weights on the same batches; returns
    the largest weight difference and the script's closest approach to a kink."""
    stack, batches = engine_and_batches(config)
    run = run_script(config)
    start_from(run, Trainer(config))
    fed = Fed(run, config.loss)
    start = flatten(run.G)
    assert np.array_equal(start, stack.g.params[0])  # the same initial weights
    for _ in range(STEPS):
        stack.train_step()
    fed.train(batches, STEPS)
    assert np.abs(flatten(run.G) - start).max() > 1e-3  # G moved far beyond the tolerance
    error = max(np.abs(stack.g.params[0] - flatten(run.G)).max(),
                np.abs(stack.d.params[0] - flatten(run.D)).max())
    return float(error), fed.kink_margin


class Lockstep:
    """test_fidelity's step-by-step comparison for hinge with Adam, with the script in place of
    the reference, at the grain of every update: each update starts both sides from the
    engine's weights and Adam state; all gradients must agree, and all updates except where a
    gradient is an exact tie (below 1e-6 on either side, not zero on both). Every update, not
    every step: with ``d_steps > 1`` a tie in an extra D update would otherwise spread through
    the rest of its step before anything is compared."""

    def __init__(self, config: GANConfig) -> None:
        self.stack = GANStack(config, [config.seed])
        self.batches = replay_draws(config, self.stack, STEPS)
        # The engine's d_steps - 1 extra D updates are taken one by one, inside the script's.
        self.stack.set_hparams(config.replace(d_steps=1), {})
        self.run = run_script(config)
        self.fed = Fed(self.run, config.loss)
        self.d_steps = config.d_steps
        self.error, self.ties, self.compared = 0.0, 0, 0
        if config.d_steps > 1:
            self._script_update_d = self.run.update_D
            self._calls = 0
            self.run.update_D = self._update_d

    def sync(self, *names: str) -> None:
        for name in names:
            model, opt = getattr(self.run, name), getattr(self.run, f"opt_{name}")
            net = getattr(self.stack, name.lower())
            load(model, net.params[0])
            adam_from(opt, model, net)

    def compare(self, *names: str) -> None:
        for name in names:
            net, model = getattr(self.stack, name.lower()), getattr(self.run, name)
            grad, ref_grad = net.grads[0], flatten(model, grads=True)
            tiny = (np.abs(ref_grad) < 1e-6) | (np.abs(grad) < 1e-6)
            tie = tiny & ~((ref_grad == 0) & (grad == 0))  # two exact zeros do agree
            self.ties += int(tie.sum())
            self.compared += tie.size
            update_error = np.abs(net.params[0] - flatten(model))[~tie].max()
            self.error = max(self.error, float(np.abs(grad - ref_grad).max()),
                             float(update_error))

    def _update_d(self, real: torch.Tensor,
                  paintings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._calls += 1
        if self._calls % self.d_steps == 0:  # the step's own D update: compared after it
            return self._script_update_d(real, paintings)
        self.sync("D")
        self.stack.d_update()
        result = self._script_update_d(real, paintings)
        self.compare("D")
        self.sync("D")  # G's update and the next start from the engine's D
        return result

    def __call__(self) -> tuple[float, float]:
        per_step = len(self.batches) // STEPS
        for i in range(STEPS):
            self.sync("G", "D")
            self.fed.train(self.batches[i * per_step:(i + 1) * per_step], 1)
            self.stack.train_step()
            self.compare("G", "D")
        assert self.ties < 0.02 * self.compared
        return self.error, self.fed.kink_margin


def script_lockstep(config: GANConfig) -> tuple[float, float]:
    return Lockstep(config)()


CASES = [(loss, opt, d_steps) for loss in LOSSES for opt in OPTIMIZERS for d_steps in (1, 3)]


@pytest.mark.parametrize(("loss", "opt", "d_steps"), CASES)
def test_the_scripts_training_code_ends_twenty_steps_on_the_engines_weights(
        loss: str, opt: str, d_steps: int) -> None:
    config = BASE.replace(loss=loss, optimizer=opt, d_steps=d_steps)
    if loss in TIED and opt == "adam":  # see test_fidelity's step-by-step test for why
        assert_agrees_on_a_seed(config, script_lockstep, tolerance=1e-5)
    else:
        assert_agrees_on_a_seed(config, script_free_run, tolerance=1e-5)


def script_stabilized_run(config: GANConfig) -> tuple[float, float]:
    """As :func:`script_free_run`, with the stabilizers' draws fed too, and the power
    iteration's vectors compared."""
    stack = GANStack(config, [config.seed])
    draws = replay_draws(config, stack, STEPS)
    run = run_script(config)
    start_from(run, Trainer(config))
    fed = Fed(run, config.loss)
    start = flat_weights(run.G)
    for step in range(STEPS):
        stack.train_step(step=step)
    fed.train(draws, STEPS)
    assert np.abs(flat_weights(run.G) - start).max() > 1e-3
    error = max(np.abs(stack.g.params[0] - flat_weights(run.G)).max(),
                np.abs(stack.d.params[0] - flat_weights(run.D)).max())
    if config.spectral_norm:
        error = max(error, np.abs(stack.d.spectral.vectors[0] - torch_vectors(run.D)).max())
    return float(error), fed.kink_margin


@pytest.mark.parametrize(("run", "opt", "d_steps"), STABILIZED_CASES)
def test_the_scripts_stabilizers_end_twenty_steps_on_the_engines_weights(
        run: str, opt: str, d_steps: int) -> None:
    """Each stabilizer written in plain torch (the penalties through torch.autograd.grad with
    create_graph=True, spectral_norm from torch.nn.utils.parametrizations) trains as the
    engine does."""
    config = BASE.replace(optimizer=opt, d_steps=d_steps, **STABILIZED[run])
    if config.loss == "wasserstein" and opt == "adam":  # exact ties, as in test_fidelity
        assert_agrees_on_a_seed(config, script_lockstep, tolerance=1e-5)
    else:
        assert_agrees_on_a_seed(config, script_stabilized_run, tolerance=1e-5)


@pytest.mark.parametrize("config", [
    BASE.replace(target="two_bands"),
    BASE.replace(target="sine"),
    BASE.replace(target="sine", loss="least_squares", optimizer="sgd", d_steps=2,
                 latent_dim=3, hidden=32, n_points=9, batch_size=24),
    BASE.replace(target="two_bands", loss="non_saturating", d_steps=3, latent_dim=8,
                 hidden=20, n_points=31, batch_size=40),
], ids=["two_bands", "sine", "sine-lsgan-sgd-small", "two_bands-nonsat-wide"])
def test_the_script_of_every_target_and_size_trains_as_the_engine_does(
        config: GANConfig) -> None:
    assert_agrees_on_a_seed(config, script_free_run, tolerance=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_artist_works_paints_the_targets_family_with_its_laws(target: str) -> None:
    """Real curves from the script lie exactly in the family, and their parameters follow the
    family's laws: W1 to each law within sampling noise, every value inside its ranges."""
    config = GANConfig(target=target, batch_size=512, n_points=21, seed=3)
    run = run_script(config)
    curves = np.concatenate([run.artist_works().numpy() for _ in range(16)])
    family, x = get_target(target), curve_grid(config.n_points)
    assert curves.shape == (16 * 512, 21) and curves.dtype == np.float32
    params, residual = family.fit(curves, x)
    assert residual.max() < 1e-5  # every curve is a member of the family, on the engine's grid
    assert in_band_fraction(curves, family, x, tolerance=1e-5) == 1.0
    for values, law in zip(params.T, family.param_laws(), strict=True):
        assert w1_to_law(values, law) < 0.01
        inside = np.zeros(values.shape, bool)
        for low, high in law.ranges:
            inside |= (values > low - 1e-4) & (values < high + 1e-4)
            share = np.mean((values > low - 1e-4) & (values < high + 1e-4))
            assert abs(share - 1 / len(law.ranges)) < 0.03  # each range as likely
        assert inside.all()


# -- the script is valid, lean and runs, for any config ---------------------------------------


def field(name: str) -> st.SearchStrategy:
    param = GANConfig.params()[name]
    if param.choices:
        return st.sampled_from(param.choices)
    if param.kind is bool:
        return st.booleans()
    if param.low == 0 and param.log:  # a stabilizer: off half the time
        kind = st.integers if param.kind is int else st.floats
        return st.one_of(st.just(param.kind(0)), kind(param.least, param.high))
    if param.kind is int:
        return st.integers(int(param.low), int(param.high))
    return st.floats(param.low, param.high)


def _scriptable(config: GANConfig) -> GANConfig:
    """A conditional config's script is 406_conditional_GAN.py's, without stabilizers."""
    if not config.conditional:
        return config
    return config.replace(r1=0.0, r2=0.0, gp=0.0, spectral_norm=False, instance_noise=0.0,
                          real_label=1.0)


configs = st.builds(GANConfig, **{name: field(name) for name in GANConfig.params()
                                  if name != "target"}, target=st.sampled_from(TARGETS)
                    ).map(_scriptable)
"""Configs of the built-in families (your data's scripts: tests/test_data_files.py)."""


@pytest.mark.parametrize("stabilizer", [{"r1": 1.0}, {"spectral_norm": True},
                                        {"loss": "wasserstein", "gp": 10.0},
                                        {"instance_noise": 0.1}, {"real_label": 0.9}])
def test_a_conditional_script_with_a_stabilizer_is_refused_saying_why(stabilizer: dict) -> None:
    with pytest.raises(ValueError, match="written without "
                       "stabilizers; this run uses"):
        script(GANConfig(conditional=True, **stabilizer))


def ruff_findings(text: str) -> str:
    result = subprocess.run(
        [find_ruff_bin(), "check", "--no-cache", "--output-format=concise",
         "--stdin-filename", "run.py", "-"],
        input=text, cwd=ROOT, capture_output=True, text=True, timeout=60)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def foreign_words(config: GANConfig) -> list[str]:
    """Words only a script of another loss, optimizer, ``d_steps`` or target would use."""
    penalised = config.r1 or config.r2 or config.gp
    words = {"minimax": ["minimax", "non-saturating", "least squares", "hinge", "critic"],
             "non_saturating": ["minimax", "tutorial's,", "least squares", "hinge", "critic",
                                "torch.mean(torch.log(1. - prob_artist1))"],
             "least_squares": ["minimax", "non-saturating", "hinge", "torch.log", "relu",
                               "critic"],
             "hinge": ["minimax", "non-saturating", "least squares", "torch.log", "** 2",
                       "critic"],
             "wasserstein": ["minimax", "non-saturating", "least squares", "hinge", "torch.log",
                             "D_logit", "Sigmoid", "D accuracy", "prob_artist"],
             }[config.loss]
    if config.loss in ("minimax", "non_saturating") and not penalised:
        words += ["D_logit"]
    if config.loss != "wasserstein":
        words += ["Wasserstein", "WGAN ("]
    words += [word for on, names in (
        (config.r1, ["R1_GAMMA"]), (config.r2, ["R2_GAMMA"]),
        (config.r1 or config.r2, ["compute_grad2"]),
        (config.gp, ["GP_LAMBDA", "wgan_gp", "mix_weights"]),
        (penalised, ["penalty"]),
        (config.instance_noise, ["NOISE", "noise_like", "add_noise"]),
        (config.instance_noise and config.instance_noise_steps, ["NOISE_STEPS", "(step)"]),
        (config.spectral_norm, ["spectral_norm", "parametrize"]),
        (config.real_label != 1.0 and config.loss in ("minimax", "non_saturating",
                                                      "least_squares"), ["REAL_LABEL"]),
    ) if not on for word in names]
    words += {"adam": ["SGD", "MOMENTUM", "momentum"], "sgd": ["Adam", "BETAS", "betas"]}[
        config.optimizer]
    if config.optimizer == "adam" and (config.beta1, config.beta2) == (0.9, 0.999):
        words += ["BETAS"]
    if config.d_steps == 1:
        words += ["D_STEPS", "update_D"]
    words += {"parabola": ["np.sin", "ranges", "band"], "two_bands": ["np.sin"],
              "sine": ["np.power", "ranges", "band"]}[config.target]
    words += (["def artist_works()", "G(G_ideas)", "406_GAN.py\n"] if config.conditional
              else ["labels", "G_inputs", "D_inputs"])
    return words


def unused_definitions(text: str) -> set[str]:
    """Top-level names the script defines and never reads."""
    tree = ast.parse(text)
    defined = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and
            isinstance(n.ctx, ast.Load)}
    return defined - read


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_every_config_gives_a_lint_clean_script_that_holds_only_its_own_code_and_trains(
        config: GANConfig) -> None:
    text = script(config)
    compile(text, "run.py", "exec")
    assert ruff_findings(text) == ""
    assert [w for w in foreign_words(config) if w in text] == []
    assert unused_definitions(text) == set()
    for name, value in (("BATCH_SIZE", config.batch_size), ("LR_G", config.lr_g),
                        ("LR_D", config.lr_d), ("N_IDEAS", config.latent_dim),
                        ("ART_COMPONENTS", config.n_points)):
        # the config's values, as exact literals
        assert re.search(rf"^{name} = {re.escape(repr(value))}( +#|$)", text, re.MULTILINE)
    run = run_script(config)
    label = int(config.conditional)  # the class label's column
    assert run.G[0].weight.shape == (config.hidden, config.latent_dim + label)
    assert run.D[0].weight.shape == (config.hidden, config.n_points + label)
    assert run.opt_G.param_groups[0]["lr"] == config.lr_g
    assert run.opt_D.param_groups[0]["lr"] == config.lr_d
    takes_step = bool(inspect.signature(run.train_step).parameters)
    prob_artist0, d_loss = run.train_step(0) if takes_step else run.train_step()
    assert prob_artist0.shape == (config.batch_size, 1) and d_loss.shape == ()
    for net in (run.G, run.D):  # both losses reached every weight of their network
        assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())


def test_the_tutorial_configs_script_keeps_the_tutorials_own_lines() -> None:
    text = script(PRESETS["tutorial"])
    for line in [  # verbatim from 406_GAN.py
        "BATCH_SIZE = 64",
        "LR_G = 0.0001           # learning rate for generator",
        "N_IDEAS = 5             # think of this as number of ideas for generating an art work "
        "(Generator)",
        "PAINT_POINTS = np.vstack([np.linspace(-1, 1, ART_COMPONENTS) for _ in "
        "range(BATCH_SIZE)])",
        "def artist_works():     # painting from the famous artist (real target)",
        "    a = np.random.uniform(1, 2, size=BATCH_SIZE)[:, np.newaxis]",
        "    paintings = torch.from_numpy(paintings).float()",
        "    nn.Linear(N_IDEAS, 128),            # random ideas (could from normal distribution)",
        "    nn.Sigmoid(),                       # tell the probability that the art work is "
        "made by artist",
        "opt_D = torch.optim.Adam(D.parameters(), lr=LR_D)",
        "opt_G = torch.optim.Adam(G.parameters(), lr=LR_G)",
        "    G_paintings = G(G_ideas)                    # fake painting from G (random ideas)",
        "    prob_artist1 = D(G_paintings)               # D try to reduce this prob",
        "    G_loss = torch.mean(torch.log(1. - prob_artist1))",
        "    prob_artist0 = D(artist_paintings)          # D try to increase this prob",
        "    D_loss = - torch.mean(torch.log(prob_artist0) + torch.log(1. - prob_artist1))",
    ]:
        assert line in text.splitlines()
    lines = text.splitlines()
    g_step, d_step = lines.index("    opt_G.step()"), lines.index("    opt_D.step()")
    assert g_step < lines.index("    prob_artist1 = D(G_paintings.detach())      # D try to "
                                "reduce this prob") < d_step
    assert "retain_graph=True" in text and "torch 1.5" in text  # said why the order is fixed
    assert "retain_graph" not in text.replace("retain_graph=True)", "")  # and not used


HANDFUL = [
    PRESETS["tutorial"],
    GANConfig(loss="non_saturating", optimizer="sgd", d_steps=3, target="two_bands", seed=5),
    GANConfig(loss="least_squares", beta1=0.5, beta2=0.99, target="sine", latent_dim=2,
              hidden=9, n_points=4, batch_size=8),
    GANConfig(loss="hinge", optimizer="sgd", momentum=0.0, d_steps=2, target="sine",
              hidden=512, n_points=100, batch_size=512, seed=2**31 - 1),
]


@pytest.mark.parametrize("config", HANDFUL, ids=["tutorial", "nonsat-sgd-bands",
                                                 "lsgan-sine-tiny", "hinge-sgd-largest"])
def test_the_script_runs_on_its_own_and_prints_the_tutorials_readouts(
        config: GANConfig, tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(script(config))
    result = subprocess.run([sys.executable, "run.py", "--steps", "2"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"step 2: D accuracy=\d\.\d\d \(0\.\d\d for D to converge\), "
                        r"D score= -?\d+\.\d\d \(-\d\.\d\d for G to converge\)\n", result.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "steps", "in_band", "w1"), [
    ("tutorial", 10_000, 0.9, 0.07),
    ("fast", 2_000, 0.93, 0.05),  # the preset's promise: the tutorial's quality, 5x sooner
])
def test_a_full_run_of_a_presets_script_from_its_own_seed_reaches_the_presets_quality(
        preset: str, steps: int, in_band: float, w1: float,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The script alone, with its own seed and random streams (python run.py --steps N),
    measured on 1,000 curves of its G as the page measures a run
    (benchmarks/script.py reports the same runs with their times)."""
    config = PRESETS[preset]
    run = run_script(config)
    run.main(["--steps", str(steps)])
    assert capsys.readouterr().out.count("D accuracy=") == steps // 500  # every 500 steps
    z = torch.randn(1000, config.latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        curves = run.G(z).numpy()
    target, x = get_target(config.target), curve_grid(config.n_points)
    assert in_band_fraction(curves, target, x) >= in_band
    assert parameter_w1(curves, target, x)[0] <= w1


# -- going on from a checkpoint --------------------------------------------------------------


def saved(checkpoint: dict[str, Any], path: Path) -> Path:
    """A script's own state saved with ``torch.save``, as the script itself would."""
    torch.save(checkpoint, path)
    return path


def checkpoint_of(trainer: Trainer, path: Path) -> Path:
    """The run saved as the page saves it (``Trainer.save``): what a learner downloads."""
    trainer.save(path)
    return path


def engine_batches_from_now(trainer: Trainer, steps: int) -> list[Any]:
    """What the trainer's next ``steps`` steps draw (batches, and the stabilizers' noise and
    mixing weights), from a copy of its stream."""
    return replay_draws(trainer.config, trainer._stack, steps, first_step=trainer.step)


RESUMED = [BASE, BASE.replace(optimizer="sgd"),
           BASE.replace(loss="non_saturating", d_steps=3),
           BASE.replace(loss="least_squares", optimizer="sgd", target="sine"),
           BASE.replace(spectral_norm=True, r1=1.0, instance_noise=0.1, instance_noise_steps=40),
           BASE.replace(loss="wasserstein", gp=10.0, spectral_norm=True, optimizer="sgd")]


@pytest.mark.parametrize("config", RESUMED, ids=["adam", "sgd", "nonsat-3", "lsgan-sgd-sine",
                                                 "sn-r1-noise", "wgan-gp-sn-sgd"])
def test_resuming_puts_the_run_in_place_and_trains_on_as_the_engine_would(
        config: GANConfig, tmp_path: Path) -> None:
    """From a checkpoint at step 30, G paints the saved run's curves and D judges as it does
    (1e-6); 20 more steps on the engine's next batches land on the engine's weights after 50
    straight (1e-5): the optimizers' moments and step counts came through."""

    def resumed(config: GANConfig) -> tuple[float, float]:
        trainer = Trainer(config)
        trainer.train(30)
        run = run_script(config)
        assert run.load_checkpoint(checkpoint_of(trainer, tmp_path / "run.pt")) == 30
        z = np.random.default_rng(0).standard_normal((64, config.latent_dim), np.float32)
        run.D.eval()  # looking: a normalised D keeps its power iteration's vectors
        with torch.no_grad():
            curves = run.G(torch.from_numpy(z)).numpy()
            belief = run.D(torch.from_numpy(curves))[:, 0].numpy()
        run.D.train()
        np.testing.assert_allclose(curves, trainer.generate(z), atol=1e-6)
        np.testing.assert_allclose(belief, trainer.discriminate(curves), atol=1e-6)
        fed = Fed(run, config.loss)
        batches = engine_batches_from_now(trainer, STEPS)
        before = trainer.state()
        trainer.train(STEPS)
        fed.train(batches, STEPS, first_step=30)
        after = trainer.state()
        assert np.abs(after.g.params - before.g.params).max() > 1e-3
        error = max(np.abs(after.g.params - flat_weights(run.G)).max(),
                    np.abs(after.d.params - flat_weights(run.D)).max())
        return float(error), fed.kink_margin

    assert_agrees_on_a_seed(config, resumed, tolerance=1e-5)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_resumed_script_continues_exactly_as_the_script_trained_straight(
        optimizer: str, tmp_path: Path) -> None:
    """k + m steps straight, and k steps, saved, loaded by a fresh script and m more, give
    the same weights bit for bit: the script's own state goes through the file whole."""
    config = BASE.replace(optimizer=optimizer, d_steps=2, seed=4)
    k, m = 12, 8
    batches = engine_and_batches(config)[1]  # any batches would do; these are at hand
    straight, first = run_script(config), run_script(config)
    Fed(straight, config.loss).train(batches[:2 * (k + m)], k + m)
    Fed(first, config.loss).train(batches[:2 * k], k)
    checkpoint = {"G": first.G.state_dict(), "D": first.D.state_dict(),
                  "opt_G": first.opt_G.state_dict(), "opt_D": first.opt_D.state_dict(),
                  "step": k}
    second = run_script(config)
    assert second.load_checkpoint(saved(checkpoint, tmp_path / "run.pt")) == k
    Fed(second, config.loss).train(batches[2 * k:2 * (k + m)], m)
    for net in ("G", "D"):
        for key, value in getattr(straight, net).state_dict().items():
            assert torch.equal(getattr(second, net).state_dict()[key], value), f"{net}.{key}"


def test_main_resumes_at_the_saved_step_and_counts_on_from_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trainer = Trainer(BASE)
    trainer.train(1234)
    path = checkpoint_of(trainer, tmp_path / "run.pt")
    run_script(BASE).main(["--resume", str(path), "--steps", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "resumed at step 1234"
    assert lines[1].startswith("step 1237: D accuracy=") and len(lines) == 2


def test_the_script_resumes_from_the_command_line(tmp_path: Path) -> None:
    config = HANDFUL[1]
    trainer = Trainer(config)
    trainer.train(7)
    checkpoint_of(trainer, tmp_path / "gan-curve-lab.pt")
    (tmp_path / "run.py").write_text(script(config))
    result = subprocess.run(
        [sys.executable, "run.py", "--steps", "2", "--resume", "gan-curve-lab.pt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("resumed at step 7\nstep 9: D accuracy=")


def refusal(run: types.ModuleType, path: Path) -> str:
    """``main``'s message for a checkpoint it refuses; the script's state must be untouched."""
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in (run.G, run.D)]
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--resume", str(path), "--steps", "1"])
    for module, state in zip((run.G, run.D), before, strict=True):
        for key, value in module.state_dict().items():
            assert torch.equal(value, state[key])
    assert not run.opt_G.state and not run.opt_D.state
    return str(exit_info.value.code)


def test_a_checkpoint_of_other_sizes_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    other = Trainer(BASE.replace(hidden=64))
    path = checkpoint_of(other, tmp_path / "other.pt")
    message = refusal(run_script(BASE), path)
    assert message.startswith(f"cannot resume from {path}: its G has the shapes")
    assert "(64, 5)" in message and "(128, 5)" in message
    assert "other sizes (N_IDEAS, hidden units or ART_COMPONENTS)" in message


def test_a_checkpoint_with_spectral_normalisation_is_refused_by_a_script_without(
        tmp_path: Path) -> None:
    path = checkpoint_of(Trainer(BASE.replace(spectral_norm=True)), tmp_path / "sn.pt")
    message = refusal(run_script(BASE), path)
    assert "spectrally normalised" in message and "parametrizations.weight.original" in message
    path = checkpoint_of(Trainer(BASE), tmp_path / "plain.pt")
    assert "spectrally normalised" in refusal(run_script(BASE.replace(spectral_norm=True)), path)


def test_a_checkpoint_of_another_optimizer_is_refused(tmp_path: Path) -> None:
    path = checkpoint_of(Trainer(BASE.replace(optimizer="sgd")), tmp_path / "s.pt")
    assert "its opt_G is not Adam's" in refusal(run_script(BASE), path)
    path = checkpoint_of(Trainer(BASE), tmp_path / "a.pt")
    assert "its opt_G is not SGD's" in refusal(run_script(BASE.replace(optimizer="sgd")), path)


class Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("code from a checkpoint ran",))


def torch_file(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


# torch warns of a plain pickle's protocol before refusing it: the refusal is what counts.
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("content", [
    b"", b"not a checkpoint", pickle.dumps(Payload()), torch_file(Payload()),
    torch_file({"G": 1}), torch_file([1, 2]),
], ids=["empty", "text", "code", "torch-code", "wrong-keys", "a-list"])
def test_a_file_that_is_no_checkpoint_is_refused_and_runs_nothing(
        content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    message = refusal(run_script(BASE), path)
    assert "not a checkpoint" in message or "not a GAN Curve Lab checkpoint" in message
    assert "code from a checkpoint ran" not in capsys.readouterr().out


def test_a_missing_checkpoint_file_is_named(tmp_path: Path) -> None:
    message = refusal(run_script(BASE), tmp_path / "missing.pt")
    assert message.startswith(f"cannot resume from {tmp_path / 'missing.pt'}:")
    assert "No such file" in message


def test_the_report_of_each_loss_names_its_own_equilibrium() -> None:
    lines = {loss: next(line for line in script(GANConfig(loss=loss)).splitlines()
                        if "for G to converge" in line) for loss in LOSSES}
    assert "(-1.39 for G to converge)" in lines["minimax"]  # -log 4, the tutorial's -1.38
    assert "(-1.39 for G to converge)" in lines["non_saturating"]
    assert "(-0.25 for G to converge)" in lines["least_squares"]
    assert "(-2.00 for G to converge)" in lines["hinge"]
    assert f"{1 / (1 + math.exp(-0.5)):.2f} for D to" in script(GANConfig(loss="least_squares"))


# -- and back to the lab -------------------------------------------------------------------------

SAVED = [BASE, BASE.replace(optimizer="sgd", momentum=0.0, d_steps=2, loss="hinge"),
         BASE.replace(optimizer="sgd", d_steps=3, target="sine")]


def as_saved(config: GANConfig) -> GANConfig:
    """``config`` as a script saves it: the other optimizer's settings are the tutorial's."""
    unused = {"adam": ("momentum",), "sgd": ("beta1", "beta2")}[config.optimizer]
    return config.replace(**{name: getattr(GANConfig(), name) for name in unused})


def assert_is_the_scripts_run(trainer: Trainer, run: types.ModuleType, config: GANConfig,
                              step: int) -> None:
    """The lab's run is the script's: its settings, step, weights and optimizer moments."""
    assert trainer.config == as_saved(config) and trainer.step == step
    state = trainer.state()
    np.testing.assert_array_equal(state.g.params, flatten(run.G))
    np.testing.assert_array_equal(state.d.params, flatten(run.D))
    if config.optimizer == "adam":
        moments = run.opt_G.state_dict()["state"]
        np.testing.assert_array_equal(
            state.g.m[:config.hidden * config.latent_dim],
            moments[0]["exp_avg"].numpy().T.ravel())


@pytest.mark.parametrize("config", SAVED, ids=["adam", "sgd-no-momentum-hinge", "sgd-sine-3"])
def test_a_script_run_saved_with_save_resumes_in_the_lab_at_its_step(
        config: GANConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """PyTorch to the lab: ``--save`` writes what the lab's upload takes, and the lab goes
    on training it."""
    run = run_script(config)
    run.main(["--steps", "25", "--save", str(tmp_path / "trained.pt")])
    assert capsys.readouterr().out.endswith(f"saved step 25 to {tmp_path / 'trained.pt'}\n")
    trainer = Trainer.load(tmp_path / "trained.pt")
    assert_is_the_scripts_run(trainer, run, config, 25)
    assert trainer.state().g.t == 25 and trainer.state().d.t == 25 * config.d_steps
    trainer.train(10)
    assert trainer.step == 35 and np.isfinite(trainer.state().g.params).all()


@pytest.mark.parametrize("config", SAVED, ids=["adam", "sgd-no-momentum-hinge", "sgd-sine-3"])
def test_a_lab_run_goes_to_the_script_and_comes_back_with_its_history_and_updates(
        config: GANConfig, tmp_path: Path) -> None:
    """The lab to PyTorch and back: the script resumes a lab checkpoint (one network trained
    alone twice in it), trains on and saves; the lab takes that file at the script's step,
    with the updates each optimizer took, the lab's history and its random stream."""
    lab = Trainer(config)
    lab.train(120)
    lab.train_d(2)
    lab.save(tmp_path / "lab.pt")
    run = run_script(config)
    run.main(["--resume", str(tmp_path / "lab.pt"), "--steps", "10",
              "--save", str(tmp_path / "back.pt")])
    back = Trainer.load(tmp_path / "back.pt")
    assert_is_the_scripts_run(back, run, config, 130)
    state, before = back.state(), lab.state()
    assert (state.g.t, state.d.t) == (before.g.t + 10, before.d.t + 10 * config.d_steps)
    assert state.rng == before.rng
    for name in ("train", "eval"):
        for key in ("steps", "rows"):
            np.testing.assert_array_equal(state.history[name][key], before.history[name][key])
    back.train(10)
    assert back.step == 140


def test_save_from_the_command_line_writes_a_file_the_page_resumes(tmp_path: Path) -> None:
    from page_driver import start, step_readout

    (tmp_path / "run.py").write_text(script(BASE))
    result = subprocess.run(
        [sys.executable, "run.py", "--steps", "50", "--save", "trained.pt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    at = start()
    at.file_uploader(key="upload").upload("trained.pt",
                                          (tmp_path / "trained.pt").read_bytes()).run()
    assert not at.error and not at.exception
    assert step_readout(at) == 50
    assert "Resumed from 'trained.pt' at step 50" in at.info[0].value

"""A conditional run's script is the tutorial's ``406_conditional_GAN.py``, corrected as
``406_GAN.py`` was, and it trains the run's GAN.

As published, ``406_conditional_GAN.py`` steps D and then calls ``G_loss.backward()`` through
D's graph, whose weights ``opt_D.step()`` changed in place: torch refuses since 1.5. The
correction is ``406_GAN.py``'s own: the draws in the file's order (``artist_works_with_labels()``,
then ``G_ideas``); ``G_loss = mean(log(1 - D(cat(G_paintings, labels))))`` and G's step; then
``D_loss = -mean(log D(D_inputs0) + log(1 - D(cat(G_paintings.detach(), labels))))`` and D's
step. ``corrected_upstream`` below is the file's training loop, line for line, with that
order; the script written for the tutorial's settings must end 2,000 steps on its weights bit
for bit from the same seed.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from test_fidelity import BASE, STEPS, assert_agrees_on_a_seed, flatten
from test_fidelity_conditional import LabelledBatch, engine_and_labelled_batches
from test_pytorch_script import refusal, run_script, start_from
from torch import nn

from gan_core import PRESETS, GANConfig, Trainer
from gan_core.gan.config import LOSSES, OPTIMIZERS, TARGETS
from gan_core.gan.targets import curve_grid, get_target
from gan_core.measure.metrics import class_accuracy, in_band_fraction
from gan_core.pytorch import modules, script

CONDITIONAL = PRESETS["conditional"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- the corrected upstream file ---------------------------------------------------------------


def corrected_upstream(seed: int, steps: int) -> tuple[nn.Sequential, nn.Sequential]:
    """``406_conditional_GAN.py``'s run without its plots, seeded as its commented-out lines
    would seed it, and with the one correction: G's step before D's."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    BATCH_SIZE = 64
    LR_G = 0.0001
    LR_D = 0.0001
    N_IDEAS = 5
    ART_COMPONENTS = 15
    PAINT_POINTS = np.vstack([np.linspace(-1, 1, ART_COMPONENTS) for _ in range(BATCH_SIZE)])

    def artist_works_with_labels() -> tuple[torch.Tensor, torch.Tensor]:
        a = np.random.uniform(1, 2, size=BATCH_SIZE)[:, np.newaxis]
        paintings = a * np.power(PAINT_POINTS, 2) + (a-1)
        labels = (a-1) > 0.5
        paintings = torch.from_numpy(paintings).float()
        labels = torch.from_numpy(labels.astype(np.float32))
        return paintings, labels

    G = nn.Sequential(nn.Linear(N_IDEAS+1, 128), nn.ReLU(), nn.Linear(128, ART_COMPONENTS))
    D = nn.Sequential(nn.Linear(ART_COMPONENTS+1, 128), nn.ReLU(), nn.Linear(128, 1),
                      nn.Sigmoid())
    opt_D = torch.optim.Adam(D.parameters(), lr=LR_D)
    opt_G = torch.optim.Adam(G.parameters(), lr=LR_G)
    for _ in range(steps):
        artist_paintings, labels = artist_works_with_labels()
        G_ideas = torch.randn(BATCH_SIZE, N_IDEAS)
        G_inputs = torch.cat((G_ideas, labels), 1)
        G_paintings = G(G_inputs)
        D_inputs0 = torch.cat((artist_paintings, labels), 1)

        G_loss = torch.mean(torch.log(1. - D(torch.cat((G_paintings, labels), 1))))
        opt_G.zero_grad()
        G_loss.backward()
        opt_G.step()

        D_loss = - torch.mean(torch.log(D(D_inputs0))
                              + torch.log(1. - D(torch.cat((G_paintings.detach(), labels), 1))))
        opt_D.zero_grad()
        D_loss.backward(retain_graph=True)
        opt_D.step()
    return G, D


def test_the_script_of_the_tutorials_settings_is_the_corrected_upstream_run_bit_for_bit(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed, steps = 1, 2_000  # the seed the file's commented-out lines name
    G, D = corrected_upstream(seed, steps)
    run = run_script(CONDITIONAL.replace(seed=seed))  # seeds torch and numpy as it starts
    run.main(["--steps", str(steps)])
    assert capsys.readouterr().out.count("D accuracy=") == steps // 500
    for upstream, ours in ((G, run.G), (D, run.D)):
        for (key, value), (key2, mine) in zip(upstream.state_dict().items(),
                                              ours.state_dict().items(), strict=True):
            assert key == key2 and torch.equal(value, mine), key


def test_the_script_keeps_the_conditional_tutorials_own_names_and_lines() -> None:
    text = script(CONDITIONAL)
    code = [line.partition("#")[0].rstrip() for line in text.splitlines()]
    for line in [  # 406_conditional_GAN.py's, with PEP 8's spaces around operators
        "def artist_works_with_labels():",
        "    a = np.random.uniform(1, 2, size=BATCH_SIZE)[:, np.newaxis]",
        "    paintings = a * np.power(PAINT_POINTS, 2) + (a - 1)",
        "    labels = (a - 1) > 0.5",
        "    paintings = torch.from_numpy(paintings).float()",
        "    labels = torch.from_numpy(labels.astype(np.float32))",
        "    return paintings, labels",
        "    nn.Linear(N_IDEAS + 1, 128),",
        "    nn.Linear(ART_COMPONENTS + 1, 128),",
        "    artist_paintings, labels = artist_works_with_labels()",
        "    G_inputs = torch.cat((G_ideas, labels), 1)",
        "    G_paintings = G(G_inputs)",
        "    D_inputs0 = torch.cat((artist_paintings, labels), 1)",
        "    D_inputs1 = torch.cat((G_paintings.detach(), labels), 1)",
        "    prob_artist0 = D(D_inputs0)",
        "    G_loss = torch.mean(torch.log(1. - prob_artist1))",
        "    D_loss = - torch.mean(torch.log(prob_artist0) + torch.log(1. - prob_artist1))",
    ]:
        assert line in code, line
    assert "406_conditional_GAN.py" in text and "torch 1.5" in text
    g_step, d_step = code.index("    opt_G.step()"), code.index("    opt_D.step()")
    assert g_step < code.index("    D_inputs1 = torch.cat((G_paintings.detach(), labels), 1)") \
        < d_step  # G learns first, then D on the detached paintings
    assert "retain_graph" not in text.replace("retain_graph=True)", "")
    assert "def artist_works():" not in text


# -- the script's training code is the engine's, on the engine's batches ------------------------


class LabelledFed:
    """The script's own ``train_step``, fed the engine's labelled batches through its
    ``artist_works_with_labels`` and ``new_ideas`` (called in that order, once each per
    batch). It records how close any ReLU input came to its kink (and for the hinge, a real
    logit to 1 or a fake one to -1), as test_fidelity's reference does."""

    def __init__(self, run: types.ModuleType, loss: str) -> None:
        self.run = run
        self.kink_margin = float("inf")
        self._batches: Iterator[LabelledBatch] = iter(())
        self._ideas: torch.Tensor | None = None
        self._reals: list[torch.Tensor] = []
        self._judging = "G"
        run.artist_works_with_labels, run.new_ideas = self._artist, self._new_ideas
        run.G[0].register_forward_hook(lambda _, __, out: self._near(out))
        run.D[0].register_forward_hook(lambda _, __, out: self._near(out))
        run.D[0].register_forward_pre_hook(self._d_input)
        if loss == "hinge":
            run.D[2].register_forward_hook(self._hinge_logits)

    def train(self, batches: list[LabelledBatch], steps: int) -> None:
        self._batches = iter(batches)
        for _ in range(steps):
            self.run.train_step()
        assert next(self._batches, None) is None, "the steps left batches unused"

    def _artist(self) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._ideas is None, "artist_works_with_labels was called twice"
        real, labels, self._ideas = next(self._batches)
        self._reals.append(real)
        return real, labels

    def _new_ideas(self) -> torch.Tensor:
        assert self._ideas is not None, "new_ideas was called before artist_works_with_labels"
        ideas, self._ideas = self._ideas, None
        return ideas

    def _near(self, values: torch.Tensor) -> None:
        self.kink_margin = min(self.kink_margin, float(values.detach().abs().min()))

    def _d_input(self, _: object, inputs: tuple[torch.Tensor]) -> None:
        x = inputs[0][:, :-1]  # the painting, without its label
        if any(torch.equal(x, real) for real in self._reals):
            self._judging = "real"
        else:
            self._judging = "G" if inputs[0].requires_grad else "fake"

    def _hinge_logits(self, _: object, __: object, logits: torch.Tensor) -> None:
        if self._judging == "real":
            self._near(logits - 1)
        elif self._judging == "fake":
            self._near(logits + 1)


def script_free_run(config: GANConfig) -> tuple[float, float]:
    stack, batches = engine_and_labelled_batches(config)
    run = run_script(config)
    start_from(run, Trainer(config))
    fed = LabelledFed(run, config.loss)
    start = flatten(run.G)
    assert np.array_equal(start, stack.g.params[0])
    for _ in range(STEPS):
        stack.train_step()
    fed.train(batches, STEPS)
    assert np.abs(flatten(run.G) - start).max() > 1e-3
    error = max(np.abs(stack.g.params[0] - flatten(run.G)).max(),
                np.abs(stack.d.params[0] - flatten(run.D)).max())
    return float(error), fed.kink_margin


CASES = [(loss, opt, d_steps) for loss in LOSSES for opt in OPTIMIZERS for d_steps in (1, 3)
         # Adam's exact gradient ties under the hinge and a critic: tests/test_fidelity.py
         if not (loss in ("hinge", "wasserstein") and opt == "adam")]


@pytest.mark.parametrize(("loss", "opt", "d_steps"), CASES)
def test_the_conditional_scripts_training_code_ends_twenty_steps_on_the_engines_weights(
        loss: str, opt: str, d_steps: int) -> None:
    config = BASE.replace(conditional=True, loss=loss, optimizer=opt, d_steps=d_steps)
    assert_agrees_on_a_seed(config, script_free_run, tolerance=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_every_targets_conditional_script_trains_as_the_engine_does(target: str) -> None:
    config = BASE.replace(conditional=True, target=target, loss="non_saturating")
    assert_agrees_on_a_seed(config, script_free_run, tolerance=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_artist_works_with_labels_labels_each_painting_as_the_engine_does(target: str) -> None:
    """The script's labels are the engine's rule read off each painting: its class's band
    holds it, and the classes are equally likely."""
    config = CONDITIONAL.replace(target=target, batch_size=512, seed=3)
    run = run_script(config)
    family, x = get_target(target), curve_grid(config.n_points)
    batches = [run.artist_works_with_labels() for _ in range(8)]
    curves = np.concatenate([p.numpy() for p, _ in batches])
    labels = np.concatenate([lab.numpy()[:, 0] for _, lab in batches])
    assert set(np.unique(labels)) == {0.0, 1.0} and abs(labels.mean() - 0.5) < 0.03
    assert np.array_equal(family.landed_class(curves, x, 1e-4), labels.astype(np.int64))
    for c in (0, 1):
        assert in_band_fraction(curves[labels == c], family.class_target(c), x, 1e-4) == 1.0


# -- resuming a conditional run ------------------------------------------------------------------


def test_a_conditional_checkpoint_resumes_in_its_script_painting_each_class_as_the_run_does(
        tmp_path: Path) -> None:
    config = CONDITIONAL.replace(seed=6)
    trainer = Trainer(config)
    trainer.train(300)
    trainer.save(tmp_path / "run.pt")
    run = run_script(config)
    assert run.load_checkpoint(tmp_path / "run.pt") == 300
    z = np.random.default_rng(0).standard_normal((64, 5), np.float32)
    labels = np.repeat([0.0, 1.0], 32).astype(np.float32)
    with torch.no_grad():
        inputs = torch.cat((torch.from_numpy(z), torch.from_numpy(labels)[:, None]), 1)
        curves = run.G(inputs).numpy()
        belief = run.D(torch.cat((torch.from_numpy(curves),
                                  torch.from_numpy(labels)[:, None]), 1))[:, 0].numpy()
    np.testing.assert_allclose(curves, trainer.generate(z, labels), atol=1e-6)
    np.testing.assert_allclose(belief, trainer.discriminate(curves, labels), atol=1e-6)
    generator, _ = modules(trainer)  # the same modules gan_core.pytorch gives
    with torch.no_grad():
        np.testing.assert_array_equal(generator(inputs).numpy(), curves)


def test_a_checkpoint_with_or_without_classes_is_refused_by_the_other_kind_of_script(
        tmp_path: Path) -> None:
    plain, conditional = Trainer(GANConfig()), Trainer(CONDITIONAL)
    plain.save(tmp_path / "plain.pt")
    conditional.save(tmp_path / "conditional.pt")
    message = refusal(run_script(CONDITIONAL), tmp_path / "plain.pt")
    assert "(128, 5)" in message and "(128, 6)" in message and "or was not conditional" in message
    message = refusal(run_script(GANConfig()), tmp_path / "conditional.pt")
    assert "or was conditional" in message


@pytest.mark.parametrize("config", [
    CONDITIONAL,
    CONDITIONAL.replace(target="sine", loss="hinge", optimizer="sgd", d_steps=2, seed=4),
], ids=["tutorial", "sine-hinge-sgd"])
def test_the_conditional_script_runs_on_its_own_and_resumes_from_the_command_line(
        config: GANConfig, tmp_path: Path) -> None:
    trainer = Trainer(config)
    trainer.train(5)
    trainer.save(tmp_path / "gan-curve-lab.pt")
    (tmp_path / "run.py").write_text(script(config))
    for extra, first in (([], "step 2: D accuracy="),
                         (["--resume", "gan-curve-lab.pt"], "resumed at step 5\nstep 7: D")):
        result = subprocess.run([sys.executable, "run.py", "--steps", "2", *extra],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(first)
        assert re.search(r"D score= -?\d+\.\d\d \(-?\d\.\d\d for G to converge\)\n$",
                         result.stdout)


# -- the script's own run, measured as the lab measures a run ----------------------------------


def script_quality(seed: int, steps: int) -> tuple[float, float]:
    """Class accuracy and the worst class's in band of the conditional script's own run
    (its seed, its random streams), on 1,000 curves asked half for each class."""
    run = run_script(CONDITIONAL.replace(seed=seed))
    with io.StringIO() as out:
        sys.stdout, saved = out, sys.stdout
        try:
            run.main(["--steps", str(steps)])
        finally:
            sys.stdout = saved
    z = torch.randn(1000, 5, generator=torch.Generator().manual_seed(1))
    labels = np.repeat([0, 1], 500)
    with torch.no_grad():
        inputs = torch.cat((z, torch.from_numpy(labels.astype(np.float32))[:, None]), 1)
        curves = run.G(inputs).numpy()
    target, x = get_target("parabola"), curve_grid(15)
    bands = [in_band_fraction(curves[labels == c], target.class_target(c), x) for c in (0, 1)]
    return class_accuracy(curves, labels, target, x), min(bands)


@pytest.mark.slow
def test_the_conditional_scripts_own_run_paints_each_class_in_its_band() -> None:
    """``python run.py --steps 10000`` of the conditional preset, seed 0: G paints the class
    it is asked for (benchmarks/conditional.py measures this on three seeds beside the lab's
    run)."""
    accuracy, in_band = script_quality(seed=0, steps=10_000)
    assert accuracy >= 0.9 and in_band >= 0.9, (accuracy, in_band)

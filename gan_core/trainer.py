"""One GAN run: the object a notebook or the page holds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from .checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from .config import GANConfig
from .engine import GANStack, NetState
from .forces import curve_forces
from .history import History
from .losses import sigmoid
from .metrics import EVAL_SAMPLES, Metrics, evaluate_member, evaluation_sample, quality_member
from .state import RunState
from .streams import DISCRIMINATOR_MAP, SAMPLE, stream
from .theory import TheoryView, theory_view


class TrainingDiverged(RuntimeError):
    """A loss, an output or a gradient became non-finite or exploded at ``step``; the trainer is
    rewound to a state a few steps earlier whose outputs were finite. Lower a learning rate
    (``reconfigure``) and train on, or start a new trainer."""

    def __init__(self, step: int) -> None:
        super().__init__(
            f"training diverged at step {step}: outputs or gradients became infinite or NaN. "
            "The last finite weights are kept; try lower learning rates.")
        self.step = step


class ConfigChangeError(ValueError):
    """A change that a running trainer cannot take (shapes, target, seed)."""


@dataclass(frozen=True)
class DiscriminatorMap:
    """D's output over the target's plane of curves ``u * b1(x) + v * b2(x)``."""

    u: np.ndarray  # (res_u,)
    v: np.ndarray  # (res_v,)
    prob: np.ndarray  # (res_v, res_u): sigmoid of D's logit for the curve at (u, v)
    generated: np.ndarray  # (n, 2): least-squares position of generated curves on the plane
    real: np.ndarray  # (m, 2): where real curves sit
    u_label: str
    v_label: str


class _Undo:
    """The networks at two recent steps, to rewind a run that blew up.

    The engine sees that an update blew up only at the next forward pass, when the weights it
    produced are already in place (finite, but they explode on any input). Restoring a state
    from before that update gives back weights whose outputs were checked, from which a lower
    learning rate can carry on. Saving every ``EVERY`` steps keeps the copying off the hot loop.
    """

    EVERY = 10

    def __init__(self, stack: GANStack) -> None:
        self._nets = (stack.g, stack.d)
        self._kept: list[tuple[int, tuple[NetState, NetState]]] = []

    def save_if_due(self, step: int) -> None:
        """Keep the state at ``step`` if nothing is kept or the newest is ``EVERY`` old."""
        if self._kept and step - self._kept[-1][0] < self.EVERY:
            return
        self._kept = [*self._kept[-1:], (step, tuple(net.state() for net in self._nets))]

    def restore_before(self, step: int) -> int | None:
        """Put back the newest state kept before ``step``; its step, or None if there is none."""
        kept = [(s, nets) for s, nets in self._kept if s < step]
        if not kept:
            return None
        at, nets = kept[-1]
        for net, state in zip(self._nets, nets, strict=True):
            net.load(state)
        return at

    def forget(self) -> None:
        self._kept = []


class Trainer:
    """Owns G, D, their optimizers and a seeded RNG; the same config gives the same run."""

    def __init__(self, config: GANConfig | None = None) -> None:
        self.config = config or GANConfig()
        self._stack = GANStack(self.config, [self.config.seed])
        self.target = self._stack.target
        self.x: np.ndarray = self._stack.x
        self.step = 0
        self.history = History()
        self._undo = _Undo(self._stack)
        self._sample_rng = stream(self.config.seed, SAMPLE)
        self._record_eval()

    @property
    def diverged(self) -> bool:
        return bool(self._stack.diverged[0])

    # -- training ------------------------------------------------------------------------

    def train(self, steps: int) -> None:
        """Advance ``step`` by ``steps``; raises :class:`TrainingDiverged` and stops early if
        training blows up, rewound (by at most ``_Undo.EVERY`` steps) to a state whose outputs
        were finite."""
        if self.diverged:
            raise TrainingDiverged(self.step)
        stack, series = self._stack, self.history.train
        for _ in range(int(steps)):
            self._undo.save_if_due(self.step)
            stats = stack.train_step(record=series.due(self.step + 1))
            if stack.diverged[0]:
                error = TrainingDiverged(self.step)
                self._rewind()
                raise error
            self.step += 1
            if stats is not None:
                series.append(self.step, [*stats[0], stack.force_sizes()[0]])
            if self.history.eval.due(self.step):
                self._record_eval()

    def train_d(self, n: int = 1) -> None:
        """``n`` updates of D alone, on fresh batches of the training stream, with its own
        optimizer; G's weights and optimizer state stay exactly as they are. ``step`` counts
        training steps (a G update after D's), so it does not move."""
        self._train_one(self._stack.d_update, n)

    def train_g(self, n: int = 1) -> None:
        """``n`` updates of G alone through the current D; D and its optimizer stay exactly as
        they are, and ``step`` does not move."""
        self._train_one(self._stack.g_update, n)

    def _train_one(self, update: Callable[[], None], n: int) -> None:
        """Run ``update`` ``n`` times; if the run blows up, put both networks back as they were
        and raise :class:`TrainingDiverged`."""
        if self.diverged:
            raise TrainingDiverged(self.step)
        stack = self._stack
        before = (stack.g.state(), stack.d.state())
        for _ in range(int(n)):
            update()
            if stack.diverged[0]:
                stack.g.load(before[0])
                stack.d.load(before[1])
                raise TrainingDiverged(self.step)

    def _rewind(self) -> None:
        """Go back to the newest kept state before the one whose outputs blew up, with the
        step and history."""
        step = self._undo.restore_before(self.step)
        if step is not None:
            self.step = step
            self.history.truncate(step)

    def _record_eval(self) -> None:
        self.history.eval.append(
            self.step, quality_member(self._stack, 0, self.config, self.step, EVAL_SAMPLES))

    def reconfigure(self, config: GANConfig) -> list[str]:
        """Apply live-changeable fields, keeping weights, optimizer state, step and history.

        Returns the names of the fields that changed. Raises :class:`ConfigChangeError` (a
        ``ValueError``) naming the fields that need a new trainer.
        """
        changed = self.config.changed_fields(config)
        frozen = self.config.fresh_fields(config)
        if frozen:
            raise ConfigChangeError(
                f"{', '.join(frozen)} cannot change on a running model; start a new Trainer")
        self._stack.set_hparams(config, {})
        self._stack.diverged[:] = False
        self._undo.forget()  # a rewind never crosses a change of optimizer state
        self.config = config
        return changed

    # -- looking at it -------------------------------------------------------------------

    def generate(self, z: np.ndarray) -> np.ndarray:
        """G's curves for given latent vectors ``(n, latent_dim)``."""
        return self._stack.generate(z)

    def sample(self, n: int) -> np.ndarray:
        """``n`` generated curves ``(n, n_points)`` from fresh noise."""
        z = self._sample_rng.standard_normal((n, self.config.latent_dim), dtype=np.float32)
        return self.generate(z)

    def real_samples(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` curves of the target family (a fixed set per ``seed``)."""
        return self.target.sample(np.random.default_rng(seed), n, self.x)

    def discriminate(self, curves: np.ndarray) -> np.ndarray:
        """D(x) = sigmoid(logit) for curves ``(n, n_points)``."""
        return sigmoid(self._stack.discriminate(curves))

    def evaluate(self, n: int = EVAL_SAMPLES) -> Metrics:
        """Metrics on ``n`` generated and ``n`` real curves drawn for this step only (the
        training RNG is untouched, so evaluating never changes the run)."""
        return evaluate_member(self._stack, 0, self.config, self.step, n)

    def forces(self, z: np.ndarray, loss: str | None = None) -> np.ndarray:
        """The push G receives at each of its curves for latent vectors ``z``: an array like
        ``generate(z)`` holding ``-d l_G / d x``, float64, under ``loss`` (default: the run's).

        ``l_G`` is a curve's own G loss (:func:`gan_core.losses.generator_loss`), so this is
        the gradient per curve, ``batch`` times what a training step gives each curve of its
        batch (the step averages over it). Changes nothing.
        """
        return curve_forces(self._stack, self.generate(z), loss or self.config.loss)

    def theory(self, n: int = EVAL_SAMPLES) -> TheoryView:
        """The optimal discriminator for the current G beside the learned one, and the JSD
        they imply, on the same ``n`` generated and real curves as :meth:`evaluate` (so the
        same ``jsd`` and ``jsd_d``). See :mod:`gan_core.theory`."""
        sample = evaluation_sample(self._stack, 0, self.config, self.step, n)
        return theory_view(self.target, self.x, sample.fake_params, sample.l_real,
                           sample.l_fake, self._stack.discriminate, self.config.loss)

    def discriminator_map(self, resolution: int = 41, n_generated: int = 200,
                          n_real: int = 100) -> DiscriminatorMap:
        """D's output over a grid of the target's plane, and where curves fall on it."""
        plane = self.target.plane
        u = np.linspace(*plane.u_range, resolution)
        v = np.linspace(*plane.v_range, resolution)
        uu, vv = np.meshgrid(u, v)
        coords = np.stack([uu.ravel(), vv.ravel()], axis=1)
        curves = coords @ self.target.plane_basis(self.x.astype(np.float64))
        with np.errstate(all="ignore"):
            prob = self.discriminate(curves).reshape(resolution, resolution)
        rng = stream(self.config.seed, DISCRIMINATOR_MAP)
        z = rng.standard_normal((n_generated, self.config.latent_dim), dtype=np.float32)
        generated = self.target.plane_coords(self.generate(z), self.x)
        return DiscriminatorMap(u, v, prob, generated, self.target.real_plane_coords(n_real),
                                plane.u_label, plane.v_label)

    # -- state and checkpoints -------------------------------------------------------------

    def state(self) -> RunState:
        """A copy of everything that decides how this run continues."""
        stack = self._stack
        return RunState(self.config, self.step, stack.g.state(), stack.d.state(),
                        copy.deepcopy(stack.rngs[0].bit_generator.state), self.history.state())

    @classmethod
    def from_state(cls, state: RunState) -> Trainer:
        """The run ``state`` describes, continuing exactly as the run it was taken from.
        Raises ``ValueError`` naming what does not fit its config."""
        trainer = cls(state.config)
        if isinstance(state.step, bool) or not isinstance(state.step, int) or state.step < 0:
            raise ValueError(f"step {state.step!r} is not a step count")
        for name, net, saved in (("g", trainer._stack.g, state.g),
                                 ("d", trainer._stack.d, state.d)):
            for key in ("params", "m", "v"):
                if not np.isfinite(getattr(saved, key)).all():
                    raise ValueError(f"{name}.{key} holds non-finite values")
            if isinstance(saved.t, bool) or not isinstance(saved.t, int) or saved.t < 0:
                raise ValueError(f"{name}.t is not a step count")
            try:
                net.load(saved)
            except ValueError as exc:
                raise ValueError(f"{name}.{exc}") from None
        trainer._stack.rngs[0].bit_generator.state = state.rng
        trainer.history.load_state(state.history)
        trainer.step = state.step
        return trainer

    def save(self, f: str | BinaryIO) -> None:
        """Write a checkpoint: config, weights, optimizer and RNG state, step and history."""
        write_checkpoint(self.state(), f)

    @classmethod
    def load(cls, f: str | BinaryIO) -> Trainer:
        """Read a checkpoint written by :meth:`save`; raises ``CheckpointError`` (a
        ``ValueError``) for anything else, without running code from the file."""
        state = read_checkpoint(f)
        try:
            return cls.from_state(state)
        except CheckpointError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CheckpointError(f"not a valid checkpoint: {exc}") from None

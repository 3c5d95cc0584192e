"""A ghost: the run as it would have gone without one live change, trained beside it.

``Trainer.fork(config)`` takes ``config`` live and keeps a ghost that did not: the ghost keeps
the old values of the settings that changed (:attr:`Ghost.kept`) and shares everything else that
happens to the run afterwards (later changes of other settings, one-network updates and the
training batches themselves), so it answers "what if I had not changed that?". The live run
goes on exactly as it would without a ghost.

How it trains depends on what the change touched:

* learning rates, betas, momentum, the loss or a stabilizer (``engine.MEMBER_FIELDS``), which
  may differ between the members of one stack: the ghost is member 1 of the live run's stack,
  with a copy of the live training stream, so both draw the same batches in one stacked pass
  (``benchmarks/fork.py`` measures the cost against a step without a ghost). Instance noise
  and WGAN-GP's mixing weights are drawn from that stream too, where the live run uses them:
  then the ghost sees the live run's batches, the same data, and is not bit for bit the run
  that never changed; what only the ghost uses it draws from a stream of its own;
* batch size, D steps or the optimizer, which a stacked pass shares: the ghost is a second
  trainer, a copy of the run that is brought to the live step after every call, at the cost
  of a step of its own.

A ghost that blows up stops where it was (``stopped_at``); the live run does not notice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..gan.config import GANConfig
from ..gan.engine import MEMBER_FIELDS, GANStack
from ..gan.history import History
from ..gan.losses import sigmoid
from ..gan.schedule import Change, FrozenMapping
from ..gan.state import RunState
from ..gan.streams import GHOST_DRAWS, SAMPLE, stream
from ..measure.discriminator_map import DiscriminatorMap, discriminator_map
from ..measure.metrics import (
    EVAL_SAMPLES,
    DataMetrics,
    Metrics,
    evaluate_member,
    quality_member,
)
from .errors import TrainingDiverged

if TYPE_CHECKING:
    from .trainer import Trainer

STACKED_FIELDS = MEMBER_FIELDS
"""Settings whose ghost trains as a second member of the live stack."""


def member_hparams(live: GANConfig, ghost: GANConfig) -> dict[str, list[Any]]:
    """Per-member settings of a stack whose member 0 is the live run and member 1 the ghost."""
    return {name: [getattr(live, name), getattr(ghost, name)] for name in MEMBER_FIELDS}


def twin_stack(stack: GANStack, ghost: GANConfig) -> GANStack:
    """A two-member stack: member 0 is ``stack``'s only member as it stands, member 1 a copy
    with settings ``ghost``; both draw the same batches, from member 0's training stream."""
    live = stack.config
    twin = GANStack(live, [live.seed, live.seed], member_hparams(live, ghost), stack.target)
    nets, stream_state = (stack.g.state(), stack.d.state()), stack.rngs[0].bit_generator.state
    for k in range(2):
        twin.g.load(nets[0], k)
        twin.d.load(nets[1], k)
    twin.rngs[0].bit_generator.state = stream_state
    twin.same_batches = True  # member 1's stream would be a copy of member 0's: draw once
    twin.rngs[1] = stream(live.seed, GHOST_DRAWS)  # for noise or mixes only the ghost uses
    twin.diverged[0] = stack.diverged[0]
    return twin


def single_stack(stack: GANStack) -> GANStack:
    """A one-member stack holding member 0 of ``stack`` as it stands."""
    config = stack.config
    single = GANStack(config, [config.seed], target=stack.target)
    single.g.load(stack.g.state())
    single.d.load(stack.d.state())
    single.rngs[0].bit_generator.state = stack.rngs[0].bit_generator.state
    single.diverged[0] = stack.diverged[0]
    return single


def sample_curves(rng: np.random.Generator, stack: GANStack, config: GANConfig, n: int,
                  label: float | None, generate: Callable[..., np.ndarray]) -> np.ndarray:
    """``n`` curves from fresh noise of ``rng`` (then, in a conditional run asked for no class,
    the classes from the same stream, as often as the real curves have them)."""
    z = rng.standard_normal((n, config.latent_dim), dtype=np.float32)
    if not stack.label_width:
        if label is not None:
            raise ValueError("label: this run is not conditional; its G paints no class")
        return generate(z)
    if label is None:
        labels = rng.choice(stack.n_classes, size=n, p=stack.target.class_shares())
    else:
        labels = np.full(n, label)
    return generate(z, labels)


class Ghost(ABC):
    """What a ghost shows: its settings, curves, history and metrics, as a trainer shows its
    own. The live trainer trains it; a ghost has no training methods of its own."""

    def __init__(self, kept: Mapping[str, Any], forked_at: int) -> None:
        self.kept = FrozenMapping(kept.items())
        """The settings the ghost kept from before the fork, with their values."""
        self.forked_at = forked_at
        """The step the ghost and the live run parted at."""
        self.stopped_at: int | None = None
        """The step at which the ghost blew up and stopped, or None."""
        self._sample_rng: np.random.Generator | None = None

    # -- what each kind of ghost provides ----------------------------------------------------

    stacked: bool
    """Is the ghost a member of the live run's stack (else a trainer of its own)?"""

    @property
    @abstractmethod
    def config(self) -> GANConfig:
        """The ghost's settings: the live ones, with the kept settings at their old values."""

    @property
    @abstractmethod
    def step(self) -> int:
        """The step the ghost stands at: the live run's, or the one it stopped at."""

    @property
    @abstractmethod
    def history(self) -> History:
        """The ghost's history: the run's up to the fork, its own since."""

    @property
    @abstractmethod
    def changes(self) -> tuple[Change, ...]:
        """The ghost's schedule: the run's changes up to the fork, and those it shared since."""

    @abstractmethod
    def _stack_member(self) -> tuple[GANStack, int]:
        """The stack that holds the ghost's networks, and which member they are."""

    @abstractmethod
    def follow(self, step: int) -> None:
        """Come to the live run's ``step``: before a change is shared, and after training."""

    @abstractmethod
    def take(self, live: GANConfig, step: int) -> GANConfig:
        """Share a live change of settings (the kept ones stay); the ghost's new settings."""

    @abstractmethod
    def act(self, name: str, n: int, step: int) -> None:
        """Share a one-network update the live run made (``name`` is ``train_d`` or
        ``train_g``)."""

    # -- looking at it ----------------------------------------------------------------------

    @property
    def diverged(self) -> bool:
        return self.stopped_at is not None

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """The ghost's curves, in the curves' own units (as ``Trainer.generate``)."""
        stack, member = self._stack_member()
        return stack.target.shown(stack.generate(z, member, labels))

    def sample(self, n: int, label: float | None = None) -> np.ndarray:
        """``n`` curves from fresh noise (the ghost's own sampling stream), as
        ``Trainer.sample``."""
        if self._sample_rng is None:
            self._sample_rng = stream(self.config.seed, SAMPLE)
        stack, _ = self._stack_member()
        return sample_curves(self._sample_rng, stack, self.config, n, label, self.generate)

    def discriminate(self, curves: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """As ``Trainer.discriminate``: D's probabilities, or a critic's scores."""
        stack, member = self._stack_member()
        logits = stack.discriminate(stack.target.trained(curves), member, labels)
        return logits if self.config.loss == "wasserstein" else sigmoid(logits)

    def evaluate(self, n: int = EVAL_SAMPLES) -> Metrics | DataMetrics:
        """The same metrics, on the same curves, as ``Trainer.evaluate`` of a run in this
        state."""
        stack, member = self._stack_member()
        return evaluate_member(stack, member, self.config, self.step, n)

    def discriminator_map(self, resolution: int = 41, n_generated: int = 200,
                          n_real: int = 100, label: int | None = None) -> DiscriminatorMap:
        stack, member = self._stack_member()
        return discriminator_map(stack, member, self.config, resolution, n_generated, n_real,
                                 label)

    def state(self) -> RunState:
        """The ghost as a run: ``Trainer.from_state`` of it goes on as the ghost would."""
        stack, member = self._stack_member()
        rng = stack.rngs[0 if stack.same_batches else member]
        return RunState(self.config, self.step, stack.g.state(member), stack.d.state(member),
                        rng.bit_generator.state, self.history.state(), self.changes,
                        stack.target.data)


class TwinGhost(Ghost):
    """Member 1 of the live run's stack; the live trainer records its history."""

    stacked = True

    def __init__(self, owner: Trainer, kept: Mapping[str, Any]) -> None:
        super().__init__(kept, owner.step)
        self._owner = owner
        self._config = owner.config
        self._history = History(owner.config.conditional, data=owner.data is not None)
        self._history.load_state(owner.history.state())
        self._changes = list(owner.changes)

    @property
    def config(self) -> GANConfig:
        return self._config

    @property
    def step(self) -> int:
        return self._owner.step if self.stopped_at is None else self.stopped_at

    @property
    def history(self) -> History:
        return self._history

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(self._changes)

    def _stack_member(self) -> tuple[GANStack, int]:
        return self._owner._stack, 1

    def follow(self, step: int) -> None:
        """Nothing to do: the twin trains in the live run's own passes."""

    def take(self, live: GANConfig, step: int) -> GANConfig:
        if self.stopped_at is not None:  # frozen: its settings no longer matter
            return self._config
        new = live.replace(**self.kept)
        settings = {name: getattr(new, name) for name in self._config.changed_fields(new)}
        if settings:
            before = {name: getattr(self._config, name) for name in settings}
            self._changes.append(Change(step, settings, before))
            self._config = new
        return new

    def act(self, name: str, n: int, step: int) -> None:
        if self.stopped_at is None:
            self._changes.append(Change(step, {name: n}))

    def record(self, step: int, stats: np.ndarray) -> None:
        """The batch statistics of one step, as the live run records its own."""
        self._history.train.append(step, stats[1])

    def record_eval(self, step: int) -> None:
        stack = self._owner._stack
        self._history.eval.append(step, quality_member(stack, 1, self._config, step,
                                                       EVAL_SAMPLES))


class FollowerGhost(Ghost):
    """A second trainer, brought to the live step after every call."""

    stacked = False

    def __init__(self, follower: Trainer, kept: Mapping[str, Any]) -> None:
        super().__init__(kept, follower.step)
        self._trainer = follower

    @property
    def config(self) -> GANConfig:
        return self._trainer.config

    @property
    def step(self) -> int:
        return self._trainer.step

    @property
    def history(self) -> History:
        return self._trainer.history

    @property
    def changes(self) -> tuple[Change, ...]:
        return self._trainer.changes

    def _stack_member(self) -> tuple[GANStack, int]:
        return self._trainer._stack, 0

    def follow(self, step: int) -> None:
        trainer = self._trainer
        if self.stopped_at is not None or trainer.step == step:
            return
        if trainer.step > step:  # the live run undid a blown-up update: go back with it
            trainer.rewind(step)
            return
        try:
            trainer.train(step - trainer.step)
        except TrainingDiverged:
            self.stopped_at = trainer.step

    def take(self, live: GANConfig, step: int) -> GANConfig:
        self.follow(step)
        new = live.replace(**self.kept)
        if self.stopped_at is None:
            self._trainer.reconfigure(new)
        return new

    def act(self, name: str, n: int, step: int) -> None:
        self.follow(step)
        if self.stopped_at is not None:
            return
        try:
            getattr(self._trainer, name)(n)
        except TrainingDiverged:
            self.stopped_at = self._trainer.step

"""One GAN run: the object a notebook or the page holds.

A run is its start config and a schedule: every live change of a setting and every update of one
network alone is recorded (``changes``) at the step it was made, so ``Trainer(start_config,
schedule=changes)`` trained as far repeats it exactly. Snapshots kept across the run let it be
shown as it was at an earlier step (``at``) or taken back there (``rewind``), and a ghost
(``fork``) trains beside it to show how it would have gone without a change.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import numpy as np

from ..data.curves import Curves
from ..files.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from ..gan.config import GANConfig
from ..gan.engine import GANStack
from ..gan.history import History
from ..gan.losses import sigmoid
from ..gan.schedule import MAX_UPDATES, Change, check_changes, start_config
from ..gan.state import RunState
from ..gan.streams import SAMPLE, stream
from ..gan.targets import data_target
from ..measure.discriminator_map import DiscriminatorMap, discriminator_map
from ..measure.forces import curve_forces
from ..measure.metrics import (
    EVAL_SAMPLES,
    DataMetrics,
    DataReadouts,
    Metrics,
    Readouts,
    class_sample,
    evaluate_member,
    evaluation_sample,
    quality_member,
    readouts_member,
)
from ..measure.theory import TheoryView, theory_view
from .errors import ConfigChangeError, TrainingDiverged
from .fork import (
    STACKED_FIELDS,
    FollowerGhost,
    Ghost,
    TwinGhost,
    member_hparams,
    sample_curves,
    single_stack,
    twin_stack,
)
from .snapshots import Snapshot, Snapshots, copy_stack, restore_stack, snapshot_capacity


class _Undo:
    """The run at two recent steps, to rewind a run that blew up.

    The engine sees that an update blew up only at the next forward pass, when the weights it
    produced are already in place (finite, but they explode on any input). Restoring a state
    from before that update gives back weights whose outputs were checked, from which a lower
    learning rate can carry on. Saving every ``EVERY`` steps keeps the copying off the hot loop.
    A saved state is the whole run (networks, training stream, history), so the run goes on
    from it exactly as it went from that step before; every recorded change forgets them, so
    a rewind never crosses one.
    """

    EVERY = 10

    def __init__(self, capture: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self._capture, self._restore = capture, restore
        self._kept: list[tuple[int, Any]] = []

    def save_if_due(self, step: int) -> None:
        """Keep the state at ``step`` if nothing is kept or the newest is ``EVERY`` old."""
        if self._kept and step - self._kept[-1][0] < self.EVERY:
            return
        self._kept = [*self._kept[-1:], (step, self._capture())]

    def restore_before(self, step: int) -> int | None:
        """Put back the newest state kept before ``step`` (or the one at ``step`` if there is
        none before: the run then stays at its step, but as it was, its training stream
        included); its step, or None if nothing is kept."""
        kept = [(s, saved) for s, saved in self._kept if s < step] or \
            [(s, saved) for s, saved in self._kept if s == step]
        if not kept:
            return None
        at, saved = kept[-1]
        self._restore(saved)
        return at

    def forget(self) -> None:
        self._kept = []


class Trainer:
    """Owns G, D, their optimizers and a seeded RNG; the same config gives the same run.

    ``schedule`` is changes to make as the run reaches their steps (``planned``), as
    :attr:`changes` of an earlier run recorded them: each is applied when ``train`` stands at
    its step, before the next step trains (and at the end of a ``train`` call that stops
    there). A change made by hand takes the run off the rest of its plan.

    ``data`` are your curves (``gan_core.data.Curves``) for a config of target ``"data"``;
    points per curve follow them (the config's ``n_points`` becomes theirs). Curves far from
    the tutorial's range train on a normalised copy; :meth:`generate`, :meth:`sample`,
    :meth:`real_samples`, :meth:`discriminate` and :meth:`forces` speak the curves' own units.
    """

    def __init__(self, config: GANConfig | None = None,
                 schedule: Iterable[Change] = (), data: Curves | None = None) -> None:
        config = config or GANConfig()
        if (config.target == "data") != (data is not None):
            raise ValueError("target 'data' learns your curves: give them as data=Curves(...)"
                             if data is None else f"data are learned with target 'data', not "
                             f"{config.target!r}")
        if data is not None and not isinstance(data, Curves):
            raise ValueError(f"data: expected gan_core.data.Curves, got {type(data).__name__}")
        if data is not None and config.n_points != data.n_points:
            config = config.replace(n_points=data.n_points)
        self.config = config
        self.data = data
        """Your curves, for target ``"data"`` (None otherwise)."""
        plan = check_changes(schedule, self.config)
        self._stack = GANStack(self.config, [self.config.seed],
                               target=None if data is None else data_target(data))
        self.target = self._stack.target
        self.x: np.ndarray = self._stack.x
        self.step = 0
        self.history = History(self.config.conditional, data=data is not None)
        self._changes: list[Change] = []
        self._plan: deque[Change] = deque(plan)
        self._ghost: Ghost | None = None
        self._undo = _Undo(self._capture, self._restore)
        self._snapshots = Snapshots(snapshot_capacity(self.config, self.target))
        self._sample_rng = stream(self.config.seed, SAMPLE)
        self._record_eval()
        self._snapshots.add(Snapshot(self.state()))
        self._due = self._next_due()

    @property
    def diverged(self) -> bool:
        return bool(self._stack.diverged[0])

    # -- the schedule --------------------------------------------------------------------

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every change made to the run so far, in order (each with its ``before``)."""
        return tuple(self._changes)

    @property
    def planned(self) -> tuple[Change, ...]:
        """Changes of the schedule the run has not reached yet."""
        return tuple(self._plan)

    @property
    def start_config(self) -> GANConfig:
        """The config the run started from: ``config`` with every change undone."""
        return start_config(self.config, self._changes)

    def _next_due(self) -> int:
        """The next step at which something is due: a snapshot or a planned change."""
        due = self._snapshots.next_due(self.step)
        return min(due, self._plan[0].step) if self._plan else due

    def _arrive(self) -> None:
        """Do what is due at the step the run stands at: first a snapshot (the run as it
        arrived), then the planned changes of this step, in order. A planned change that blows
        the run up ends the plan."""
        if self._snapshots.due(self.step):
            self._snapshots.add(Snapshot(self.state()))
        try:
            while self._plan and self._plan[0].step == self.step:
                change = self._plan.popleft()
                action = change.action
                if action is None:
                    self._set(self.config.replace(**change.settings), by_hand=False)
                else:
                    self._act(*action)
        except TrainingDiverged:
            self._plan.clear()
            raise
        finally:
            self._due = self._next_due()

    def _record(self, change: Change, by_hand: bool) -> None:
        """Add ``change`` to the run's changes. A change of settings made by hand before the
        run has moved (step 0, nothing changed yet) is where the run starts instead."""
        self._undo.forget()
        if by_hand and change.action is None and self.step == 0 and not self._changes:
            self._snapshots = Snapshots(snapshot_capacity(self.config, self.target))
            self._snapshots.add(Snapshot(self.state()))
            self._due = self._next_due()
            return
        self._changes.append(change)

    # -- training ------------------------------------------------------------------------

    def train(self, steps: int) -> None:
        """Advance ``step`` by ``steps``, applying planned changes as their steps come; raises
        :class:`TrainingDiverged` and stops early if training blows up, rewound (by at most
        ``_Undo.EVERY`` steps) to a state whose outputs were finite."""
        if self.diverged:
            raise TrainingDiverged(self.step)
        stack, series = self._stack, self.history.train
        twin = self._ghost if isinstance(self._ghost, TwinGhost) else None
        try:
            for _ in range(int(steps)):
                if self.step >= self._due:
                    self._arrive()
                self._undo.save_if_due(self.step)
                stats = stack.train_step(record=series.due(self.step + 1), step=self.step)
                if stack.diverged[0]:
                    error = TrainingDiverged(self.step)
                    self._undo_blow_up()
                    raise error
                if twin is not None and twin.stopped_at is None and stack.diverged[1]:
                    twin.stopped_at = self.step
                self.step += 1
                if stats is not None:
                    series.append(self.step, stats[0])
                    if twin is not None and twin.stopped_at is None:
                        twin.record(self.step, stats)
                if self.history.eval.due(self.step):
                    self._record_eval()
            if self.step >= self._due:
                self._arrive()
        finally:
            if self._ghost is not None:
                self._ghost.follow(self.step)

    def train_d(self, n: int = 1) -> None:
        """``n`` updates of D alone, on fresh batches of the training stream, with its own
        optimizer; G's weights and optimizer state stay exactly as they are. ``step`` counts
        training steps (a G update after D's), so it does not move: the updates are recorded
        as a change at this step."""
        self._one_network("train_d", n)

    def train_g(self, n: int = 1) -> None:
        """``n`` updates of G alone through the current D; D and its optimizer stay exactly as
        they are, and ``step`` does not move (recorded as a change at this step)."""
        self._one_network("train_g", n)

    def _one_network(self, name: str, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) \
                or not 0 <= n <= MAX_UPDATES:
            raise ValueError(f"{name}: {n!r} is not a number of updates between 0 and "
                             f"{MAX_UPDATES:,}")
        if self.diverged:
            raise TrainingDiverged(self.step)
        if n == 0:
            return
        self._plan.clear()
        self._due = self._next_due()
        self._act(name, int(n))

    def _act(self, name: str, n: int) -> None:
        """Run ``n`` updates of one network and record them; if the run blows up, put it back
        as it was (networks and training stream: as if nothing was done, so nothing is
        recorded) and raise :class:`TrainingDiverged`."""
        if self.diverged:
            raise TrainingDiverged(self.step)
        if self._ghost is not None:
            self._ghost.follow(self.step)
        stack = self._stack
        update = stack.d_update if name == "train_d" else stack.g_update
        before = copy_stack(stack)
        for _ in range(n):
            update(self.step)
            if stack.diverged[0]:
                restore_stack(stack, before)
                stack.diverged[1:] = before.diverged[1:]
                raise TrainingDiverged(self.step)
        twin = self._ghost if isinstance(self._ghost, TwinGhost) else None
        if twin is not None and twin.stopped_at is None and stack.diverged[1]:
            twin.stopped_at = self.step
        if self._ghost is not None:
            self._ghost.act(name, n, self.step)
        self._record(Change(self.step, {name: n}), by_hand=False)

    def _capture(self) -> tuple[Any, ...]:
        twin = self._ghost if isinstance(self._ghost, TwinGhost) else None
        return (copy_stack(self._stack), self.history.state(),
                None if twin is None else (twin.history.state(), twin.stopped_at))

    def _restore(self, saved: tuple[Any, ...]) -> None:
        stack_copy, history, twin_saved = saved
        restore_stack(self._stack, stack_copy)
        self._stack.diverged[1:] = stack_copy.diverged[1:]  # the live run stays diverged
        self.history.load_state(history)
        if isinstance(self._ghost, TwinGhost) and twin_saved is not None:
            self._ghost.history.load_state(twin_saved[0])
            self._ghost.stopped_at = twin_saved[1]

    def _undo_blow_up(self) -> None:
        """Go back to the newest kept state before the one whose outputs blew up, with the
        step, training stream and history."""
        step = self._undo.restore_before(self.step)
        if step is not None:
            self.step = step
            self._snapshots.truncate(step)
            self._due = self._next_due()

    def _record_eval(self) -> None:
        self.history.eval.append(
            self.step, quality_member(self._stack, 0, self.config, self.step, EVAL_SAMPLES))
        if isinstance(self._ghost, TwinGhost) and self._ghost.stopped_at is None:
            self._ghost.record_eval(self.step)

    def reconfigure(self, config: GANConfig) -> list[str]:
        """Apply live-changeable fields, keeping weights, optimizer state, step and history.

        Returns the names of the fields that changed, and records the change at this step.
        Raises :class:`ConfigChangeError` (a ``ValueError``) naming the fields that need a new
        trainer. The same config again changes nothing (but a run stopped by divergence may
        try again).
        """
        changed = self._live_changes(config)
        if not changed:
            self._stack.diverged[0] = False
            self._undo.forget()
            return []
        self._plan.clear()
        self._set(config, by_hand=True)
        return changed

    def _set(self, config: GANConfig, by_hand: bool) -> None:
        """Take new live settings (shared with the ghost, but for those it kept) and record
        the change."""
        settings = {name: getattr(config, name) for name in self.config.changed_fields(config)}
        before = {name: getattr(self.config, name) for name in settings}
        hparams: dict[str, list[Any]] = {}
        if self._ghost is not None:
            ghost_config = self._ghost.take(config, self.step)
            if self._ghost.stacked:
                hparams = member_hparams(config, ghost_config)
        self._stack.set_hparams(config, hparams)
        self._stack.diverged[0] = False
        self.config = config
        self._record(Change(self.step, settings, before), by_hand)

    # -- going back and forking -----------------------------------------------------------

    @property
    def snapshots(self) -> tuple[int, ...]:
        """The steps of the snapshots kept, oldest first: ``at`` and ``rewind`` reach any step
        from the first, replaying from the newest snapshot before it."""
        return self._snapshots.steps

    @property
    def snapshot_bytes(self) -> int:
        """Bytes of arrays the snapshots hold now (at most
        ``snapshots.max_snapshot_memory(config)``)."""
        return self._snapshots.nbytes

    def at(self, step: int) -> Trainer:
        """The run as it arrived at ``step`` (before any change made at that step), as a
        trainer of its own to look at or train: the live run is untouched. Restores the newest
        snapshot at or before ``step`` and replays the recorded changes to it, so it costs up
        to a snapshot interval of training; raises ``ValueError`` for a step the run has not
        reached or that is before its first snapshot."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) \
                or not 0 <= step <= self.step:
            raise ValueError(f"step {step!r} is not a step of this run (0 to {self.step:,})")
        snapshot = self._snapshots.latest(int(step))
        if snapshot is None:
            raise ValueError(f"step {step:,} is before the run's first snapshot (step "
                             f"{self.snapshots[0]:,}, where it was loaded)")
        moment = Trainer.from_state(snapshot.state)
        applied = len(snapshot.state.changes)
        moment._plan = deque(c for c in self._changes[applied:] if c.step < step)
        moment._due = moment._next_due()
        moment.train(int(step) - snapshot.step)
        return moment

    def rewind(self, step: int, *, replay: bool = False) -> tuple[Change, ...]:
        """Make the run as it arrived at ``step`` the live run (see :meth:`at`): the
        snapshots, changes and history after it are dropped, and the ghost too. With
        ``replay`` the dropped changes become the plan, so training on repeats the run as it
        went; without, the run is free to go another way. Returns the dropped changes."""
        moment = self.at(step)
        dropped = tuple(self._changes[len(moment._changes):])
        self._ghost = None
        self._stack = moment._stack
        self.config, self.step, self.history = moment.config, moment.step, moment.history
        self._changes = moment._changes
        self._plan = deque(dropped if replay else ())
        self._undo.forget()
        self._snapshots.truncate(self.step)
        self._due = self._next_due()
        return dropped

    @property
    def ghost(self) -> Ghost | None:
        """The twin forked at the last :meth:`fork`, or None."""
        return self._ghost

    def _live_changes(self, config: GANConfig) -> list[str]:
        """The fields ``config`` changes; :class:`ConfigChangeError` if one needs a new model."""
        frozen = self.config.fresh_fields(config)
        if frozen:
            raise ConfigChangeError(
                f"{', '.join(frozen)} cannot change on a running model; start a new Trainer")
        return self.config.changed_fields(config)

    def fork(self, config: GANConfig) -> list[str]:
        """Take ``config`` live as :meth:`reconfigure` does, and keep a ghost that did not:
        the run as it would go on without this change, trained beside it on the same batches
        (see ``gan_core.training.fork``). Replaces an earlier ghost; the live run goes on exactly as
        without one. Raises ``ValueError`` if ``config`` changes nothing."""
        changed = self._live_changes(config)
        if not changed:
            raise ValueError("fork: config holds the run's own settings; a ghost keeps the "
                             "settings a change replaces, so fork with a change")
        self.drop_ghost()
        kept = {name: getattr(self.config, name) for name in changed}
        if set(changed) <= set(STACKED_FIELDS):
            self._ghost = TwinGhost(self, kept)
            self._stack = twin_stack(self._stack, self.config)
        else:
            self._ghost = FollowerGhost(Trainer.from_state(self.state()), kept)
        self._undo.forget()
        self._plan.clear()
        self._set(config, by_hand=True)
        return changed

    def drop_ghost(self) -> None:
        """Dismiss the ghost (if any); the live run goes on as it was."""
        if isinstance(self._ghost, TwinGhost):
            self._stack = single_stack(self._stack)
            self._undo.forget()
        self._ghost = None

    # -- looking at it -------------------------------------------------------------------

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """G's curves for given latent vectors ``(n, latent_dim)``, in the curves' own units;
        a conditional run's G also needs the class of each (``labels`` ``(n,)``: classes, or
        with two classes any label from 0 to 1, a blend of the two; see
        ``gan_core.gan.labels.label_columns``)."""
        return self.target.shown(self._stack.generate(z, 0, labels))

    def sample(self, n: int, label: float | None = None) -> np.ndarray:
        """``n`` generated curves ``(n, n_points)`` from fresh noise. A conditional run's are
        of class ``label`` (with two classes, any label from 0 to 1), or with None of classes
        drawn as often as the real curves have them."""
        return sample_curves(self._sample_rng, self._stack, self.config, n, label,
                             self.generate)

    def real_samples(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` curves of the target family (a fixed set per ``seed``)."""
        return self.target.shown(self.target.sample(np.random.default_rng(seed), n, self.x))

    def discriminate(self, curves: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """D(x) = sigmoid(logit) for curves ``(n, n_points)``; under the wasserstein loss the
        critic's score itself (what the tutorial's ``D`` module outputs: a critic has no
        Sigmoid). A conditional run's D is told the class of each (``labels``, as
        :meth:`generate` takes them)."""
        logits = self._stack.discriminate(self.target.trained(curves), 0, labels)
        return logits if self.config.loss == "wasserstein" else sigmoid(logits)

    def evaluate(self, n: int = EVAL_SAMPLES) -> Metrics | DataMetrics:
        """Metrics on ``n`` generated and ``n`` real curves drawn for this step only (the
        training RNG is untouched, so evaluating never changes the run): :class:`Metrics` for
        the built-in families, :class:`DataMetrics` (``in_band``, ``sliced_w1``,
        ``precision``, ``recall``, ``nearest_real``, ...) for your data. A conditional run's G
        is asked for the real curves' classes; per class in ``Metrics.classes``."""
        return evaluate_member(self._stack, 0, self.config, self.step, n)

    def readouts(self, n: int = EVAL_SAMPLES) -> Readouts | DataReadouts:
        """What the live view shows of :meth:`evaluate`, the same numbers, for less work."""
        return readouts_member(self._stack, 0, self.config, self.step, n)

    def forces(self, z: np.ndarray, loss: str | None = None,
               labels: np.ndarray | None = None) -> np.ndarray:
        """The push G receives at each of its curves for latent vectors ``z`` (and in a
        conditional run the classes asked for, ``labels``): an array like
        ``generate(z, labels)`` holding ``-d l_G / d x``, float64, under ``loss`` (default: the
        run's).

        ``l_G`` is a curve's own G loss (:func:`gan_core.gan.losses.generator_loss`), so this is
        the gradient per curve, ``batch`` times what a training step gives each curve of its
        batch (the step averages over it). Changes nothing. For curves trained on a normalised
        copy, the gradient with respect to the curves' own units.
        """
        fake = self._stack.generate(z, 0, labels)
        forces = curve_forces(self._stack, fake, loss or self.config.loss, 0, labels)
        return forces / self.target.unit

    def theory(self, n: int = EVAL_SAMPLES, label: int | None = None) -> TheoryView:
        """The optimal discriminator for the current G beside the learned one, and the JSD
        they imply, on the same ``n`` generated and real curves as :meth:`evaluate` (so the
        same ``jsd`` and ``jsd_d``). See :mod:`gan_core.measure.theory`. For your data it is
        along their first principal component; raises ``ValueError`` with
        ``target.theory_reason`` for data too few for a density. A conditional run's is of one
        class, ``label``: G asked for it, D told it, against that class's law."""
        if self.target.theory_reason is not None:
            raise ValueError(self.target.theory_reason)
        stack, loss, real_label = self._stack, self.config.loss, self.config.real_label
        if not stack.label_width:
            if label is not None:
                raise ValueError("label: this run is not conditional; its D reads no class")
            sample = evaluation_sample(stack, 0, self.config, self.step, n, slope=False)
            return theory_view(self.target, self.x, sample.fake_params, sample.l_real,
                               sample.l_fake, stack.discriminate, loss, real_label)
        if label is None:
            raise ValueError("label: a conditional run's theory is of one class; name it")
        sample = class_sample(stack, 0, self.config, self.step, label, n)
        return theory_view(self.target.class_target(label), self.x, sample.fake_params,
                           sample.l_real, sample.l_fake,
                           lambda curves: stack.discriminate(curves, 0,
                                                             np.full(len(curves), label)),
                           loss, real_label)

    def discriminator_map(self, resolution: int = 41, n_generated: int = 200,
                          n_real: int = 100, label: int | None = None) -> DiscriminatorMap:
        """D's output over a grid of the target's plane, and where curves fall on it; a
        conditional run's for one class, ``label``."""
        return discriminator_map(self._stack, 0, self.config, resolution, n_generated, n_real,
                                 label)

    # -- state and checkpoints -------------------------------------------------------------

    def state(self) -> RunState:
        """A copy of everything that decides how this run continues, and the changes that
        brought it here (a plan still ahead is not part of it)."""
        stack = self._stack
        return RunState(self.config, self.step, stack.g.state(), stack.d.state(),
                        copy.deepcopy(stack.rngs[0].bit_generator.state), self.history.state(),
                        tuple(self._changes), self.data)

    @classmethod
    def from_state(cls, state: RunState) -> Trainer:
        """The run ``state`` describes, continuing exactly as the run it was taken from, its
        changes included (it has no plan, snapshots from ``state.step`` on, and no ghost).
        Raises ``ValueError`` naming what does not fit its config."""
        if state.data is not None and state.data.n_points != state.config.n_points:
            raise ValueError(f"data: curves of {state.data.n_points} points, but the config "
                             f"has n_points {state.config.n_points}")
        trainer = cls(state.config, data=state.data)
        if isinstance(state.step, bool) or not isinstance(state.step, int) or state.step < 0:
            raise ValueError(f"step {state.step!r} is not a step count")
        changes = tuple(state.changes)
        for change in changes:
            if not isinstance(change, Change):
                raise ValueError(f"changes: {change!r} is not a Change")
            if change.step > state.step:
                raise ValueError(f"changes: a change at step {change.step:,} is after the "
                                 f"run's step {state.step:,}")
        try:
            start = start_config(state.config, changes)
        except ValueError as exc:
            raise ValueError(f"changes: {exc}") from None
        if state.g.vectors is not None:
            raise ValueError("g.vectors: G is never spectrally normalised")
        if (state.d.vectors is not None) != state.config.spectral_norm:
            raise ValueError("d.vectors: the power iteration's vectors are there exactly when "
                             "spectral_norm is on, and spectral_norm is "
                             f"{str(state.config.spectral_norm).lower()}")
        for name, net, saved in (("g", trainer._stack.g, state.g),
                                 ("d", trainer._stack.d, state.d)):
            for key in ("params", "m", "v", "vectors"):
                array = getattr(saved, key)
                if array is not None and not np.isfinite(array).all():
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
        trainer._changes = list(check_changes(changes, start))
        trainer._snapshots = Snapshots(snapshot_capacity(trainer.config, trainer.target))
        trainer._snapshots.add(Snapshot(trainer.state()))
        trainer._due = trainer._next_due()
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

"""A run as a schedule: every change made to it while it trained, in order, and its spelling in
a link.

A trainer records each live change of a setting (``Trainer.reconfigure``) and each update of one
network alone (``Trainer.train_d`` / ``train_g``) as a :class:`Change` at the step it was made.
The config a run started from and its changes decide the whole run: ``Trainer(start,
schedule=changes)`` trained as far goes exactly as the original did.

A link spells a schedule in its ``changes`` key, in characters that need no escaping in a URL
(letters, digits, ``-``, ``.``, ``_`` and ``~``), so the address bar shows it as written::

    changes=lr_g-0.0001~loss-minimax~2000~lr_g-0.001~3500~loss-hinge~3500~train_d-5

Tokens are separated by ``~``. A number is a step and opens an entry; ``name-value`` tokens
(the value as the page's widget spells it) after it are what the entry sets, either settings or
one one-network update. ``name-value`` tokens before the first step are the values the changed
settings had when the run started. The link's other keys are the settings *now*, as its widgets
show them, so the schedule must end where they are; the run's start is those settings with the
listed start values. Past :data:`MAX_CHANGES_CHARS` a link holds the settings only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import GANConfig, Param, _check, _parse, _shown

PARAMS = GANConfig.params()
LIVE_FIELDS = tuple(name for name, param in PARAMS.items() if param.live)
"""The settings a running trainer can change, so the settings a schedule can change."""
ACTIONS = ("train_d", "train_g")
"""One-network updates (``Trainer.train_d`` / ``train_g``): actions that change the run's
course without changing a setting; the value is how many updates."""
MAX_UPDATES = 10_000
"""Most one-network updates one action may take: a link cannot keep the server busy for long."""
MAX_STEP_DIGITS = 12
MAX_LINK_CHARS = 2000
"""Browsers, chat apps and mail keep links of up to about 2,000 characters whole."""
MAX_CHANGES_CHARS = 1400
"""Longest schedule a link holds. The settings at their longest take under 380 characters
(``tests/test_schedule.py`` checks), which leaves 200 for the page's own address."""
SEPARATOR, ASSIGN = "~", "-"
_STEP = re.compile(r"[0-9]+")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping in insertion order: a recorded change cannot be edited afterwards."""

    def __init__(self, items: Iterable[tuple[str, Any]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


@dataclass(frozen=True, repr=False)
class Change:
    """What happened to a run at ``step``: new values of live settings, or one action.

    ``values`` maps live settings to their new values (several may change at once), or holds a
    single action (``{"train_d": 5}``). ``before`` holds each changed setting's value just
    before; a trainer fills it in when it records or applies the change, and a run's start
    config is its current one with the changes undone in reverse. A change made before any
    step trains is step 0; ``step`` counts full training steps, so one-network updates do not
    move it.
    """

    step: int
    values: Mapping[str, Any]
    before: Mapping[str, Any] = field(default_factory=FrozenMapping)

    def __post_init__(self) -> None:
        step = self.step
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step {_shown(step)} is not a step count")
        if not isinstance(self.values, Mapping) or not self.values:
            raise ValueError(f"step {step}: a change sets at least one setting or action")
        if not isinstance(self.before, Mapping):
            raise ValueError(f"step {step}: before is not a mapping")
        values = FrozenMapping((name, _entry_value(name, raw)) for name, raw in
                               _named(step, self.values.items()))
        actions = [name for name in values if name in ACTIONS]
        if actions and len(values) > 1:
            raise ValueError(f"step {step}: {actions[0]} is an entry of its own; it cannot "
                             "share a change with anything else")
        for name in self.before:
            if name not in values or name in ACTIONS:
                raise ValueError(f"step {step}: before names {_shown(name)}, which this "
                                 "change does not set")
        before = FrozenMapping((name, _setting_value(name, self.before[name]))
                               for name in values if name in self.before)
        for name, old in before.items():
            if old == values[name]:
                raise ValueError(f"step {step}: {name} changes to the value it already has "
                                 f"({spell(name, old)})")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "before", before)

    @property
    def settings(self) -> dict[str, Any]:
        """The settings this change sets (none if it is an action)."""
        return {name: value for name, value in self.values.items() if name not in ACTIONS}

    @property
    def action(self) -> tuple[str, int] | None:
        """``(name, updates)`` if this change is a one-network update, else None."""
        name, value = next(iter(self.values.items()))
        return (name, value) if name in ACTIONS else None

    def to_plain(self) -> dict[str, Any]:
        """Plain data (ints, floats, strings in dicts): what a checkpoint stores.

        ``{"step": 2000, "values": {"lr_g": 0.001}, "before": {"lr_g": 0.0001}}``;
        :meth:`from_plain` of it gives back this change.
        """
        return {"step": self.step, "values": dict(self.values), "before": dict(self.before)}

    @classmethod
    def from_plain(cls, plain: Any) -> Change:
        """The change :meth:`to_plain` wrote; ``ValueError`` naming what does not fit."""
        if not isinstance(plain, Mapping) or set(plain) - {"step", "values", "before"} \
                or "step" not in plain or "values" not in plain:
            raise ValueError(f"{_shown(plain)} is not a change (a mapping with step, values "
                             "and before)")
        return cls(plain["step"], plain["values"], plain.get("before", {}))

    def __repr__(self) -> str:
        before = f", before={self.before!r}" if self.before else ""
        return f"Change({self.step}, {self.values!r}{before})"


def _named(step: int, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[str, Any]]:
    """The entries of a change, each refused with a reason if it is not something a running
    trainer can change."""
    for name, raw in items:
        if name in ACTIONS or name in LIVE_FIELDS:
            yield name, raw
        elif name in PARAMS:
            raise ValueError(f"step {step}: {name} cannot change on a running model (it needs "
                             "a new one), so a schedule cannot change it")
        else:
            raise ValueError(f"step {step}: {_shown(name)} is not a live setting or an "
                             f"action; those are {', '.join((*LIVE_FIELDS, *ACTIONS))}")


def _setting_value(name: str, raw: Any) -> Any:
    """``raw`` as the value of setting ``name``, parsed and checked as ``GANConfig`` does."""
    param = PARAMS[name]
    value = _parse(name, param, raw.item() if hasattr(raw, "item") else raw)
    _check(name, param, value)
    return value


def _entry_value(name: str, raw: Any) -> Any:
    if name not in ACTIONS:
        return _setting_value(name, raw)
    raw = raw.item() if hasattr(raw, "item") else raw
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_UPDATES:
        raise ValueError(f"{name}: {_shown(raw)} is not a number of updates between 1 and "
                         f"{MAX_UPDATES:,}")
    return raw


# -- a schedule as a whole -------------------------------------------------------------------


def check_changes(changes: Iterable[Change], start: GANConfig) -> tuple[Change, ...]:
    """``changes`` as a run starting from ``start`` takes them, each with ``before`` filled in.

    Raises ``ValueError`` naming the problem: an entry that is not a :class:`Change`, a step
    before the previous one, a ``before`` that is not the value the run has there, or a
    setting changed to the value it already has.
    """
    config, last, checked = start, 0, []
    for i, change in enumerate(changes):
        if not isinstance(change, Change):
            raise ValueError(f"entry {i + 1} ({_shown(change)}) is not a Change")
        if change.step < last:
            raise ValueError(f"step {change.step} comes after step {last}: a schedule's steps "
                             "never go back")
        settings = change.settings
        for name, value in settings.items():
            now = getattr(config, name)
            if name in change.before and change.before[name] != now:
                raise ValueError(
                    f"step {change.step}: {name} was {spell(name, now)} there, not "
                    f"{spell(name, change.before[name])}")
            if value == now:
                raise ValueError(f"step {change.step}: {name} is already {spell(name, now)}")
        if settings:
            before = {name: getattr(config, name) for name in settings}
            change = Change(change.step, change.values, before)
            config = config.replace(**settings)
        checked.append(change)
        last = change.step
    return tuple(checked)


def end_config(start: GANConfig, changes: Iterable[Change]) -> GANConfig:
    """The config a run starting from ``start`` has after ``changes``."""
    config = start
    for change in changes:
        if change.settings:
            config = config.replace(**change.settings)
    return config


def spans_of(start: GANConfig, changes: Sequence[Change], name: str, value: Any,
             until: int) -> list[tuple[int, int]]:
    """The ``(first, last)`` steps, up to ``until``, during which setting ``name`` held
    ``value`` in the run of ``changes`` from ``start`` (a step belongs to the value it was
    trained with: a change at step s applies from step s + 1 on)."""
    spans: list[tuple[int, int]] = []
    since = 0 if getattr(start, name) == value else None
    for change in changes:
        if name not in change.settings:
            continue
        now = change.settings[name]
        if since is not None and now != value:
            spans.append((since, change.step))
            since = None
        elif since is None and now == value:
            since = change.step + 1
    if since is not None and since <= until:
        spans.append((since, until))
    return spans


def start_of(config: GANConfig, changes: Sequence[Change]) -> GANConfig:
    """The config a run started from, for a run that has ``config`` at some moment of
    ``changes``: each changed setting at its value before its first change (``before``, which
    recorded or checked changes have), the others as in ``config``."""
    starts: dict[str, Any] = {}
    for change in changes:
        for name in change.settings:
            if name not in change.before:
                raise ValueError(f"step {change.step}: the value of {name} before the change "
                                 "is not known")
            starts.setdefault(name, change.before[name])
    return config.replace(**starts)


def start_config(end: GANConfig, changes: Sequence[Change]) -> GANConfig:
    """The config a run that has ``end`` after ``changes`` started from: the changes undone in
    reverse. Raises ``ValueError`` if a change lacks its ``before`` or they do not lead to
    ``end``."""
    config = end
    for change in reversed(changes):
        missing = [name for name in change.settings if name not in change.before]
        if missing:
            raise ValueError(f"step {change.step}: the value of {missing[0]} before the change "
                             "is not known")
        config = config.replace(**change.before)
    checked = check_changes(changes, config)
    reached = end_config(config, checked)
    differ = end.changed_fields(reached)
    if differ:
        name = differ[0]
        raise ValueError(f"{name} ends at {spell(name, getattr(reached, name))} after the "
                         f"changes, but the run has {spell(name, getattr(end, name))}")
    return config


# -- spelling ----------------------------------------------------------------------------------


def spell(name: str, value: Any) -> str:
    """A value as a link spells it: as its widget labels it (``Param.format``) when that reads
    back as the same value, else the shortest text that does (a value set from code)."""
    param: Param | None = PARAMS.get(name)
    text = param.format(value) if param is not None else str(value)
    if isinstance(value, float) and float(text) != value:
        text = repr(value)
    return text


def format_changes(changes: Sequence[Change], budget: int = MAX_CHANGES_CHARS) -> str | None:
    """The link spelling of a run's changes (see the module's docstring), or None if it is
    longer than ``budget`` (:data:`MAX_CHANGES_CHARS`, less what drawn curves in the same link
    take): then a link holds the settings only, and a checkpoint is the way to share the whole
    run. Changes need their ``before`` (recorded changes have it). No changes spell as the
    empty string."""
    starts: dict[str, str] = {}
    entries: list[str] = []
    for change in changes:
        for name in change.settings:
            if name not in change.before:
                raise ValueError(f"step {change.step}: the value of {name} before the change "
                                 "is not known")
            starts.setdefault(name, f"{name}{ASSIGN}{spell(name, change.before[name])}")
        entries.append(str(change.step))
        entries.extend(f"{name}{ASSIGN}{spell(name, value)}"
                       for name, value in change.values.items())
    text = SEPARATOR.join([*starts.values(), *entries])
    return text if len(text) <= min(budget, MAX_CHANGES_CHARS) else None


def parse_changes(text: str, config: GANConfig) -> tuple[Change, ...]:
    """The changes a link's ``changes`` key holds, for a link whose settings are ``config``:
    the run's settings at some moment of its schedule (a link copied while the run replayed
    its schedule holds the settings of that moment). Raises ``ValueError`` naming the
    problem."""
    if len(text) > MAX_CHANGES_CHARS:
        raise ValueError(f"changes: longer than {MAX_CHANGES_CHARS:,} characters, so not a "
                         "schedule a link holds")
    try:
        return _parse_changes(text, config)
    except ValueError as exc:
        raise ValueError(f"changes: {exc}") from None


def _parse_changes(text: str, config: GANConfig) -> tuple[Change, ...]:
    starts: dict[str, Any] = {}
    entries: list[tuple[int, dict[str, Any]]] = []
    for token in text.split(SEPARATOR) if text else []:
        if _STEP.fullmatch(token):
            if len(token) > MAX_STEP_DIGITS:
                raise ValueError(f"step {_shown(token)} is not a step count")
            if entries and not entries[-1][1]:
                raise ValueError(f"step {entries[-1][0]} sets nothing")
            if entries and int(token) < entries[-1][0]:
                raise ValueError(f"step {int(token)} comes after step {entries[-1][0]}: a "
                                 "schedule's steps never go back")
            entries.append((int(token), {}))
            continue
        name, assign, raw = token.partition(ASSIGN)
        if not assign or not _NAME.fullmatch(name):
            raise ValueError(f"{_shown(token)} is neither a step nor name{ASSIGN}value")
        if not entries:
            if name in starts:
                raise ValueError(f"the start value of {name} is given twice")
            if name not in LIVE_FIELDS:
                raise ValueError(f"{_shown(name)} is not a live setting, so it has no start "
                                 "value in a schedule")
            starts[name] = _setting_value(name, raw)
            continue
        step, values = entries[-1]
        if name in values:
            raise ValueError(f"step {step}: {name} is given twice")
        values[name] = _action_count(name, raw) if name in ACTIONS else raw
    if entries and not entries[-1][1]:
        raise ValueError(f"step {entries[-1][0]} sets nothing")
    changes = [Change(step, values) for step, values in entries]
    changed = list(dict.fromkeys(name for c in changes for name in c.settings))
    for name in changed:
        if name not in starts:
            raise ValueError(f"{name} changes, but its value at the start is not given "
                             f"({name}{ASSIGN}value before the first step)")
    for name in starts:
        if name not in changed:
            raise ValueError(f"{name} is given a start value but never changes")
    checked = check_changes(changes, config.replace(**starts))
    check_moment(config, checked)
    return checked


def check_moment(config: GANConfig, changes: Sequence[Change]) -> None:
    """Raise ``ValueError`` unless ``config`` is where the run of ``changes`` (checked, so with
    their ``before``) stands at some moment: each changed setting at a value it takes."""
    for name in dict.fromkeys(name for c in changes for name in c.settings):
        taken = [c.before[name] for c in changes if name in c.settings][:1] + [
            c.values[name] for c in changes if name in c.settings]
        if getattr(config, name) not in taken:
            raise ValueError(f"the run has {name} at {spell(name, getattr(config, name))}, a "
                             "value its changes never give it")


def _action_count(name: str, raw: str) -> int:
    if not _STEP.fullmatch(raw) or len(raw) > MAX_STEP_DIGITS:
        raise ValueError(f"{name}: {_shown(raw)} is not a number of updates")
    return int(raw)


def changes_to_plain(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """A schedule as plain data, for a checkpoint (see :meth:`Change.to_plain`)."""
    return [change.to_plain() for change in changes]


def changes_from_plain(plain: Any) -> tuple[Change, ...]:
    """The schedule :func:`changes_to_plain` wrote; ``ValueError`` naming what does not fit."""
    if isinstance(plain, (str, bytes, Mapping)) or not isinstance(plain, Iterable):
        raise ValueError(f"changes: {_shown(plain)} is not a list of changes")
    return tuple(Change.from_plain(item) for item in plain)

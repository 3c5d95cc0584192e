"""A shareable link: a URL's query parameters read into settings, and what in them cannot be
used.

A link holds every setting that differs from its default, spelled as the page's widgets spell
it (``Param.format``). Anything else in it (an unknown key, a value of the wrong type, out of
range, or one no widget offers) is not used, and is said so by key; a setting that is not used
keeps its default.

Its settings are the run's settings as the page's widgets showed them. A ``changes`` key
(``gan_core.gan.schedule``) adds the run's changes while it trains, with the value each changed
setting started from: the link's run starts there and follows them, so a page opening the link
shows the start values first (``Link.spelled``) and moves on as the run replays its changes.
A schedule that is malformed, out of order, or never gives a changed setting the value the
link shows is not used (said so under ``changes``); the settings still are.

A run of your data (target ``data``) carries drawn curves in a ``data`` key, quantised
(``gan_core.files.link_data``); curves from a CSV file do not fit, and a link to such a run
says so under ``data``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..data.curves import Curves
from ..gan.config import GANConfig, Pacing, Param, Settings
from ..gan.schedule import (
    MAX_CHANGES_CHARS,
    Change,
    check_moment,
    format_changes,
    parse_changes,
    start_of,
)
from .link_data import DATA_KEY, CsvNotCarried, read_data, spell_data

SCHEMAS: tuple[type[Settings], ...] = (GANConfig, Pacing)
"""What a link can set: a run's config and the page's pacing."""
SCHEDULE_KEY = "changes"
"""The key that holds a run's changes (``schedule.format_changes``)."""
SHOWN_PROBLEMS = 6
"""At most this many problems are listed by name in a summary; the rest are counted."""

Query = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Link:
    config: GANConfig
    pacing: Pacing
    problems: dict[str, str]
    """Why each key that is not used is not, by key."""
    spelled: dict[str, str]
    """Every used key, spelled as the page's widget spells its value."""
    changes: tuple[Change, ...] = ()
    """The run's changes from :attr:`start`, in order."""
    data: Curves | None = None
    """The drawn curves of a run of target ``data`` (None: the link holds none it can use, and
    the run learns the tutorial's band until it is given some)."""
    data_from_csv: bool = False
    """The link's run learned a CSV file, which the link could not carry."""

    @property
    def start(self) -> GANConfig:
        """The config the run started from: ``Trainer(link.start, schedule=link.changes)`` is
        the link's run."""
        return start_of(self.config, self.changes)

    def summary(self) -> str:
        """The problems in one sentence's worth of text, for the page's one warning."""
        reasons = list(self.problems.values())
        shown = "; ".join(reasons[:SHOWN_PROBLEMS])
        more = len(reasons) - SHOWN_PROBLEMS
        return shown + (f"; and {more} more" if more > 0 else "")


def read_link(query: Query) -> Link:
    """The settings ``query`` holds (a key may carry a list of values, as URLs allow)."""
    params: dict[str, tuple[type[Settings], Param]] = {
        name: (schema, param) for schema in SCHEMAS for name, param in schema.params().items()}
    values: dict[type[Settings], dict] = {schema: {} for schema in SCHEMAS}
    problems: dict[str, str] = {}
    spelled: dict[str, str] = {}
    schedule: str | None = None
    data_text: str | None = None
    for key, raw in query.items():
        if key == DATA_KEY:
            data_text = _single(key, raw, problems)
            continue
        if key == SCHEDULE_KEY:
            schedule = _single(key, raw, problems)
            continue
        if key not in params:
            problems[key] = f"unknown setting {_short(key)}"
            continue
        schema, param = params[key]
        text = _single(key, raw, problems)
        if text is None:
            continue
        try:
            value = getattr(schema.from_mapping({key: text}), key)
        except ValueError as exc:
            problems[key] = str(exc)
            continue
        if not param.offers(value):
            problems[key] = (f"{key}: {_short(text)} is not one of the values its "
                             "widget offers")
            continue
        values[schema][key] = value
        spelled[key] = param.format(value)
    config = GANConfig(**values[GANConfig])
    data, from_csv = None, False
    if data_text is not None:
        if config.target != "data":
            problems[DATA_KEY] = f"{DATA_KEY}: curves are learned with target data, not " \
                                 f"{config.target}"
        else:
            try:
                data = read_data(data_text, config.n_points)
            except CsvNotCarried as exc:
                problems[DATA_KEY], from_csv = str(exc), True
            except ValueError as exc:
                problems[DATA_KEY] = f"{DATA_KEY}: {exc}"
            else:
                spelled[DATA_KEY] = spell_data(data)
    changes: tuple[Change, ...] = ()
    if schedule is not None:
        try:
            changes = parse_changes(schedule, config)
        except ValueError as exc:
            problems[SCHEDULE_KEY] = str(exc)
        else:
            if changes:
                spelled[SCHEDULE_KEY] = format_changes(changes) or schedule
                start = start_of(config, changes)
                params = GANConfig.params()
                for name in start.changed_fields(config):  # the run opens at its start
                    spelled[name] = params[name].format(getattr(start, name))
    return Link(config, Pacing(**values[Pacing]), problems, spelled, changes, data, from_csv)


def link_query(config: GANConfig, changes: Sequence[Change] = (),
               pacing: Pacing | None = None, data: Curves | None = None) -> dict[str, str]:
    """The query of a link to a run that has ``config`` at some moment of ``changes``: every
    setting that differs from its default, your ``data`` for target ``data`` (drawn curves
    quantised; ``data=csv`` for a table), and the changes if they fit in what is left
    (:func:`schedule.format_changes`; if they do not, the query holds the settings only and
    has no ``changes`` key). Raises ``ValueError`` if the changes cannot lead to ``config``."""
    check_moment(config, changes)
    if (config.target == "data") != (data is not None):
        raise ValueError("a link to a run of target data carries its curves: give data")
    query = {}
    for settings in (config, pacing or Pacing()):
        default = type(settings)()
        for name, param in settings.params().items():
            value = getattr(settings, name)
            if value != getattr(default, name):
                query[name] = param.format(value)
    budget = MAX_CHANGES_CHARS
    if data is not None:
        query[DATA_KEY] = spell_data(data)
        budget -= len(query[DATA_KEY])
    text = format_changes(changes, budget)
    if text:
        query[SCHEDULE_KEY] = text
    return query


def from_link(query: Query) -> tuple[GANConfig, dict[str, str]]:
    """The run's config a link holds, and what in the link cannot be used, by key."""
    link = read_link(query)
    return link.config, link.problems


def _single(key: str, raw: str | Sequence[str], problems: dict[str, str]) -> str | None:
    """The one value a key of the link carries, or None with the problem noted where the URL
    gave the key more than once or not at all (which was meant is not ours to guess)."""
    texts = [raw] if isinstance(raw, str) else list(raw)
    if len(texts) != 1:
        problems[key] = f"{key}: given {len(texts)} times"
        return None
    return texts[0]


def _short(text: str, most: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= most else shown[: most - 4] + "…" + shown[-3:]

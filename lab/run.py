"""The visitor's run: one ``LabSession`` per browser tab, following the sidebar's settings.

A run may also change its own settings, as it replays a schedule it was opened with; then the
sidebar follows the run. The URL carries the run's schedule (``changes``), so a link holds
every live change and reproduces the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NoReturn

import streamlit as st

from gan_core import GANConfig, Pacing
from gan_core.data import Curves
from gan_core.files.link import SCHEDULE_KEY
from gan_core.files.link_data import DATA_KEY, spell_data
from gan_core.gan.schedule import MAX_CHANGES_CHARS, format_changes
from gan_core.serve.session import Applied, LabSession

from . import your_data
from .settings import PARAMS, link_changes
from .state import holder

GHOST = "ghost"
"""The key of the toggle that keeps a ghost on a live change (drawn with the controls)."""


@dataclass
class Notices:
    """What the page tells the visitor about the last thing that happened to the run."""

    info: str | None = None
    link_too_long: bool = False
    refused: str | None = None
    """Why the last settings could not make a run (the run went on as it was)."""


@dataclass
class Shown:
    """The run's settings as the page last showed them in the sidebar."""

    config: GANConfig | None = None


BURST_SECONDS = 2.0
"""Live changes of the same settings less than this far apart are one change to the eye: an
arrow key pressed five times on a slider, or a slider dragged through several values."""


@dataclass
class Burst:
    """The live changes the visitor is making in a row. Each is applied, and recorded, as it
    comes (a link replays the run exactly); the page speaks of them as one: the toast names
    the value before the first, and a ghost kept on the first goes on with that value."""

    fields: frozenset[str] = frozenset()
    before: dict[str, object] = field(default_factory=dict)
    last: float = -math.inf
    """When the last change of the burst was applied (``time.monotonic``)."""

    def goes_on(self, fields: Iterable[str], now: float) -> bool:
        """Is a change of ``fields`` at ``now`` part of this burst?"""
        return now - self.last < BURST_SECONDS and set(fields) <= self.fields


def notices() -> Notices:
    return holder("notices", Notices)


def session() -> LabSession:
    """This tab's run (made by ``follow`` on the first run)."""
    run = st.session_state.get("lab")
    if not isinstance(run, LabSession):
        raise RuntimeError("the run is made by follow() before any feature uses it")
    return run


def moved_on() -> bool:
    """Has the run changed its own settings (a planned change) since the sidebar showed it?"""
    shown = holder("shown", Shown).config
    return "lab" in st.session_state and shown is not None and session().config != shown


def sync_sidebar() -> None:
    """Before the sidebar: where the run changed a setting by its schedule, show the new value
    (unless the visitor has just moved that widget, which then wins), and say so. The live view
    makes this run come when the browser shows the frame of the change (``lab/live.py``)."""
    shown = holder("shown", Shown).config
    if not moved_on() or shown is None:
        return
    run = session()
    now = run.config
    followed = []
    for name in shown.changed_fields(now):
        if st.session_state.get(name) == getattr(shown, name):
            st.session_state[name] = getattr(now, name)
            followed.append(name)
    if followed:
        at = next((c.step for c in reversed(run.trainer.changes)
                   if c.action is None and set(followed) & set(c.settings)), run.trainer.step)
        what = ", ".join(f"{PARAMS[n].label} {PARAMS[n].format(getattr(shown, n))} → "
                         f"{PARAMS[n].format(getattr(now, n))}" for n in followed)
        st.toast(f"The link's run changed at step {at:,}: {what}", icon=":material/link:")


def follow(config: GANConfig, pacing: Pacing) -> None:
    """Make the run on the first visit (following the link's schedule, if any); afterwards
    apply the settings, live or as a fresh model, and say which. Then write the run's
    schedule into the URL."""
    data = your_data.current(config)
    if "lab" not in st.session_state:
        try:
            st.session_state.lab = LabSession(config, pacing, schedule=link_changes(),
                                              data=data)
        except ValueError as exc:
            if not config.conditional:
                raise
            # A link's Conditional on curves without classes (a file it could not carry):
            # the run starts without, and the sidebar shows it so.
            st.session_state.lab = LabSession(config.replace(conditional=False), pacing,
                                              data=data)
            notices().refused = f"{_sentence(exc)} The run starts without Conditional."
            holder("shown", Shown).config = config
            st.rerun()
    else:
        run = session()
        try:
            _apply(run, config, data)
        except ValueError as exc:
            _refuse(config, exc)
        run.set_pacing(pacing)
    holder("shown", Shown).config = session().config
    _write_schedule(_write_data())


def _refuse(config: GANConfig, exc: ValueError) -> NoReturn:
    """Settings (or curves) that make no run, such as Conditional on curves without labels:
    say why, keep the run, and put the sidebar and your data back as the run has them (the
    sidebar follows the run where ``sync_sidebar`` sees it differ from what was asked)."""
    notices().refused = f"{_sentence(exc)} Nothing changed: the run goes on as it was."
    holder("shown", Shown).config = config
    your_data.adopt(session().trainer.data)
    st.rerun()


def _sentence(exc: Exception) -> str:
    text = str(exc)
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _write_data() -> int:
    """Your data as the URL's ``data`` key (drawn curves quantised, ``csv`` for a file);
    returns the characters it takes from the changes' share of a link."""
    data = session().trainer.data
    text = spell_data(data) if data is not None else ""
    if text and st.query_params.get(DATA_KEY) != text:
        st.query_params[DATA_KEY] = text
    elif not text and DATA_KEY in st.query_params:
        del st.query_params[DATA_KEY]
    return len(text)


def _write_schedule(taken: int = 0) -> None:
    """The run's changes, made and planned, as the URL's ``changes`` key: a link to this page
    replays the run; past a link's length (less the ``taken`` characters of drawn curves) it
    holds the settings only (and the page says so)."""
    trainer = session().trainer
    changes = trainer.changes + trainer.planned
    text = format_changes(changes, MAX_CHANGES_CHARS - taken) if changes else ""
    notices().link_too_long = text is None
    current = st.query_params.get(SCHEDULE_KEY)
    if text and text != current:
        st.query_params[SCHEDULE_KEY] = text
    elif not text and current is not None:
        del st.query_params[SCHEDULE_KEY]


def _apply(run: LabSession, config: GANConfig, data: Curves | None) -> None:
    """Apply the sidebar's settings to the run and say what that did; a live change that goes
    on a burst of them keeps the burst's ghost and is told as the whole burst."""
    burst, now = holder("burst", Burst), time.monotonic()
    changing = run.config.changed_fields(config)
    going_on = bool(changing) and burst.goes_on(changing, now)
    ghost = bool(st.session_state.get(GHOST)) and not (going_on and run.trainer.ghost)
    change = run.apply(config, ghost=ghost, data=data)
    if change.kind != "none":
        notices().refused = None
    if change.kind != "live":
        if change.kind == "fresh":
            burst.fields, burst.last = frozenset(), -math.inf
        _announce(change, run.config)
        return
    if not going_on:
        burst.fields, burst.before = frozenset(change.fields), dict(change.before)
    burst.last = now
    _announce(replace(change, before={n: burst.before.get(n, change.before[n])
                                      for n in change.fields}), run.config)


def _announce(change: Applied, now: GANConfig) -> None:
    if change.kind == "live":
        what = ", ".join(
            f"{PARAMS[n].label} back to {PARAMS[n].format(getattr(now, n))}"
            if change.before[n] == getattr(now, n) else
            f"{PARAMS[n].label} {PARAMS[n].format(change.before[n])} → "
            f"{PARAMS[n].format(getattr(now, n))}" for n in change.fields)
        st.toast(f"Applied live: {what}", icon=":material/tune:")
    elif change.fields == ("data",):
        # Redrawn on the pad: said where nothing moves, so the pad stays under the pointer.
        st.toast("New model: your data changed, so training starts over.",
                 icon=":material/draw:")
    elif change.kind == "fresh":
        labels = ", ".join("your data" if n == "data" else PARAMS[n].label.lower()
                           for n in change.fields if n == "data" or not PARAMS[n].live)
        notices().info = f"New model: {labels} changed, so training starts over."


def has_notices() -> bool:
    """Will :func:`show_notices` show anything?"""
    said = notices()
    return bool(said.info or said.refused or said.link_too_long
                or session().diverged is not None)


def show_notices() -> None:
    """The run's notices, and a warning while a diverged run is paused."""
    said = notices()
    if said.refused:
        st.warning(said.refused, icon=":material/block:")
    if said.info:
        st.info(said.info, icon=":material/info:")
    if said.link_too_long:
        st.info("This run's changes no longer fit in a link: the link holds its settings "
                "only. To share the whole run, download its checkpoint (Save & resume).",
                icon=":material/link:")
    diverged = session().diverged
    if diverged is not None:
        st.warning(
            f"Training diverged at step {diverged.step:,}: the losses or the generated curves "
            "blew up, so training paused and the last finite state is shown. Lower the "
            "learning rates (1e-3 or less usually works) and press Play, or press Reset.",
            icon=":material/warning:")

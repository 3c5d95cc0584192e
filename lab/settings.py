"""Settings and link: one widget per setting, bound to the URL, so a link reproduces a run.

Every widget comes from a field's ``Param`` (label, help, range or choices) and is keyed by the
field's name, which is also its key in the URL. A link is read once, by ``gan_core.files.link``,
before any widget exists: what cannot be used is removed from the URL (and named in the one
warning), and what can is respelled as its widget spells it, so the widgets seed themselves
from a URL they all accept and Streamlit never sees a value it cannot take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from gan_core import PRESETS, GANConfig, Pacing, Param, read_link
from gan_core.gan.config import GROUPS
from gan_core.gan.schedule import Change

from . import your_data
from .state import holder

SCHEMAS = (GANConfig, Pacing)
PARAMS: dict[str, Param] = {name: p for schema in SCHEMAS for name, p in schema.params().items()}
PRESET = "preset"
"""The key of the preset selector (not in the URL: it only loads settings)."""


@dataclass
class LinkState:
    read: bool = False
    problems: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    changes: tuple[Change, ...] = ()
    """The schedule the link's run follows from the settings its widgets open with."""


def link_changes() -> tuple[Change, ...]:
    return holder("link", LinkState).changes


def follow_link() -> None:
    """On the visitor's first run, clean the URL: drop what cannot be used, respell the rest;
    if anything changed, rerun at once, before any widget has read the URL."""
    state = holder("link", LinkState)
    if state.read:
        return
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    link = read_link(query)
    state.read, state.problems, state.summary = True, link.problems, link.summary()
    state.changes = link.changes
    your_data.take_link(link)
    for key in link.problems:
        del st.query_params[key]
    respelled = {k: v for k, v in link.spelled.items() if query[k] != [v]}
    for key, spelled in respelled.items():
        st.query_params[key] = spelled
    if link.problems or respelled:
        st.rerun()


def link_warned() -> bool:
    """Does the link hold something that could not be used?"""
    return bool(holder("link", LinkState).problems)


def link_warning() -> None:
    """The one warning naming what the link held that could not be used."""
    state = holder("link", LinkState)
    if state.problems:
        st.warning(f"Some settings in the link were ignored: {state.summary}.",
                   icon=":material/link_off:")


def _widget(name: str, param: Param, disabled: bool = False) -> Any:
    """The widget for one setting. Its default is the field's, so the URL holds only the
    settings that differ from their defaults."""
    common: dict[str, Any] = {"label": param.label, "help": param.help, "key": name,
                              "bind": "query-params", "disabled": disabled}
    if param.choices:
        # Options show as their config values: Streamlit writes a selectbox's displayed text
        # into the URL, and the URL must hold values the link reader accepts.
        return st.selectbox(options=param.choices, index=param.choices.index(param.default),
                            **common)
    if param.kind is bool:  # the URL holds true or false, as the link reader spells them
        return st.toggle(value=param.default, **common)
    if param.log:
        return st.select_slider(options=param.grid(), value=param.default,
                                format_func=param.format, **common)
    if name == "seed":
        return st.number_input(min_value=int(param.low), max_value=int(param.high),
                               value=param.default, step=1, **common)
    if param.kind is int:
        return st.slider(min_value=int(param.low), max_value=int(param.high),
                         value=param.default, step=1, **common)
    digits = max(0, -math.floor(math.log10(param.step)))
    return st.slider(min_value=param.low, max_value=param.high, value=param.default,
                     step=param.step, format=f"%.{digits}f", **common)


def sidebar() -> tuple[GANConfig, Pacing]:
    """The sidebar's settings, grouped as the fields say; returns what they are set to."""
    st.sidebar.title("Settings")
    st.sidebar.selectbox(
        "Preset", list(PRESETS), key=PRESET, on_change=_load_preset,
        help="tutorial: the original 406_GAN.py settings. fast: reaches the tutorial's "
        "10,000-step quality in 2,000 steps. best: the lowest W1 found. stable: R1 and R2 "
        "penalties with Adam's beta1 at 0.5, which converge over the widest range of learning "
        "rates found (64% of the stability map's default grid, against 11% for the "
        "tutorial's), with the tutorial's quality in its 10,000 steps. conditional: the "
        "tutorial's sequel 406_conditional_GAN.py, G asked for a class.")
    values: dict[str, Any] = {}
    your_data.before_sidebar()
    for group in GROUPS:
        with st.sidebar.expander(group, expanded=group in ("Training", "Run")):
            for name, param in PARAMS.items():
                if param.group == group:
                    # A file's curves set the points per curve: the setting shows theirs.
                    values[name] = _widget(name, param, disabled=(
                        name == your_data.POINTS and your_data.points_fixed()))
            if group == "Target":
                your_data.controls(values["target"])
    return (GANConfig(**{k: values[k] for k in GANConfig.params()}),
            Pacing(**{k: values[k] for k in Pacing.params()}))


def show(config: GANConfig) -> None:
    """Set every widget of a run setting (and so the URL) to ``config``: a preset, a
    resumed checkpoint or a picked stability-map cell. Call from a widget callback."""
    for name, value in config.to_mapping().items():
        st.session_state[name] = value


def offered(config: GANConfig) -> list[str]:
    """The settings of ``config`` that no widget here can show (empty if all can)."""
    params = GANConfig.params()
    return [name for name, value in config.to_mapping().items() if not params[name].offers(value)]


def _load_preset() -> None:
    """A preset's training settings; the seed stays, and so does your data (target and its
    points) where you learn them: the presets are about training, not curves."""
    preset = PRESETS[st.session_state[PRESET]]
    kept: dict[str, Any] = {"seed": st.session_state.get("seed", preset.seed)}
    if st.session_state.get("target") == "data":
        kept.update(target="data", n_points=st.session_state.get("n_points", preset.n_points))
    show(preset.replace(**kept))

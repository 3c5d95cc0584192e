"""The visitor's run: one ``LabSession`` per browser tab, following the sidebar's settings."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from gan_core import GANConfig, Pacing
from gan_core.session import Applied, LabSession

from .settings import PARAMS
from .state import holder


@dataclass
class Notices:
    """What the page tells the visitor about the last thing that happened to the run."""

    info: str | None = None


def notices() -> Notices:
    return holder("notices", Notices)


def session() -> LabSession:
    """This tab's run (made by ``follow`` on the first run)."""
    run = st.session_state.get("lab")
    if not isinstance(run, LabSession):
        raise RuntimeError("the run is made by follow() before any feature uses it")
    return run


def follow(config: GANConfig, pacing: Pacing) -> None:
    """Make the run on the first visit; afterwards apply the settings, live or as a fresh
    model, and say which."""
    if "lab" not in st.session_state:
        st.session_state.lab = LabSession(config, pacing)
        return
    run = session()
    _announce(run.apply(config), run.config)
    run.set_pacing(pacing)


def _announce(change: Applied, now: GANConfig) -> None:
    if change.kind == "live":
        what = ", ".join(f"{PARAMS[n].label} {PARAMS[n].format(change.before[n])} → "
                         f"{PARAMS[n].format(getattr(now, n))}" for n in change.fields)
        st.toast(f"Applied live: {what}", icon=":material/tune:")
    elif change.kind == "fresh":
        labels = ", ".join(PARAMS[n].label.lower() for n in change.fields if not PARAMS[n].live)
        notices().info = f"New model: {labels} changed, so training starts over."


def show_notices() -> None:
    """The run's notices, and a warning while a diverged run is paused."""
    said = notices()
    if said.info:
        st.info(said.info, icon=":material/info:")
    diverged = session().diverged
    if diverged is not None:
        st.warning(
            f"Training diverged at step {diverged.step:,}: the losses or the generated curves "
            "blew up, so training paused and the last finite state is shown. Lower the "
            "learning rates (1e-3 or less usually works) and press Play, or press Reset.",
            icon=":material/warning:")

"""A short guided tour for a first visitor: what to watch on the live view, a step at a time.

The tour is a box under the controls: it covers nothing, so Play stays in reach, and it never
touches the run or its settings (a shared link plays as it would without it). Each step
outlines the element it names. Once skipped or finished it does not come back in that browser:
Session State lives and dies with the tab, so the dismissal is kept in the browser's
``localStorage``, read and written by a small component (``tour_memory.js``). The component is
on the page only while a question to the browser is open, and the tour is its own fragment, so
once dismissed the tour costs a live tick nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from gan_core import GANConfig
from gan_core.gan.losses import equilibrium_point

from .run import session
from .state import holder

MEMORY = "tour_memory"
"""Key of the component holding the browser's memory of the tour."""
BOX, BACK, NEXT, SKIP = "tour", "tour_back", "tour_next", "tour_skip"
STORAGE_KEY = "gan-curve-lab.tour"
"""The ``localStorage`` entry that says this browser dismissed the tour."""
DISMISSED, CLEARED = "dismissed", "cleared"
"""What the page may ask the browser to write (nothing: only read)."""

_memory = st.components.v2.component(
    "gan_curve_lab.tour_memory", js=(Path(__file__).parent / "tour_memory.js").read_text())


@dataclass(frozen=True)
class Step:
    title: str
    target: str
    """Key of the element the step outlines (its CSS class is ``st-key-<target>``)."""
    text: Callable[[GANConfig], str]
    """One or two sentences, for the run's current settings."""


def _d_accuracy(config: GANConfig) -> str:
    if config.loss == "wasserstein":
        return ("A wasserstein critic gives scores, not probabilities, so there is no D "
                "accuracy: the **Critic gap** readout (its mean score on real curves minus on "
                "G's) shows how far apart it finds them, and heads for **0**.")
    target = equilibrium_point(config.loss, config.real_label).d_real
    loss = config.loss.replace("_", " ")
    return ("Mean D(real): D's probability that a real curve is real. As G's curves become "
            "real-looking D can only guess, and it heads for "
            f"**{target:.2g}**, its target for the {loss} loss"
            + (" (0.5 for the others)." if round(target, 2) != 0.5 else "."))


STEPS: tuple[Step, ...] = (
    Step("Play", "play", lambda _: (
        "The tutorial's GAN trains live, a tick at a time; **Pause** stops it and **Step** "
        "trains one tick. Any setting can change while it trains.")),
    Step("The band", "curves", lambda _: (
        "In the curves chart the orange and blue lines bound every real curve (x² and "
        "2x² + 1 for the tutorial's parabolas), with the shaded envelope between them. G's "
        "green curves start as noise: watch them end up inside it.")),
    Step("D accuracy", "readouts", _d_accuracy),
    Step("Forces", "forces", lambda _: (
        "Switch on **Forces**, next to Ghost, to draw D's push on each generated point: a "
        "short line the way G's loss would move it. **Train G** moves the curves along them.")),
    Step("The D map", "dmap", lambda _: (
        "Below the histories, the discriminator map colours a plane of curves by D's belief: "
        "red where D says real, blue where it says fake. Real curves are diamonds, G's are "
        "circles: as G learns, the circles move onto the diamonds.")),
)


@dataclass(frozen=True)
class Ask:
    """One question to the browser: read its memory, after writing ``write`` if given."""

    number: int = 0
    write: str | None = None


@dataclass
class TourState:
    step: int | None = None
    """The step on show (None: the tour is closed)."""
    asked: Ask = field(default_factory=Ask)
    """The last question to the browser; the first visit's run asks only to read."""
    answered: int | None = None
    """The number of the last question the browser answered."""
    opening: int = 0
    """How often the tour was opened again: a click on a box of an earlier opening, which
    Streamlit can deliver once more with a later run, is not one on the box on show."""


def state() -> TourState:
    return holder("tour", TourState)


@st.fragment
def tour() -> None:
    """The tour's box, if open, and the browser's memory while a question is open. A fragment:
    its buttons and the browser's answers rerun the tour alone, not the page or the run."""
    tour_state = state()
    _hear(tour_state)
    if tour_state.step is not None:
        _box(tour_state, session().config)
    if tour_state.answered != tour_state.asked.number:
        _memory(key=MEMORY, on_answer_change=_nothing,
                data={"request": tour_state.asked.number, "write": tour_state.asked.write,
                      "storageKey": STORAGE_KEY, "box": BOX})


def again() -> None:
    """Forget the dismissal in this browser and show the tour from its first step."""
    tour_state = state()
    tour_state.step = 0
    tour_state.opening += 1
    _ask(tour_state, CLEARED)


def _hear(tour_state: TourState) -> None:
    """Take the browser's answer to the open question, if it came: the first answer decides
    whether the tour shows (a browser that keeps nothing gets the tour)."""
    memory = st.session_state.get(MEMORY)
    answer = memory.get("answer") if isinstance(memory, dict) else None
    if (not isinstance(answer, dict) or answer.get("request") != tour_state.asked.number
            or tour_state.answered == tour_state.asked.number):
        return
    tour_state.answered = tour_state.asked.number
    if tour_state.asked.write is None and answer.get("dismissed") is not True:
        tour_state.step = 0


def _box(tour_state: TourState, config: GANConfig) -> None:
    index, opening = tour_state.step, tour_state.opening
    assert index is not None
    step, last = STEPS[index], index == len(STEPS) - 1
    with st.container(border=True, key=BOX):
        st.caption(f":material/tour: Guided tour · step {index + 1} of {len(STEPS)}")
        # The outline is part of the step's text, so it goes when the step does.
        st.markdown(f"**{step.title}.** {step.text(config)}{_outline(step.target)}",
                    unsafe_allow_html=True)
        with st.container(horizontal=True, key="tour_buttons"):
            # Each button names where it leads, not a move: a click can reach the server
            # twice when a live tick's rerun coalesces with it, and must count once.
            st.button("Back", icon=":material/arrow_back:", key=BACK, on_click=_show,
                      args=(opening, index - 1), disabled=index == 0)
            if last:
                st.button("Done", icon=":material/check:", key=NEXT, on_click=_dismiss,
                          args=(opening,))
            else:
                st.button("Next", icon=":material/arrow_forward:", key=NEXT, on_click=_show,
                          args=(opening, index + 1))
            st.button("Skip tour", key=SKIP, on_click=_dismiss, args=(opening,),
                      type="tertiary")


def _outline(target: str) -> str:
    colour = (st.get_option("theme.primaryColor") or st.get_option("theme.light.primaryColor")
              or "currentColor")  # the lab's green: it reads on the light and dark themes
    return (f"<style>.st-key-{target} {{ outline: 2px solid {colour}; outline-offset: 3px; "
            "border-radius: 0.5rem; }</style>")


def _show(opening: int, step: int) -> None:
    tour_state = state()
    # Not a click that arrived after the tour closed, nor one on an earlier opening's box.
    if tour_state.step is not None and opening == tour_state.opening:
        tour_state.step = min(max(step, 0), len(STEPS) - 1)


def _dismiss(opening: int) -> None:
    tour_state = state()
    if tour_state.step is None or opening != tour_state.opening:
        return  # closed already (the browser has been asked), or an earlier opening's click
    tour_state.step = None
    _ask(tour_state, DISMISSED)


def _ask(tour_state: TourState, write: str) -> None:
    tour_state.asked = Ask(tour_state.asked.number + 1, write)


def _nothing() -> None:
    """The answer is read where the tour is drawn; the component only needs a callback to
    have an ``answer`` state at all."""

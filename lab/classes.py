"""A conditional run's classes on the page: the class looked at, and the label the latent
explorer gives G.

Two widgets under the latent explorer, drawn only for a conditional run. The class switch picks
the class looked at: its band is drawn full in the curves chart (the others faded), and the
discriminator map and the optimal-D panel are of it. The label slider is the label G reads in
the latent explorer: with two classes the label column itself, from 0 (class 0) to 1 (class
1), so between them G paints what it makes of a label it never saw in training; with more, a
share of the way from the class picked to the next. Switching the class sets the label to it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gan_core import Trainer
from gan_core.gan.labels import blend

from .run import session

CLASS, LABEL = "class_view", "label_blend"
"""Keys of the class switch and the label slider."""


def names(trainer: Trainer) -> tuple[str, ...]:
    """The run's classes (none unless it is conditional)."""
    return trainer.target.class_names if trainer.config.conditional else ()


def focus(trainer: Trainer) -> int | None:
    """The class looked at: what the switch holds (class 0 before it exists, or after a
    change of target that took its class away); None for a run without classes."""
    k = len(names(trainer))
    if not k:
        return None
    picked = st.session_state.get(CLASS, 0)
    return picked if isinstance(picked, int) and 0 <= picked < k else 0


def _ends(trainer: Trainer) -> tuple[int, int]:
    """The two classes the label slider runs between: class 0 to class 1 with two classes,
    the class picked to the next with more."""
    k = len(names(trainer))
    if k == 2:
        return 0, 1
    picked = focus(trainer) or 0
    return picked, (picked + 1) % k


def share(trainer: Trainer) -> float:
    """Where the label slider stands, from 0 to 1 (where the switch puts it, before the
    slider exists)."""
    value = st.session_state.get(LABEL)
    if isinstance(value, int | float) and 0 <= value <= 1:
        return float(value)
    return _snapped(trainer)


def _snapped(trainer: Trainer) -> float:
    """The slider's place for the class picked: its own end (with two classes, the label
    is the class; with more, the slider starts from the class picked)."""
    return float(focus(trainer) or 0) if len(names(trainer)) == 2 else 0.0


def label(trainer: Trainer) -> np.ndarray | None:
    """The label columns the latent explorer gives G (None for a run without classes)."""
    k = len(names(trainer))
    if not k:
        return None
    first, second = _ends(trainer)
    return blend(first, second, share(trainer), k)


def label_text(trainer: Trainer) -> str:
    """The latent explorer's label in words: a class, or how far between two."""
    classes = names(trainer)
    first, second = _ends(trainer)
    t = share(trainer)
    if t == 0:
        return f"asked for {classes[first]}"
    if t == 1:
        return f"asked for {classes[second]}"
    return f"label {t:.2f}, between {classes[first]} (0) and {classes[second]} (1)"


def controls(trainer: Trainer, switch: DeltaGenerator, slider: DeltaGenerator) -> None:
    """The class switch and the label slider, in the places given."""
    classes = names(trainer)
    switch.segmented_control(
        "Class", list(range(len(classes))), default=0, required=True, key=CLASS,
        format_func=lambda c: classes[c], on_change=_snap,
        help="The class looked at: its band drawn full on the curves, the discriminator map "
        "and the optimal D of it, and the latent explorer asks G for it.")
    first, second = _ends(trainer)
    slider.slider(
        "Label", 0.0, 1.0, _snapped(trainer), 0.05, key=LABEL,
        help=f"The label G reads in the latent explorer: 0 asks for {classes[first]}, 1 for "
        f"{classes[second]}. G only ever saw those two in training: in between, see what it "
        "paints for a label no real curve has.")


def _snap() -> None:
    """The class switch moved: the label slider goes to the class picked."""
    st.session_state[LABEL] = _snapped(session().trainer)

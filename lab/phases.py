"""Slow motion: one training step, or one network's update, shown in its phases.

A training step updates G first, through D as it was (G's curves move along D's push), then D
on the real curves and G's new ones (D's push changes). In slow motion every tick trains a
single step and the page shows the curves before, after G's update and after D's; *Train D* and
*Train G* show the one phase they ran.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from gan_core import RunState, Trainer
from gan_core.serve.session import LabSession
from gan_core.views import charts as ch
from gan_core.views import inference

from . import classes
from .chart import chart
from .state import holder

PHASES = {
    "step": ("Before the step: D's push on G's curves",
             "G's update: the curves move along the push",
             "D's update: D judges again, its push changes"),
    "d": ("Before: D's push on G's curves", "D alone updated: the curves stay, the push changes"),
    "g": ("Before: D's push on G's curves", "G alone updated: the curves move along the push"),
}


@dataclass
class PhaseState:
    kind: str | None = None
    """What ran last: "step", "d" or "g" (None: nothing to show)."""
    before: RunState | None = None
    after: RunState | None = None


def state() -> PhaseState:
    return holder("phases", PhaseState)


def forget() -> None:
    state().kind = None


def tick_slowly(run: LabSession) -> int:
    """A slow-motion tick: one training step, kept with the state before it."""
    with run.lock:
        before = run.trainer.state()
        steps = run.tick(steps=1)
        if steps:
            _keep("step", before, run.trainer.state())
        return steps


def one_step(run: LabSession) -> None:
    with run.lock:
        before = run.trainer.state()
        if run.advance(1, budget=math.inf):
            _keep("step", before, run.trainer.state())


def one_network(run: LabSession, network: str) -> None:
    with run.lock:
        before = run.trainer.state()
        run.train_alone(network)
        if run.diverged is None:
            _keep(network, before, run.trainer.state())


def _keep(kind: str, before: RunState, after: RunState) -> None:
    phase = state()
    phase.kind, phase.before, phase.after = kind, before, after


def strip(trainer: Trainer) -> None:
    """The phases of what ran last, if it is what the run shows now."""
    phase = state()
    if phase.kind is None or phase.after is None or phase.after.step != trainer.step:
        return
    before, after = Trainer.from_state(phase.before), Trainer.from_state(phase.after)
    target = trainer.target.name
    titles = PHASES[phase.kind]
    panels = [(before, True, None), (after, False, before)] if phase.kind == "g" else \
        [(before, True, None), (after, True, None)] if phase.kind == "d" else \
        [(before, True, None), (after, False, before), (after, True, None)]
    st.markdown(f"###### Slow motion · step {phase.before.step:,}"
                + (" → " + f"{phase.after.step:,}" if phase.kind == "step" else ""))
    for col, title, (view, forces, ghost) in zip(st.columns(len(panels)), titles, panels,
                                                 strict=True):
        with col:
            st.caption(title)
            _panel(view, target, forces, ghost, key=f"phase_{titles.index(title)}")


def _panel(view: Trainer, target: str, forces: bool, ghost: Trainer | None, key: str) -> None:
    focus = classes.focus(view) or 0
    curves = inference.curves_view(view, focus=focus)
    pushes = inference.curve_forces(view, curves) if forces else None
    before = inference.curves_view(ghost, focus=focus).generated if ghost is not None else None
    scale = ch.force_scale(pushes, ch.force_reach(target)) if pushes is not None else 1.0
    chart(ch.curves_spec(target, ghost=before is not None, forces=forces, small=True,
                         conditional=view.config.conditional),
          ch.curves_data(curves, target, ghost=before, forces=pushes, scale=scale), key)
    if pushes is not None:
        st.caption(f"Each line: {scale:g} × D's push ({_size(pushes)}).")


def _size(pushes: np.ndarray) -> str:
    return f"largest {float(np.max(np.abs(pushes))):.2g}"

"""The live view: the controls, and the run redrawn every tick while it plays.

Two fragments rerun on their own timers: the fast one (a tick of training, the readouts, the
curves and the fitted-parameter histogram) every period, the panels (history, discriminator
map, latent explorer) at most once a second; their redraw is most of a page's work, and losses
and maps read fine at one frame a second.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import streamlit as st

from gan_core import charts as ch
from gan_core import inference
from gan_core.losses import equilibrium
from gan_core.session import LabSession

from .run import notices, session
from .state import holder

PANEL_SECONDS = 1.0
"""The panels redraw at most this often."""
LATENT_DIM, LATENT_POSITION = "latent_dim_view", "latent_pos"


@dataclass
class LiveState:
    period: float | None = None
    """The period the fragments' timers were started with (None: paused)."""
    last_tick: tuple[int, float] = (0, 0.0)
    """Steps trained and server seconds taken by the last fast tick."""


def live() -> LiveState:
    return holder("live", LiveState)


# -- controls -------------------------------------------------------------------------------------

def controls() -> None:
    run = session()
    buttons = [  # label, icon, callback, disabled, help
        ("Play", "play_arrow", run.play, run.playing, "Train continuously, a tick at a time."),
        ("Pause", "pause", run.pause, not run.playing,
         "Stop training; everything on screen stays."),
        ("Step", "skip_next", lambda: run.advance(budget=math.inf), False,
         "Train one tick's steps and stop."),
        ("Reset", "restart_alt", _reset, False,
         "Start a fresh model from the current settings and seed."),
    ]
    # A row that wraps rather than stacks: on a phone the buttons stay together, in reach.
    with st.container(horizontal=True, vertical_alignment="center", key="controls"):
        for label, icon, callback, disabled, help_text in buttons:
            st.button(label, icon=f":material/{icon}:", key=label.lower(), on_click=callback,
                      disabled=disabled, help=help_text,
                      type="primary" if label == "Play" else "secondary")
    st.caption(status_line(run))


def status_line(run: LabSession) -> str:
    config = run.config
    shared = (" (slowed down: other visitors are playing on this server)"
              if run.period > run.pacing.tick_seconds else "")
    return (f"{'Playing' if run.playing else 'Paused'} · {run.steps_per_tick} steps every "
            f"{run.period:g} s{shared} · target: {run.trainer.target.title} · loss: "
            f"{config.loss.replace('_', ' ')} · lr G {config.lr_g:g} / D {config.lr_d:g}")


def _reset() -> None:
    session().reset()
    notices().info = None


# -- the fragments ---------------------------------------------------------------------------

def fragments() -> None:
    """Start both fragments, with timers at the run's period while it plays."""
    run = session()
    period = live().period = run.period if run.playing else None
    st.fragment(run_every=period)(_fast)()
    st.fragment(run_every=period and max(PANEL_SECONDS, 2 * period))(_panels)()


def chart(spec: dict, data: dict, key: str) -> None:
    with st.container(key=key):  # a stable CSS class (st-key-...) for the browser tests
        st.vega_lite_chart(ch.with_data(spec, data), key=key, width="stretch")


def _fast() -> None:
    started = time.perf_counter()
    run = session()
    was_playing = run.playing
    steps = run.tick()
    if was_playing and not run.playing:
        st.rerun()  # divergence paused training: redraw the controls and stop the timers
    if run.playing and run.period != live().period:
        st.rerun()  # the crowd grew or shrank: restart the timers at the new period
    with run.lock:
        trainer = run.trainer
        target = trainer.config.target
        _readouts(run)
        timing = st.empty()
        left, right = st.columns([3, 2])
        with left:
            st.markdown("##### The generator's curves inside the bounds")
            chart(ch.curves_spec(target),
                  ch.curves_data(inference.curves_view(trainer), target), "curves")
        with right:
            chart(ch.distribution_spec(target),
                  ch.distribution_data(inference.fitted_parameter(trainer), target),
                  "distribution")
    elapsed = time.perf_counter() - started
    live().last_tick = (steps, elapsed)
    timing.caption(f"Last refresh: {steps} training steps, readouts and curves in "
                   f"{1000 * elapsed:.0f} ms on the server.")


def _readouts(run: LabSession) -> None:
    m = run.trainer.evaluate()
    d_eq = -equilibrium(run.config.loss)[0]
    # A row that wraps on a narrow screen instead of stacking five rows.
    row = st.container(horizontal=True, gap="medium", key="readouts")
    row.metric("Step", f"{run.trainer.step:,}", help="Generator updates so far.")
    row.metric("D accuracy", f"{m.d_real:.3f}",
                   help="Mean D(real): D's probability that a real curve is real. Target 0.5, "
                   "where D can no longer tell (the tutorial's 'D accuracy').")
    row.metric("D score", f"{m.d_score:.3f}",
                   help=f"-D_loss (the tutorial's 'D score'). Target {d_eq:.3f} for this loss "
                   "(-log 4 = -1.386 for minimax), where D is reduced to guessing.")
    row.metric("In band", f"{100 * m.in_band:.1f}%",
                   help="Share of generated points inside the target's envelope (±0.05). "
                   "Target 100%; the tutorial reaches ~94% after 10,000 steps.")
    row.metric("W1", f"{m.w1:.3f}",
                   help="Wasserstein-1 distance between the fitted parameter of 1,000 "
                   "generated curves and its true law. 0 is perfect; sampling noise alone "
                   "gives ~0.01. The tutorial reaches ~0.05 after 10,000 steps.")


def _panels() -> None:
    run = session()
    with run.lock:
        trainer = run.trainer
        target = trainer.config.target
        for col, panel in zip(st.columns(4), ch.HISTORY_PANELS, strict=True):
            with col:
                data = ch.history_data(trainer.history, panel)
                if len(data[panel]["step"]):
                    chart(ch.history_spec(panel, trainer.config.loss), data, f"history_{panel}")
                else:  # an empty dataset has no extent for Vega to scale
                    st.caption(f"**{ch.HISTORY_PANELS[panel].title}** fills in as it trains.")
        left, right = st.columns(2)
        with left:
            st.markdown("##### Discriminator map")
            dmap = trainer.discriminator_map(resolution=ch.MAP_RESOLUTION, n_generated=120,
                                             n_real=40)
            chart(ch.discriminator_spec(target), ch.discriminator_data(dmap), "dmap")
        with right:
            st.markdown("##### Latent explorer")
            a, b = st.columns(2)
            dim = a.selectbox("Latent direction", range(trainer.config.latent_dim),
                              format_func=lambda i: f"z[{i}]", key=LATENT_DIM,
                              help="Which input of G to move; the others stay fixed.")
            low, high = inference.LATENT_RANGE
            pos = b.slider("Position", low, high, 0.0, 0.25, key=LATENT_POSITION,
                           help="Value of the chosen input; its curve is drawn bold.")
            chart(ch.latent_spec(target),
                  ch.latent_data(inference.latent_sweep(trainer, dim, pos), target), "latent")

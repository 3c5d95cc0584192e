"""Why it circles: the Dirac-GAN of Mescheder et al. (2018) beside the live run, under the
sidebar's settings as they change (``gan_core.dirac``).

An expander whose content runs only while it is open: its two trajectories cost up to a
second of server time for long horizons with instance noise, so they are computed once per
setting that matters to them (cached) and only for a visitor who looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import streamlit as st

from gan_core import GANConfig
from gan_core.dirac import START, UPDATES, Trajectory, settings_of, trajectory
from gan_core.views import dirac_chart as dc

from .chart import with_arrow_data
from .state import holder

PANEL, STEPS = "dirac", "dirac_steps"
CHART = {"simultaneous": "dirac_simultaneous", "alternating": "dirac_alternating"}
HORIZONS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
TITLES = {"simultaneous": "Simultaneous updates (as the lab trains)",
          "alternating": "Alternating updates (D after G has moved)"}
PAPER = "https://arxiv.org/abs/1801.04406"


@dataclass
class DiracState:
    start: tuple[float, float] = START


def state() -> DiracState:
    return holder("dirac_start", DiracState)


@lru_cache(maxsize=32)
def _trajectory(config: GANConfig, start: tuple[float, float], steps: int,
                updates: str) -> Trajectory:
    return trajectory(config, start, steps, updates)  # type: ignore[arg-type]


def panel(config: GANConfig) -> None:
    """The panel, for the run's settings ``config`` (what the sidebar shows)."""
    with st.expander("Why it circles: the Dirac-GAN", key=PANEL, on_change="rerun",
                     icon=":material/cyclone:") as box:
        if box.open:
            _content(config)


def _content(config: GANConfig) -> None:
    st.markdown(
        f"The smallest GAN ([Mescheder, Geiger & Nowozin 2018]({PAPER})): the real data are one "
        "point at 0, G is a point θ, D a line of slope ψ scoring how real a point looks. Its "
        "only equilibrium is θ = ψ = 0. Arrows: the direction plain gradient descent moves "
        "each player; the path: your sidebar's loss, optimizer, learning rates, D steps and "
        "stabilizers from the start (black). **Click an arrow** to start there.")
    steps = st.select_slider("Steps shown", HORIZONS, value=20_000, key=STEPS,
                             format_func=lambda n: f"{n:,}",
                             help="Training steps of the Dirac-GAN at the sidebar's learning "
                             "rates: at the tutorial's 1e-4, one turn takes tens of thousands.")
    key = GANConfig().replace(**settings_of(config))  # its own settings alone: a cache key
    start = state().start
    field = dc.field_data(key)
    columns = st.columns(2)
    for updates, column in zip(UPDATES, columns, strict=True):
        run = _trajectory(key, start, steps, updates)
        with column, st.container(key=f"{CHART[updates]}_box"):
            st.vega_lite_chart(with_arrow_data(dc.dirac_spec(TITLES[updates]),
                                               {**field, **dc.path_data(run)}),
                               key=CHART[updates], selection_mode="start", width="content",
                               on_select=lambda chart=CHART[updates]: _pick(chart))
            st.caption(describe(run))
    st.caption(_note(config))


def describe(run: Trajectory) -> str:
    """The trajectory in one sentence: its verdict and the numbers behind it."""
    r = run.distance
    return (f"From θ = {run.theta[0]:g}, ψ = {run.psi[0]:g}: **{run.verdict}**, distance to "
            f"the equilibrium {r[0]:.2f} → {r[-1]:.2g} in {run.steps:,} steps, "
            f"{run.turns:.1f} turns around it.")


def _note(config: GANConfig) -> str:
    """What this two-parameter GAN shows of the settings, and what it cannot."""
    if config.spectral_norm:
        return ("With spectral normalisation D's one weight is divided by its own size: its "
                "slope is ±1 and can never turn, so G runs past the data. In a network, "
                "normalisation bounds D's slope while its many weights still turn; this GAN "
                "is too small to show that.")
    if config.loss == "least_squares":
        return ("A line through 0 scores the data 0, so least squares' D can never reach its "
                "target there: the Dirac-GAN shows least squares at a disadvantage.")
    if config.r1 or config.r2 or config.instance_noise:
        return ("R1, R2 and instance noise pull D's slope back towards 0 where the data are: "
                "the arrows turn inwards and both paths settle (Mescheder et al., Figure 1).")
    if config.gp:
        return ("WGAN-GP pulls |ψ| to 1, not 0: D keeps a slope at the data and the paths keep "
                "circling (Mescheder et al., Figure 1).")
    return ("Unregularised, the arrows go round the equilibrium: simultaneous updates spiral "
            "out, alternating ones circle it for ever. Try R1 or instance noise.")


def _pick(chart: str) -> None:
    """A click on an arrow's tail in ``chart``: both paths start there."""
    picked = st.session_state.get(chart)
    points = picked.selection.get("start") if picked is not None else None
    if points:
        state().start = (float(points[0]["theta"]), float(points[0]["psi"]))

"""Driving the page with Streamlit's AppTest: each ``run()`` is one tick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from gan_core import Trainer

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
CHUNK = 20
"""Steps per tick in the page tests."""


def start(query: dict[str, str] | None = None, pacing: bool = True) -> AppTest:
    """The page's first run for a link of ``query``, with ``CHUNK`` steps per tick unless
    ``pacing`` is False (a test of links that needs the query exactly as given)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({**({"steps_per_tick": str(CHUNK)} if pacing else {}), **(query or {})})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def step_readout(at: AppTest) -> int:
    return int(metric(at, "Step").replace(",", ""))


def trainer(at: AppTest) -> Trainer:
    return at.session_state["lab"].trainer


def weights(at: AppTest) -> np.ndarray:
    state = trainer(at).state()
    return np.concatenate([state.g.params, state.d.params])


def play(at: AppTest) -> AppTest:
    at.button(key="play").click().run()
    return at

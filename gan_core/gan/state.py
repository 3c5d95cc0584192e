"""The complete state of a run, as plain copies: what a checkpoint or a snapshot holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data.curves import Curves
from .config import GANConfig
from .engine import NetState
from .schedule import Change


@dataclass(frozen=True)
class RunState:
    """Everything that decides how a run continues: ``Trainer.from_state`` of it goes on
    exactly as the run it was taken from."""

    config: GANConfig
    step: int
    g: NetState
    d: NetState
    rng: dict[str, Any]  # the training stream's numpy bit-generator state
    history: dict[str, dict]  # History.state()
    changes: tuple[Change, ...] = ()
    """Every change made to the run, in order: the run started from ``config`` with them
    undone (``schedule.start_config``). A checkpoint stores them as plain data
    (``schedule.changes_to_plain`` / ``changes_from_plain``)."""
    data: Curves | None = None
    """Your curves, for a run of target ``"data"`` (None for the built-in families)."""

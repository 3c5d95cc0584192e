"""On a real server, a crowd of playing visitors slows everyone's refreshes, and a page follows
its new period without a full run: its live view's timer restarts, its player plays at the new
period and its status line says so, and all come back when the others stop."""

from __future__ import annotations

import asyncio
import re

import pytest

from gan_core.serve.pacing import ticks_per_rerun
from harness.protocol import LoopThread, Visitor, caption_with

pytestmark = pytest.mark.slow

OTHERS = 15
STATUS = re.compile(r"steps every ([0-9.]+) s")


def status_period(visitor: Visitor) -> float | None:
    status = visitor.page.caption_with(" steps every ")
    match = STATUS.search(status or "")
    return float(match[1]) if match else None


def live_period(visitor: Visitor) -> float:
    """The period the player shows frames at, once the live view's timer agrees with it (a
    run of the live view trains a whole number of periods); 0 while they disagree."""
    player = next(n for n in visitor.page.elements() if getattr(n, "frames", None) is not None)
    period = player.frames.period
    interval = visitor.timers.get(player.fragment_id)
    return period if interval == period * ticks_per_rerun(period) else 0.0


def test_a_page_follows_the_crowds_period_without_a_full_run(server_url: str) -> None:
    async def scenario() -> None:
        watcher = Visitor(server_url, "seed=1", "watcher")
        others = [Visitor(server_url, f"seed={k + 2}", f"other {k}") for k in range(OTHERS)]
        try:
            ready = lambda v: v.number("Step") is not None  # noqa: E731
            await asyncio.gather(*(v.open(timeout=300, ready=ready)
                                   for v in [watcher, *others]))
            await watcher.click("Play", caption_with("Playing ·"))
            await watcher.wait_for(lambda v: v.idle and v.timers, 30)
            assert live_period(watcher) == 0.25
            full_runs = watcher.full_runs_started

            await asyncio.gather(*(v.click("Play", caption_with("Playing ·")) for v in others))
            await watcher.wait_for(lambda v: live_period(v) > 0.25, 60)
            slowed = live_period(watcher)
            await watcher.wait_for(lambda v: status_period(v) == slowed, 30)
            assert "(slowed down: other visitors are playing" in watcher.page.caption_with(
                " steps every ")
            assert watcher.full_runs_started == full_runs

            await asyncio.gather(*(v.click("Pause", caption_with("Paused ·")) for v in others))
            await watcher.wait_for(lambda v: live_period(v) == 0.25, 60)
            await watcher.wait_for(lambda v: status_period(v) == 0.25, 30)
            assert "slowed down" not in watcher.page.caption_with(" steps every ")
            assert watcher.full_runs_started == full_runs
            assert watcher.errors == []
        finally:
            await asyncio.gather(*(v.close() for v in [watcher, *others]))

    with LoopThread() as loop:
        loop.run(scenario(), 400)

"""Two replicas behind HAProxy (``harness/balancer.py``, started for real by
``scripts/replicas.py``): visitors are spread over both, and each tab keeps its session on one
replica across its clicks and across a reconnect of its websocket.

The visitors speak Streamlit's protocol as a tab does (``harness/protocol.py``), loading the
page first, so they carry the cookie the balancer sets; a tab's reconnect asks for its session
again, which only the replica that holds it can give back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from harness.balancer import COOKIE, Replicas, find_haproxy, replica_of, replicas
from harness.protocol import LoopThread, Visitor, caption_with, metric_above

pytestmark = pytest.mark.slow
TABS = 6


@pytest.fixture(scope="module")
def balanced() -> Iterator[Replicas]:
    try:
        find_haproxy()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise  # CI installs it (.ci/run): never skip there
        pytest.skip(str(exc))
    with replicas(2, name="test_replicas") as running:
        yield running


def step(visitor: Visitor) -> float:
    value = visitor.number("Step")
    assert value is not None, f"{visitor.name}: no Step readout"
    return value


def test_each_tab_keeps_its_session_on_one_replica_across_clicks_and_reconnects(
        balanced: Replicas) -> None:
    async def scenario() -> None:
        tabs = [Visitor(balanced.url, f"seed={k + 1}", f"tab {k}", load_page=True)
                for k in range(TABS)]
        try:
            await asyncio.gather(*(t.open(timeout=300, ready=lambda v: v.number("Step")
                                          is not None) for t in tabs))
            stuck = {t.name: replica_of(t.cookies) for t in tabs}
            assert set(stuck.values()) == {"r1", "r2"}, stuck  # both replicas serve tabs
            sessions = {t.name: t.session_id for t in tabs}

            # Clicks: each tab plays, trains, pauses, on the replica it started on.
            await asyncio.gather(*(t.click("Play", caption_with("Playing ·")) for t in tabs))
            await asyncio.gather(*(t.wait_for(lambda v: (v.number("Step") or 0) >= 200, 120)
                                   for t in tabs))
            await asyncio.gather(*(t.click("Pause", caption_with("Paused ·")) for t in tabs))
            paused = {t.name: step(t) for t in tabs}

            # A reconnect of each tab's websocket takes up the same session, model and step.
            for t in tabs:
                await t.reconnect()
            for t in tabs:
                assert t.session_id == sessions[t.name], f"{t.name} got a new session"
                assert replica_of(t.cookies) == stuck[t.name]
                assert step(t) >= paused[t.name] > 0
                assert not t.errors, t.errors

            # And it goes on there: Play trains on from where it was.
            await asyncio.gather(*(t.click("Play", caption_with("Playing ·")) for t in tabs))
            await asyncio.gather(*(t.wait_for(
                lambda v, k=t.name: (v.number("Step") or 0) >= paused[k] + 200, 120)
                for t in tabs))
            assert all(t.session_id == sessions[t.name] for t in tabs)
        finally:
            await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)

    with LoopThread() as loop:  # not asyncio.run: a browser test's loop may hold this thread
        loop.run(scenario(), 600)


def test_a_tab_sent_to_the_other_replica_would_lose_its_session(balanced: Replicas) -> None:
    """Control: the same reconnect, with the cookie of the other replica, starts a new session
    with a fresh model there. So the test above could tell a tab that lost its replica."""
    async def scenario() -> None:
        tab = Visitor(balanced.url, "seed=9", "tab", load_page=True)
        try:
            await tab.open(timeout=300, ready=lambda v: v.number("Step") is not None)
            await tab.click("Step", metric_above("Step", 0))
            assert step(tab) > 0
            session = tab.session_id
            tab.cookies[COOKIE] = "r2" if replica_of(tab.cookies) == "r1" else "r1"
            await tab.reconnect()
            assert tab.session_id != session
            assert step(tab) == 0
        finally:
            await tab.close()

    with LoopThread() as loop:
        loop.run(scenario(), 600)

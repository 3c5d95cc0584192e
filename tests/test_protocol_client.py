"""A visitor that speaks Streamlit's websocket protocol sees and drives the page as a browser tab
does: its link, its widgets, the fragment reruns the page asks for, its own session.

The first tests need no server: the page model, the message cache and the URL. The others run
the app on loopback (one server for the module) and visit it without a browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from harness.protocol import (
    LoopThread,
    MessageCache,
    Page,
    Visitor,
    caption_with,
    metric_above,
    stream_url,
    with_param,
)

pytestmark = pytest.mark.slow


# -- the page model, the cache and the URL, without a server ------------------------------------

def block() -> Delta:
    delta = Delta()
    delta.add_block.vertical.SetInParent()
    return delta


def metric(label: str, value: str, fragment_id: str = "") -> Delta:
    delta = Delta(fragment_id=fragment_id)
    delta.new_element.metric.label = label
    delta.new_element.metric.body = value
    return delta


def test_a_full_run_drops_what_it_did_not_rewrite() -> None:
    page = Page()
    page.apply(metric("Step", "0"), [0, 0], "run1")
    page.apply(metric("W1", "0.5"), [0, 1], "run1")
    page.apply(metric("Step", "100"), [0, 0], "run2")
    page.clear_stale("run2", [])
    assert [(n.label, n.text) for n in page.elements()] == [("Step", "100")]


def test_a_fragment_run_drops_only_what_it_did_not_rewrite_inside_its_fragment() -> None:
    page = Page()
    page.apply(metric("Outside", "1"), [0, 0], "full")
    frame = block()
    frame.fragment_id = "live"
    page.apply(frame, [0, 1], "full")
    page.apply(metric("Step", "0", "live"), [0, 1, 0], "full")
    page.apply(metric("Gone", "x", "live"), [0, 1, 1], "full")
    page.apply(frame, [0, 1], "tick")
    page.apply(metric("Step", "100", "live"), [0, 1, 0], "tick")
    page.clear_stale("tick", ["live"])
    assert [(n.label, n.text) for n in page.elements()] == [("Outside", "1"), ("Step", "100")]


def test_a_container_sent_again_keeps_what_it_holds() -> None:
    page = Page()
    page.apply(block(), [1, 0], "run1")
    page.apply(metric("Inside", "1"), [1, 0, 0], "run1")
    page.apply(block(), [1, 0], "run1")
    assert page.metric("Inside") == "1"
    with pytest.raises(ValueError, match="past the end"):
        page.apply(metric("Far", "1"), [1, 0, 5], "run1")


def test_a_cached_message_comes_back_by_reference_until_it_ages_out() -> None:
    cache = MessageCache()
    msg = ForwardMsg(hash="abc")
    msg.metadata.cacheable = True
    msg.delta.new_element.metric.label = "Big"
    cache.keep(msg, msg.SerializeToString())
    ref = ForwardMsg(ref_hash="abc")
    ref.metadata.delta_path[:] = [0, 3]
    resolved = cache.get(ref)
    assert resolved is not None and resolved.delta.new_element.metric.label == "Big"
    assert list(resolved.metadata.delta_path) == [0, 3]
    cache.age(2, [])
    cache.age(2, [])
    cache.age(2, ["another fragment"])  # a run of another fragment does not age it
    assert cache.hashes() == ["abc"]
    cache.age(2, [])
    assert cache.hashes() == []


def test_a_bound_widget_writes_the_url_like_the_browser() -> None:
    assert with_param("seed=3", "loss", ["hinge"]) == "loss=hinge&seed=3"
    assert with_param("loss=hinge&seed=3", "loss", []) == "seed=3"


def test_a_visitor_only_connects_to_loopback() -> None:
    assert stream_url("http://127.0.0.1:8501/") == ("ws://127.0.0.1:8501/_stcore/stream",
                                                    "http://127.0.0.1:8501")
    for url in ("http://example.com:8501/", "http://10.0.0.2:8501/", "https://127.0.0.1:1/",
                "http://127.0.0.1/", "http://localhost:8501/"):
        with pytest.raises(ValueError):
            stream_url(url)


# -- against the app ------------------------------------------------------------------------------

STATUS = " steps every "


def play_out(scenario: Coroutine[Any, Any, None], timeout: float = 120.0) -> None:
    """Run ``scenario`` on a loop of its own thread: the browser tests' Playwright keeps an
    event loop running on this one."""
    with LoopThread() as loop:
        loop.run(scenario, timeout)


def has_step(visitor: Visitor) -> bool:
    return visitor.number("Step") is not None


def test_a_visitor_plays_through_the_reruns_it_sends_and_stops_when_paused(
        server_url: str) -> None:
    async def scenario() -> None:
        async with Visitor(server_url, "seed=3") as visitor:
            await visitor.wait_for(has_step, 60)
            assert visitor.number("Step") == 0
            assert visitor.page.caption_with(STATUS).startswith("Paused")
            assert visitor.timers == {}

            play = await visitor.click("Play", caption_with("Playing ·"))
            assert play.answered
            await visitor.wait_for(lambda v: v.idle and len(v.timers) > 0, 20)
            assert min(visitor.timers.values()) > 0
            after_play, sent = visitor.number("Step"), visitor.auto_reruns_sent
            await visitor.wait_for(lambda v: len(v.fragment_runs(since=play.sent_at)) >= 3, 20)
            assert visitor.auto_reruns_sent >= sent + 3  # it reran the fragments itself
            assert visitor.number("Step") > after_play

            pause = await visitor.click("Pause", caption_with("Paused ·"))
            assert pause.answered
            await visitor.wait_for(lambda v: v.idle, 20)  # the Pause's run shows the last step
            assert visitor.timers == {}
            stopped, sent = visitor.number("Step"), visitor.auto_reruns_sent
            await asyncio.sleep(1.5)
            assert visitor.number("Step") == stopped
            assert visitor.auto_reruns_sent == sent
            assert visitor.errors == []

    play_out(scenario())


def test_a_second_visitor_on_the_same_link_keeps_its_own_model(server_url: str) -> None:
    async def scenario() -> None:
        async with Visitor(server_url, "seed=3") as first, \
                Visitor(server_url, "seed=3") as second:
            await first.wait_for(has_step, 60)
            await second.wait_for(has_step, 60)
            assert first.session_id != second.session_id
            assert second.metric("D accuracy") == first.metric("D accuracy")  # same link

            await first.click("Play", caption_with("Playing ·"))
            await first.wait_for(metric_above("Step", 200), 20)
            await second.change("loss", "hinge", caption_with("loss: hinge"))
            assert second.query == "loss=hinge&seed=3"
            await first.wait_for(metric_above("Step", first.number("Step")), 20)

            assert second.number("Step") == 0
            assert second.page.caption_with(STATUS).startswith("Paused")
            assert second.auto_reruns_sent == 0
            assert "loss: minimax" in first.page.caption_with(STATUS)
            assert first.errors == [] and second.errors == []

    play_out(scenario())


def test_a_bad_setting_in_the_link_shows_its_warning(server_url: str) -> None:
    async def scenario() -> None:
        async with Visitor(server_url, "lr_g=abc") as visitor:
            await visitor.wait_for(has_step, 60)
            warnings = visitor.page.alerts("warning")
            assert len(warnings) == 1 and "lr_g" in warnings[0], warnings
            assert "lr G 0.0001" in visitor.page.caption_with(STATUS)  # the default, unchanged
            assert visitor.errors == [] and visitor.page.exceptions() == []

    play_out(scenario())

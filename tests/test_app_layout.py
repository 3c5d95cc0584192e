"""The page's layout holds still: Streamlit addresses an element by its index among its
siblings, so an element that comes and goes above the live view would move it, and while runs
overlap the browser would show an interrupted run's stale copy beside the new one."""

from __future__ import annotations

from page_driver import play, start
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Node


def path_to(node: Node, wanted: str, path: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    """Index path of the first metric labelled ``wanted`` below ``node``."""
    if getattr(node, "type", None) == "metric" and getattr(node, "label", None) == wanted:
        return path
    if isinstance(node, Block):
        for index, child in node.children.items():
            found = path_to(child, wanted, (*path, index))
            if found is not None:
                return found
    return None


def readouts_place(at: AppTest) -> tuple[int, ...]:
    assert not at.exception, [e.value for e in at.exception]
    found = path_to(at.main, "Step")
    assert found is not None
    return found


def test_the_live_view_keeps_its_place_as_the_run_plays_pauses_and_looks_back() -> None:
    at = start()
    first = readouts_place(at)
    for _ in range(6):  # paused with earlier moments: the look-back slider shows
        at.button(key="step").click().run()
    assert at.select_slider(key="look_back") is not None
    assert readouts_place(at) == first
    play(at)
    assert readouts_place(at) == first


def test_a_notice_above_the_tabs_moves_nothing_below_it() -> None:
    at = start()
    first = readouts_place(at)
    bad = start({"batch_size": "9999"})
    assert bad.warning, "the link's bad value is named"
    assert readouts_place(bad) == first

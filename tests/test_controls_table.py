"""docs/controls.md names every control on the page, and for each a browser test that uses it.

The page is driven with AppTest through the states in which its controls come and go (a run
paused with moments to look back at, a ghost, the guided tour open, each tab, the stability
map's other axes), and every widget key it draws must have its row in the table. Each row's
key must still be on the page, and each test it names must exist in ``tests/browser/``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from page_driver import start
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "controls.md"
BROWSER_TESTS = ROOT / "tests" / "browser"
NOT_WIDGETS_TO_APPTEST = {
    "view": "the tabs, whose choice AppTest keeps but does not list",
    "stability_map": "the map's cells, a chart's selection",
}
"""Keys of controls AppTest does not list as widgets; each still has its row."""
ROW = re.compile(r"^\|[^|]+\|\s*`(?P<key>[a-z0-9_]+)`\s*\|[^|]+\|(?P<tests>[^|]+)\|$")
RANGE = re.compile(r"^(stability_[xy]_range)_[a-z0-9_]+$")
TEST = re.compile(r"`(?P<file>test_[a-z0-9_]+\.py)::(?P<name>test_[a-z0-9_]+)`")


def table() -> dict[str, list[tuple[str, str]]]:
    """Each row's key and the tests it names."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in TABLE.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            key = match["key"]
            assert key not in rows, f"{key} has two rows"
            rows[key] = [(m["file"], m["name"]) for m in TEST.finditer(match["tests"])]
    return rows


def keys(at: AppTest) -> set[str]:
    """The keys of every widget on the page now (main area and sidebar)."""
    assert not at.exception, [e.value for e in at.exception]
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Widget) and node.key:
            found.add(node.key)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    # A stability axis's range is keyed by its field (each field keeps its own range): one row.
    return {RANGE.sub(r"\1", key) for key in found}


def states() -> Iterator[tuple[str, AppTest]]:
    """The page in every state that brings controls of its own."""
    at = start()
    yield "opened", at
    for _ in range(6):
        at.button(key="step").click().run()
    yield "paused, with moments to look back at", at
    at.toggle(key="ghost").set_value(True).run()
    at.select_slider(key="lr_g").set_value(1e-3).run()
    yield "with a ghost", at
    at.session_state["tour"].step = 0
    at.run()
    yield "the tour open", at
    at.session_state["view"] = "Stability map"
    at.run()
    yield "the stability map", at
    at.selectbox(key="stability_x").set_value("loss").run()
    at.selectbox(key="stability_y").set_value("seed").run()
    yield "the stability map over losses and seeds", at
    at.session_state["stability_view"] = "Without and with R1"
    at.run()
    yield "the stability map, without and with R1", at
    at.session_state["view"] = "PyTorch"
    at.run()
    yield "the PyTorch tab", at
    conditional = start({"conditional": "true"})
    yield "a conditional run", conditional
    data = start({"target": "data"})
    yield "your data: a band drawn", data
    for source in ("curves", "csv"):
        data.radio(key="data_source").set_value(source).run()
        yield f"your data: {source}", data


@pytest.fixture(scope="module")
def seen() -> dict[str, set[str]]:
    return {state: keys(at) for state, at in states()}


def test_every_control_on_the_page_has_its_row_in_the_table(seen: dict[str, set[str]]) -> None:
    rows = table()
    missing: dict[str, str] = {}
    for state, found in seen.items():
        for key in sorted(found - set(rows)):
            missing.setdefault(key, state)
    assert not missing, (f"controls with no row in {TABLE.relative_to(ROOT)} (key: the state "
                         f"that shows it): {missing}")


def test_every_row_of_the_table_is_a_control_on_the_page(seen: dict[str, set[str]]) -> None:
    on_page = set().union(*seen.values()) | set(NOT_WIDGETS_TO_APPTEST)
    gone = sorted(set(table()) - on_page)
    assert not gone, f"rows for keys the page no longer has: {gone}"


def test_the_states_bring_the_controls_that_come_and_go(seen: dict[str, set[str]]) -> None:
    """The walk through the page reaches what only some states show."""
    everything = set().union(*seen.values())
    assert {"look_back", "resume_here", "drop_ghost", "tour_back", "tour_next", "tour_skip",
            "stability_run", "stability_x_range", "download_script"} <= everything
    assert "look_back" not in seen["opened"] and "drop_ghost" not in seen["opened"]


def defined_tests() -> dict[str, set[str]]:
    """The test functions of each browser test file."""
    found = {}
    for path in BROWSER_TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        found[path.name] = {node.name for node in tree.body
                            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return found


def test_every_row_names_a_browser_test_that_exists() -> None:
    defined = defined_tests()
    rows = table()
    assert len(rows) >= 40, f"only {len(rows)} rows read from the table: is its format intact?"
    for key, tests in rows.items():
        assert tests, f"{key}: the row names no test"
        for file, name in tests:
            assert name in defined.get(file, set()), f"{key}: {file}::{name} does not exist"
    mentioned = {(m["file"], m["name"]) for m in TEST.finditer(TABLE.read_text())}
    for file, name in mentioned:
        assert name in defined.get(file, set()), f"the text names {file}::{name}, which is gone"

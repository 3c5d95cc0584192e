"""Every file the page offers for download is made outside the script run that drew its button.

Streamlit calls a download button's ``data`` callable when the visitor clicks, on a worker
thread, after the run that drew the button has ended: there is no Session State, no query
string, no run of any kind. A callable that reaches for any of them fails in the visitor's
browser with no file and no message. So these tests collect every callable the page registers
(in every tab), call each on a bare thread, and fail on any access to a run's context.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from page_driver import start, step_readout, trainer
from streamlit.elements.widgets import button as st_button
from streamlit.testing.v1 import AppTest

from gan_core import Trainer
from gan_core.gan.history import History

pytestmark = pytest.mark.usefixtures("no_tick_time_limit")

CSV_HEADER = ["step", *History.TRAIN_COLUMNS, *History.EVAL_COLUMNS]


class Registered:
    """The download callables the page registered, by the button's label."""

    def __init__(self) -> None:
        self.by_label: dict[str, list[Callable[[], object]]] = {}

    def add(self, label: str, data: Callable[[], object]) -> None:
        self.by_label.setdefault(label, []).append(data)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registered]:
    """Record each callable passed as a download button's ``data`` (Streamlit hands it to
    ``marshall_file`` to register)."""
    seen = Registered()
    original = st_button.marshall_file

    def recording(coordinates: str, data: object, proto, *args, **kwargs) -> None:
        if callable(data):
            seen.add(proto.label, data)
        return original(coordinates, data, proto, *args, **kwargs)

    monkeypatch.setattr(st_button, "marshall_file", recording)
    yield seen


class _RunContextWanted(logging.Handler):
    """Streamlit warns "missing ScriptRunContext" whenever code outside a run asks for one
    (Session State, query params, any ``st.`` call): collects those from one thread."""

    def __init__(self, thread: threading.Thread) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.asked: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread.ident:
            self.asked.append(record.getMessage())


def outside_any_run(make: Callable[[], object]) -> object:
    """Call ``make`` as Streamlit does after the run: on a thread of its own. Fails if it
    raised or asked for a run's context."""
    result: list[object] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            result.append(make())
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=call)
    watcher = _RunContextWanted(thread)
    loggers = [logging.getLogger(name) for name in (
        "streamlit.runtime.scriptrunner_utils.script_run_context",
        "streamlit.runtime.state.session_state_proxy")]
    for logger in loggers:
        logger.addHandler(watcher)
    try:
        thread.start()
        thread.join(60)
    finally:
        for logger in loggers:
            logger.removeHandler(watcher)
    assert not errors, f"the download failed outside the run: {errors[0]!r}"
    assert not watcher.asked, f"the download reached for a run's context: {watcher.asked}"
    assert result, "the download did not finish"
    return result[0]


def page_with_every_download(registered: Registered) -> AppTest:
    """A page that trained a little, run once more with the PyTorch tab open: every download
    button the page has is drawn."""
    at = start({"seed": "7"})
    for _ in range(3):
        at.button(key="step").click().run()
    at.session_state["view"] = "PyTorch"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(registered.by_label) >= {"Download checkpoint", "Download history (CSV)"}
    return at


def test_every_download_is_made_outside_the_run_that_drew_its_button(
        registered: Registered) -> None:
    at = page_with_every_download(registered)
    saved_step = step_readout(at)
    assert saved_step > 0
    made = {label: [outside_any_run(make) for make in makes]
            for label, makes in registered.by_label.items()}
    # Both places offer the checkpoint: the sidebar's Save & resume and the PyTorch tab.
    assert len(made["Download checkpoint"]) >= 2
    for data in made["Download checkpoint"]:
        resumed = Trainer.load(io.BytesIO(data))
        assert resumed.step == saved_step
    for text in made["Download history (CSV)"]:
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == CSV_HEADER
        assert len(rows) - 1 == len(set(trainer(at).history.train.steps)
                                    | set(trainer(at).history.eval.steps))


def test_a_download_while_a_tick_trains_is_a_whole_run_of_one_step(
        registered: Registered) -> None:
    """The callable may run while a live tick trains the same session: it waits for the
    session's lock, so the file is one consistent moment of the run."""
    at = page_with_every_download(registered)
    run = at.session_state["lab"]
    run.play()
    stop = threading.Event()

    def ticking() -> None:
        while not stop.is_set():
            run.tick(steps=5)

    trainer_thread = threading.Thread(target=ticking)
    trainer_thread.start()
    try:
        for _ in range(5):
            for make in registered.by_label["Download checkpoint"]:
                resumed = Trainer.load(io.BytesIO(outside_any_run(make)))
                # A whole moment: its history ends at its own step, no row from a later one.
                assert resumed.history.train.steps.max(initial=0) <= resumed.step
                assert np.isfinite(resumed.state().g.params).all()
            for make in registered.by_label["Download history (CSV)"]:
                text = outside_any_run(make)
                assert text.splitlines()[0].split(",") == CSV_HEADER
    finally:
        stop.set()
        trainer_thread.join()
        run.pause()

"""Make the repository importable when pytest is run as ``pytest tests`` from its root."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from gan_core.threads import use_one_thread  # noqa: E402

# As the page does: on a busy machine, BLAS threads waiting on each other make small matrix
# products (kernel density grids, the networks) many times slower.
use_one_thread()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """torch on one thread while a test compares it with the engine or times it, as the
    engine runs; its thread count as it was afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_tick_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live tick stops early past its time budget so one visitor cannot starve the others;
    on a busy test machine that would make step counts vary, so page tests lift it (the budget
    has its own tests in test_session.py)."""
    from gan_core.serve import pacing

    monkeypatch.setattr(pacing, "TICK_BUDGET_SECONDS", 60.0)


@pytest.fixture(autouse=True)
def alone_on_the_server() -> None:
    """Each test's sessions are the only ones playing: the server-wide crowd, which slows
    refreshes when many visitors play, starts empty (its own tests use their own crowds)."""
    from gan_core.serve.crowd import CROWD

    CROWD.clear()


@pytest.fixture(scope="module")
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A ``streamlit run`` of the app on loopback for the tests of one module (its own server,
    so that one module's visitors never count among another's crowd); its log goes to
    ``artifacts/<module>-server.log``."""
    from harness.server import ARTIFACTS, free_port, start_server, stop_server

    module = request.module.__name__.rpartition(".")[2]
    port = free_port()
    proc = start_server(port, ARTIFACTS / f"{module}-server.log")
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_server(proc)

"""Fixtures for the browser tests: one Streamlit server and one Chromium for the whole run,
a fresh browser context and page for every test."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    expect,
    sync_playwright,
)

from harness.browser import CHROMIUM, launch_chromium
from harness.server import ARTIFACTS, free_port, start_server, stop_server

expect.set_options(timeout=20_000)  # a 2-core CI machine that is also training GANs is slow

FAILED = pytest.StashKey[bool]()
VIEWPORT = {"width": 1500, "height": 1200}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test that fails is run once more, in a fresh page, and reported as rerun
    (``R`` in the summary): one Chromium, the server and the tests share two busy cores, and
    Streamlit's overlapping runs make a rare click land between two renders. A test that fails
    twice fails the run."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test's body failed, so its page can be saved for the post-mortem."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium; missing, it fails the run in CI and skips the tests locally."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if in_ci():
            pytest.fail(message + ": CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


SERVER_LOG = ARTIFACTS / "streamlit-server.log"


@pytest.fixture(scope="session")
def app_url(browser: Browser) -> Iterator[str]:
    """Base URL of the app, served by one ``streamlit run`` for all the tests; its log (levels
    warning and up) goes to ``SERVER_LOG``."""
    port = free_port()
    proc = start_server(port, SERVER_LOG)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_server(proc)


# Records every exception box the page ever shows, even one a later run replaces at once.
WATCH_EXCEPTIONS = """
window.seenExceptions = [];
const counted = new WeakSet();
new MutationObserver(() => {
    for (const box of document.querySelectorAll("[data-testid=stException]")) {
        if (!counted.has(box)) {
            counted.add(box);
            window.seenExceptions.push(box.innerText.slice(0, 500));
        }
    }
}).observe(document, {childList: true, subtree: true});
"""


@dataclass
class App:
    """A fresh page on the app, every error or warning its console reported, and where the
    server's log stood when the test began."""

    page: Page
    url: str
    errors: list[tuple[str, str]] = field(default_factory=list)  # (message, resource URL)
    log_start: int = 0
    others: list[App] = field(default_factory=list)
    """Other browsers opened by ``another``: closed, and checked clean, with this one."""

    @classmethod
    def watching(cls, context: BrowserContext, url: str, log_start: int) -> App:
        """A page of ``context`` on the app, its errors and exception boxes watched."""
        context.add_init_script(WATCH_EXCEPTIONS)
        page = context.new_page()
        app = cls(page, url, log_start=log_start)
        page.on("console", app.on_console)
        page.on("pageerror", app.on_page_error)
        return app

    def another(self, **options: object) -> App:
        """A page in a fresh browser context (its own storage: a visitor on another machine),
        ``options`` as for ``Browser.new_context`` (``color_scheme="dark"``...)."""
        browser = self.page.context.browser
        assert browser is not None
        other = App.watching(browser.new_context(**{"viewport": VIEWPORT, **options}),
                             self.url, self.log_start)
        self.others.append(other)
        return other

    def open(self, query: str = "") -> None:
        """Load the app (``query`` like ``"?seed=3"``) and wait for its first run to finish."""
        self.page.goto(self.url + query)
        # The server's very first run imports torch: allow it more than the default timeout.
        expect(self.page.locator("[data-testid=stApp]")).to_have_attribute(
            "data-test-script-state", "notRunning", timeout=90_000)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append((f"console {message.type}: {message.text}",
                                message.location.get("url", "")))

    def on_page_error(self, error: Error) -> None:
        self.errors.append((f"page error: {error.message}", ""))

    def server_log(self) -> str:
        """What the server logged (warnings and errors) since this test began."""
        with SERVER_LOG.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def assert_clean(self) -> None:
        """No exception box (now or at any moment since the page opened), no console error or
        warning, no page error, and nothing logged by the server since the test began."""
        expect(self.page.get_by_test_id("stException")).to_have_count(0)
        # Even one that a later run replaced at once: a visitor saw it.
        seen = self.page.evaluate("() => window.seenExceptions")
        assert seen == [], f"the page showed an exception: {seen}"
        errors = [text for text, _url in self.errors]
        assert errors == [], "\n".join(errors)
        assert self.server_log() == "", self.server_log()[-3000:]
        for other in self.others:
            other.assert_clean()


@pytest.fixture
def app(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[App]:
    """A new context and page; on failure, a screenshot goes to ``artifacts/``."""
    app = App.watching(browser.new_context(viewport=VIEWPORT), app_url,
                       SERVER_LOG.stat().st_size)
    try:
        yield app
        if request.node.stash.get(FAILED, False):
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for i, shown in enumerate([app, *app.others]):
                shown.page.screenshot(path=ARTIFACTS / f"failed-{name}{f'-{i}' if i else ''}.png",
                                      full_page=True)
    finally:
        for opened in [*app.others, app]:
            opened.page.context.close()

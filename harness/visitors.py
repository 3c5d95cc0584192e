"""Several visitors on the app at once, each in its own browser context (so its own Streamlit
session), all driven round-robin from one thread: shared by ``test_concurrency.py`` and
``benchmarks/load.py``.

Each page reads its own state in JavaScript (one round trip per look, not one per element:
with eight pages rendering charts on two cores, every round trip to a page is slow) and times
a click itself: when the click event fires, when the page sends its request, when the server's
answer reaches the page's script and when the page shows it. So a click's answer time is the
page's own, free of the driver's waits, and says where the time went.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Locator, Page
from playwright.sync_api import Error as PlaywrightError

VIEWPORT = {"width": 1500, "height": 1200}
ANSWER_SECONDS = 2.0
"""How soon a click must show on the page while everyone plays."""

_PAGE_SCRIPT = """
(() => {
  const lab = {want: null, clickedAt: null, sentAt: null, wiredAt: null, shownAt: null,
               busy: 0, busySince: performance.now()};
  // Streamlit keeps a hidden copy of some buttons: only the visible one counts.
  const shown = sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null);
  const enabled = key => {
    const button = shown(`.st-key-${key} button`)[0];
    return button ? !button.disabled : null;
  };
  // Readouts and captions as st.metric and st.caption draw them, or as the live view's player
  // (lab/player.js) does.
  const READOUTS = [['stMetric', 'stMetricLabel', 'stMetricValue'],
                    ['labReadout', 'labReadoutLabel', 'labReadoutValue']];
  // Every exception box the page ever shows, even one the next run replaces at once.
  lab.seenExceptions = [];
  const counted = new WeakSet();
  new MutationObserver(() => {
    for (const box of document.querySelectorAll('[data-testid=stException]')) {
      if (!counted.has(box)) {
        counted.add(box);
        lab.seenExceptions.push(box.innerText.slice(0, 300));
      }
    }
  }).observe(document, {childList: true, subtree: true});
  lab.snapshot = () => {
    const metrics = {};
    for (const [cell, labelId, valueId] of READOUTS) {
      for (const m of document.querySelectorAll(`[data-testid=${cell}]`)) {
        const label = m.querySelector(`[data-testid=${labelId}]`);
        const value = m.querySelector(`[data-testid=${valueId}]`);
        if (label && value) metrics[label.innerText.trim()] = value.innerText.trim();
      }
    }
    const captions = [...document.querySelectorAll(
      '[data-testid=stCaptionContainer], [data-testid=labCaption]')].map(e => e.innerText.trim());
    // The status line as the player writes it under the controls, or as st.caption draws it.
    const statusLine = document.querySelector('[data-testid=labStatusLine]')?.innerText.trim();
    return {
      metrics,
      status: statusLine || (captions.find(t => / steps? every /.test(t)) ?? null),
      tick: captions.find(t => t.startsWith('Last tick')) ?? null,
      seed: document.querySelector('.st-key-seed input')?.value ?? null,
      exceptions: lab.seenExceptions.length,
      play: enabled('play'),
      pause: enabled('pause'),
    };
  };
  const step = s => s.metrics.Step === undefined ? NaN : Number(s.metrics.Step.replace(/,/g, ''));
  const shows = want => {
    const s = lab.snapshot();
    return {
      paused: () => s.play === true && s.pause === false,
      playing: () => s.pause === true && s.play === false,
      step_below: () => step(s) < want.value,
      status_has: () => (s.status ?? '').includes(want.value),
    }[want.kind]();
  };
  // Arm for one click: when it lands, when the page sends its request, when the server's
  // answer arrives (the first message holding the text `want.wire`), when the page shows `want`.
  lab.expect = want => {
    Object.assign(lab, {want, clickedAt: null, sentAt: null, wiredAt: null, shownAt: null});
  };
  lab.answered = () => {
    if (lab.shownAt === null && lab.clickedAt !== null && shows(lab.want)) {
      lab.shownAt = performance.now();
    }
    return lab.shownAt !== null;
  };
  // The user's act: a click, or Enter to pick a typed option.
  const acted = () => { if (lab.want) lab.clickedAt ??= performance.now(); };
  window.addEventListener('click', acted, true);
  window.addEventListener('keydown', event => { if (event.key === 'Enter') acted(); }, true);
  new MutationObserver(() => { if (lab.want) lab.answered(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  // Time the page's main thread spent in long tasks (> 50 ms) since `busySince`.
  new PerformanceObserver(list => {
    for (const task of list.getEntries()) lab.busy += task.duration;
  }).observe({type: 'longtask'});
  lab.busyShare = () => lab.busy / (performance.now() - lab.busySince);
  lab.resetBusy = () => { Object.assign(lab, {busy: 0, busySince: performance.now()}); };
  const decoder = new TextDecoder();
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    send(data) {
      if (lab.clickedAt !== null && lab.sentAt === null) lab.sentAt = performance.now();
      return super.send(data);
    }
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        // The status line travels in the player's JSON data, which escapes "·" as \u00b7.
        const wire = lab.want?.wire;
        const text = wire && event.data instanceof ArrayBuffer ? decoder.decode(event.data) : '';
        const escaped = wire && wire.replace(
          /[\\u0080-\\uffff]/g, c => `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        if (wire && lab.clickedAt !== null && lab.wiredAt === null
            && (text.includes(wire) || text.includes(escaped))) {
          lab.wiredAt = performance.now();
        }
      });
    }
  };
  window.__lab = lab;
})();
"""
_TICK = re.compile(r"(\d+) training steps, readouts and curves in (\d+) ms")
PACE = re.compile(r"[\d,]+ steps? every [\d.]+ s( \(slowed down[^)]*\))?")


def button(page: Page, label: str) -> Locator:
    # exact: the help icons are buttons too ("Help for Step", "Help for Steps per tick").
    return page.get_by_role("button", name=label, exact=True)


def toggle(page: Page, label: str) -> Locator:
    """A toggle by its label; the explainer and the tour name the same words in bold text."""
    return page.get_by_test_id("stCheckbox").filter(
        has=page.get_by_text(label, exact=True)).locator("label")


@dataclass(frozen=True)
class Snapshot:
    """What one page shows at one moment."""

    metrics: dict[str, str]
    status: str | None
    tick: str | None
    """The "Last tick" line: steps trained and server time of the tick on screen."""
    seed: str | None
    exceptions: int
    """Exception boxes the page has shown since it opened, even for a moment."""
    play: bool | None
    pause: bool | None

    @property
    def step(self) -> int | None:
        """The "Step" readout; None if the page shows none (it failed, or is still loading)."""
        value = self.metrics.get("Step")
        return None if value is None else int(value.replace(",", ""))

    @property
    def settings(self) -> str | None:
        """The status line without its pace ("100 steps every 0.25 s", and whether sharing the
        server slows it): what this session is and does, which no other session may change.
        The pace is the server's to share, so it follows everyone's load."""
        return None if self.status is None else PACE.sub("", self.status)


@dataclass(frozen=True)
class Answer:
    """How long one click took, in seconds from the click event in the page: until the page
    sent its request, until the server's answer reached the page's script (NaN where it is not
    traced) and until the page showed it; and by the driver, from calling ``Locator.click``
    until it saw the page show it. Sending and the last step are the page's own work."""

    action: str
    sent_s: float
    arrived_s: float
    page_s: float
    driver_s: float

    @property
    def ok(self) -> bool:
        return self.page_s < ANSWER_SECONDS


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Visitor:
    """One visitor: a browser context of its own, the app opened with its own seed, and a log of
    what it saw: the app's errors (console errors, page errors, exceptions shown), steps
    trained, click answer times (and why a click went unanswered), server tick times."""

    index: int
    seed: int
    page: Page
    errors: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    advanced: int = 0
    last_step: int | None = None
    tick_ms: list[int] = field(default_factory=list)
    tick_steps: list[int] = field(default_factory=list)
    play_started: float | None = None
    seen_at: float | None = None

    @classmethod
    def arrive(cls, browser: Browser, base_url: str, index: int, seed: int,
               settings: str = "", viewport: dict[str, int] | None = None,
               init_scripts: tuple[str, ...] = ()) -> Visitor:
        """A new context (a desktop window unless ``viewport`` says otherwise) navigating to
        ``base_url?seed=<seed>`` and any other ``settings`` (``"tick_seconds=1&loss=hinge"``);
        see ``wait_ready``. ``init_scripts`` run in the page before the app's own scripts."""
        context = browser.new_context(viewport=viewport or VIEWPORT)
        context.add_init_script(_PAGE_SCRIPT)
        for script in init_scripts:
            context.add_init_script(script)
        visitor = cls(index, seed, context.new_page())
        visitor.page.on("console", visitor._on_console)
        visitor.page.on("pageerror", visitor._on_page_error)
        query = f"seed={seed}" + (f"&{settings}" if settings else "")
        visitor.page.goto(f"{base_url}?{query}", wait_until="commit")
        return visitor

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the first run has finished and the readouts are on the page (the server's
        first visitor imports torch: allow a slow first run)."""
        self.page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState"
            " === 'notRunning' && window.__lab?.snapshot().metrics.Step !== undefined",
            timeout=timeout * 1000)

    def close(self) -> None:
        self.page.context.close()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text} "
                               f"({message.location.get('url')})")

    def _on_page_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"page error: {error.message}")

    # -- reading --------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(**self.page.evaluate("() => window.__lab.snapshot()"))

    def _error_once(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def observe(self) -> Snapshot:
        """Look at the page and log it: steps trained since the last look (after a drop, as
        from a Reset, the new step counts), the server time of the tick shown, exceptions shown."""
        snap = self.snapshot()
        if snap.exceptions:
            self._error_once(f"stException on the page (by step {_fmt(self.last_step)})")
        if (step := snap.step) is None:
            self._error_once(f"no Step readout on the page (step {_fmt(self.last_step)})")
            return snap
        if self.last_step is not None:
            self.advanced += step - self.last_step if step >= self.last_step else step
        self.last_step, self.seen_at = step, time.monotonic()
        if snap.tick and (match := _TICK.search(snap.tick)) and int(match[1]):
            self.tick_steps.append(int(match[1]))
            self.tick_ms.append(int(match[2]))
        return snap

    @property
    def steps_per_second(self) -> float:
        """Steps trained from pressing Play to the last look."""
        if self.play_started is None or self.seen_at is None:
            return 0.0
        return self.advanced / max(1e-9, self.seen_at - self.play_started)

    @property
    def median_tick_ms(self) -> float:
        return statistics.median(self.tick_ms) if self.tick_ms else math.nan

    # -- acting -------------------------------------------------------------------------------

    def button(self, label: str) -> Locator:
        return button(self.page, label)

    def click_until(self, target: Locator, action: str, want: dict[str, Any],
                    timeout: float = 20.0) -> Answer:
        """Click ``target`` and wait until the page shows ``want`` (see ``_PAGE_SCRIPT``)."""
        # force: no waiting for the page to look still first, which a page busy drawing charts
        # may not do for many seconds; the answer time starts at the click anyway.
        return self.act_until(lambda: target.click(timeout=timeout * 1000, force=True), action,
                              want, timeout)

    def act_until(self, act: Callable[[], None], action: str, want: dict[str, Any],
                  timeout: float = 20.0) -> Answer:
        """Do ``act`` (ending in a click or Enter) and wait until the page shows ``want``;
        logs and returns the answer times, infinite if it never came within ``timeout``."""
        self.page.evaluate("want => window.__lab.expect(want)", want)
        start = time.perf_counter()
        try:
            act()
            self.page.wait_for_function("() => window.__lab.answered()", polling=50,
                                        timeout=timeout * 1000)
            driver_s = time.perf_counter() - start
            times = self.page.evaluate("() => ['clickedAt', 'sentAt', 'wiredAt', 'shownAt']"
                                       ".map(name => window.__lab[name])")
            clicked, sent, wired, shown = (math.nan if t is None else t / 1000 for t in times)
            answer = Answer(action, sent - clicked, wired - clicked, shown - clicked, driver_s)
        except PlaywrightError as exc:
            return self._unanswered(action, exc)
        self.answers.append(answer)
        return answer

    def _unanswered(self, action: str, exc: PlaywrightError) -> Answer:
        answer = Answer(action, math.inf, math.inf, math.inf, math.inf)
        self.unanswered.append(f"{action}: {exc.message.splitlines()[0]}")
        self.answers.append(answer)
        return answer

    def play(self) -> Answer:
        answer = self.click_until(self.button("Play"), "play",
                                  {"kind": "playing", "wire": "Playing \u00b7"})
        if self.play_started is None:
            self.play_started = time.monotonic()
            self.page.evaluate("() => window.__lab.resetBusy()")
            self.observe()
        return answer

    def busy_share(self) -> float:
        """Share of the time since Play that the page's main thread spent in long tasks: a
        page this busy is late to send a click and late to show the answer."""
        return self.page.evaluate("() => window.__lab.busyShare()")

    def pause(self) -> Answer:
        return self.click_until(self.button("Pause"), "pause",
                                {"kind": "paused", "wire": "Paused \u00b7"})

    def reset(self) -> Answer:
        """Reset while playing: answered when the step readout falls below where it was."""
        before = self.observe().step
        answer = self.click_until(self.button("Reset"), "reset",
                                  {"kind": "step_below", "value": before or 0})
        self.observe()
        return answer

    def choose(self, label: str, option: str, shows: str) -> Answer:
        """Type ``option`` into the selectbox ``label`` and press Enter (a dropdown opened by
        a click may take longer to appear than a busy page gives it); answered when the status
        shows ``shows``."""
        box = self.page.get_by_role("combobox", name=label, exact=True)

        def pick() -> None:
            box.focus(timeout=20_000)
            box.press_sequentially(option, timeout=20_000)
            box.press("Enter", timeout=20_000)

        return self.act_until(pick, f"{label.lower()} {option}",
                              {"kind": "status_has", "value": shows, "wire": shows})


# -- a crowd ------------------------------------------------------------------------------------

def open_visitors(browser: Browser, base_url: str, seeds: list[int]) -> list[Visitor]:
    """One visitor per seed, all arriving at once; returned when every page is ready. If one
    fails to open, every context is closed."""
    visitors: list[Visitor] = []
    try:
        for index, seed in enumerate(seeds):
            visitors.append(Visitor.arrive(browser, base_url, index, seed))
        for visitor in visitors:
            visitor.wait_ready()
    except BaseException:
        for visitor in visitors:
            visitor.close()
        raise
    return visitors


def observe_until(visitors: list[Visitor], deadline: float, every: float = 1.0) -> None:
    """Look at every page in turn, about every ``every`` seconds, until ``deadline``
    (``time.monotonic()``); while waiting the driver still takes the pages' events."""
    while True:
        for visitor in visitors:
            visitor.observe()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        visitors[0].page.wait_for_timeout(1000 * min(every, left))


def wait_for_step_above(visitor: Visitor, floor: int, timeout: float = 20.0) -> int | None:
    """The visitor's step once it exceeds ``floor``; None if it did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while (step := visitor.observe().step) is None or step <= floor:
        if time.monotonic() > deadline:
            return None
        visitor.page.wait_for_timeout(250)
    return step


def _fmt(step: int | None) -> str:
    return "none" if step is None else f"{step:,}"


def check_seeds_differ(visitors: list[Visitor]) -> Check:
    """Before training, each page shows its own seed and its own untrained model: the four
    metrics differ between every two seeds (a shared model would show the same numbers)."""
    problems, seen = [], {}
    for visitor in visitors:
        snap = visitor.observe()
        if snap.seed != str(visitor.seed):
            problems.append(f"session {visitor.index} shows seed {snap.seed}, not {visitor.seed}")
        values = tuple(snap.metrics.get(k) for k in ("D accuracy", "D score", "In band", "W1"))
        if values in seen:
            problems.append(f"sessions {seen[values]} and {visitor.index} show the same "
                            f"metrics {values} for seeds {visitors[seen[values]].seed} and "
                            f"{visitor.seed}")
        seen.setdefault(values, visitor.index)
    detail = "; ".join(problems) or (f"{len(visitors)} seeds, {len(seen)} different sets of "
                                     "D accuracy, D score, In band and W1 at step 0")
    return Check("different seeds show different models", not problems, detail)


def check_reset_isolated(resetter: Visitor, watcher: Visitor) -> Check:
    """A Reset in one session: its own step falls, the watcher's neither falls nor stops."""
    before = watcher.observe()
    answer = resetter.reset()
    after = watcher.observe()
    later = wait_for_step_above(watcher, after.step or 0)
    ok = (answer.page_s < math.inf and None not in (before.step, after.step, later)
          and after.step >= before.step and after.settings == before.settings)
    detail = (f"Reset in session {resetter.index} answered in {answer.page_s:.2f} s "
              f"(step {_fmt(resetter.last_step)}); session {watcher.index} step "
              f"{_fmt(before.step)} -> {_fmt(after.step)} -> "
              f"{'stuck' if later is None else f'{later:,}'}, status "
              f"{'unchanged' if after.settings == before.settings else 'CHANGED'}")
    return Check("a Reset leaves the other sessions alone", ok, detail)


def check_setting_isolated(changer: Visitor, watcher: Visitor, loss: str = "hinge") -> Check:
    """A setting changed in one session (the Loss) shows in its status, not the watcher's (whose
    pace may follow the server's load: ``Snapshot.settings``)."""
    before = watcher.observe()
    answer = changer.choose("Loss", loss, shows=f"loss: {loss}")
    after = watcher.observe()
    later = wait_for_step_above(watcher, after.step or 0)
    ok = (answer.page_s < math.inf and after.settings == before.settings
          and f"loss: {loss}" not in (after.status or "")
          and None not in (before.step, after.step, later) and after.step >= before.step)
    detail = (f"Loss {loss} in session {changer.index} answered in {answer.page_s:.2f} s; "
              f"session {watcher.index} status "
              f"{'unchanged' if after.settings == before.settings else repr(after.status)}, step "
              f"{_fmt(before.step)} -> {_fmt(after.step)} -> "
              f"{'stuck' if later is None else f'{later:,}'}")
    return Check("a setting change leaves the other sessions alone", ok, detail)

"""The visitors playing on one server, and how often each may tick so that all are served.

All visitors of one server share its CPU (and one GIL). A tick costs the server a slice of
training and a redraw of the charts, and costs the visitor's browser several times more
(``benchmarks/page.py``). Ticking every visitor as often as it asks would queue them all once a
few play at once, a click included, so the crowd spaces them out.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from typing import Protocol

TICKS_PER_SECOND = 3.0
"""Ticks per second that several playing visitors of one server share."""


class Member(Protocol):
    """What the crowd needs of a session: the period it ticks at now."""

    period: float


class Crowd:
    """The sessions playing on this server, and the tick period that shares it fairly.

    A visitor alone ticks at its own tick interval; once several play, they share
    ``ticks_per_second`` between them: each ticks every ``n / ticks_per_second`` seconds or
    so, training proportionally more steps per tick, so its steps per second hold while the
    server has time for them. Periods come from the ladder 1, 1.5, 2, 3, 4, 6, 8, ... times
    the tick interval, so they change only when the crowd grows or shrinks by about half.

    A session counts while it plays and keeps ticking: one whose page was closed stops ticking,
    and drops out after ``stale_seconds`` past its last period.
    """

    def __init__(self, ticks_per_second: float = TICKS_PER_SECOND,
                 stale_seconds: float = 5.0) -> None:
        if not ticks_per_second > 0:
            raise ValueError(f"ticks_per_second must be > 0, not {ticks_per_second!r}")
        self.ticks_per_second = ticks_per_second
        self.stale_seconds = stale_seconds
        self._lock = threading.Lock()
        self._seen: weakref.WeakKeyDictionary[Member, float] = weakref.WeakKeyDictionary()

    def join(self, session: Member, now: float | None = None) -> None:
        """``session`` is playing and has just ticked."""
        with self._lock:
            self._seen[session] = time.monotonic() if now is None else now

    def leave(self, session: Member) -> None:
        with self._lock:
            self._seen.pop(session, None)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def size(self, now: float | None = None) -> int:
        """How many sessions are playing now (at least the one asking, if it plays)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return sum(now - seen <= self.stale_seconds + session.period
                       for session, seen in list(self._seen.items()))

    def period(self, tick_seconds: float, now: float | None = None) -> float:
        """Seconds between ticks for a session asking for ``tick_seconds``."""
        playing = self.size(now)
        if playing <= 1:
            return tick_seconds
        return tick_seconds * _ladder(playing / self.ticks_per_second / tick_seconds)


def _ladder(factor: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 6, 8, 12, ... that is at least ``factor``."""
    if factor <= 1:
        return 1.0
    power = 2.0 ** math.ceil(math.log2(factor))
    return 0.75 * power if 0.75 * power >= factor else power


CROWD = Crowd()
"""The crowd of this server process: every ``LabSession`` joins it by default."""

"""The visitors playing on one server, and how often each may tick so that all are served.

All visitors of one server share its CPU, and one Python process runs their pages under one
GIL: at most one core's worth of Python at a time, however many cores the machine has. A tick
costs the server a refresh (the page's fragments, their messages) and a slice of training. If
every visitor ticked as often as it asks, the refreshes would queue behind each other once a
few play at once, and a click would wait behind them all.

So the crowd budgets by what the server measures it can do. Every few seconds it reads its own
CPU time, the training time its ticks report, and how much longer that training took on the
clock than on the CPU (the *stretch*: time spent waiting for the GIL or for a core, because
others were running). A server that is busy a share ``rho`` of the time makes work wait in
proportion, stretch ``1 / (1 - rho)`` (a processor shared in turns), so the CPU it used and the
stretch it saw say how much CPU it could have used: its capacity. The visitors playing share
``TARGET_LOAD`` of that capacity evenly, which leaves the rest for clicks: a click's full run
finds the server at most that busy.

A server can only use what the machine has left, though. When other processes keep every core
busy (visitors' browsers on the server's own machine, other tenants of a shared host), the
server's threads wait for a core as long as for the GIL, its messages to the browsers wait
behind its own ticks, and clicks go unanswered for seconds. So the crowd also reads the
machine's idle CPU time over each window: the server's capacity is at most what it used plus
what the machine left idle beyond a reserve (its *room*), and the ticks keep their share below
that. The reserve keeps a part of a core idle for the server's event loop to answer a click at
once: a machine that is merely nearly full still makes it wait behind everyone.

A machine that leaves the server a whole core and a reserve more says something of the stretch
too: the waits were for the GIL, not for a core, and those the stretch overstates. numpy lets
go of the GIL inside each array operation and queues to take it back, so the training of a
server using half a core stretches two to six times, and a crowd that believed it could settle
at about half of what the server can do. There, the capacity is the GIL's core.

Each visitor's share is spent on its refreshes first (the measured cost of a tick apart from
its training, every period) and on training with what is left, at least ``MIN_TRAINING_SHARE``
of it: the period is the shortest on a ladder of the tick interval's multiples whose refreshes
fit, and a tick trains for the rest of the share over that period. A visitor alone always
ticks at its own tick interval, with a full tick's training.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import pacing as _pacing

TARGET_LOAD = 0.75
"""Share of the server's capacity that playing visitors' ticks may take; the rest is kept for
clicks (at this load, work takes ``1 / (1 - 0.75)`` = 4 times its CPU time)."""
MIN_TRAINING_SHARE = 0.1
"""The least share of a visitor's CPU share that goes to training: every visitor advances."""
GIL_CORES = 1.0
"""Cores of Python one process can run at once."""
WINDOW_SECONDS = 2.0
"""Measurements are taken over windows of at least this long..."""
WINDOW_TICKS = 8
"""...holding at least this many ticks (or four times as long), so that a window of a few slow
ticks, or of clicks' full runs with a tick or two among them, does not swing the estimates."""
SMOOTHING = 0.25
"""Weight of the latest window in the running estimate of the capacity from the stretch."""
RISING = 0.75
"""Weight of the latest window in the estimate of a tick's cost when it has risen (a burst of
clicks, each a full run of a page): the ticks make room for the clicks at once..."""
FALLING = 0.5
"""...and when it has fallen: they take the room back over a few windows. Slower, and a class
arriving at once (thirty first runs of the page) kept the ticks slow for most of a minute:
the fewer ticks a window holds, the more of the server's other work each is charged."""
FIRST_OVERHEAD_SECONDS = 0.03
"""What a tick's refresh is assumed to cost before the first window has measured it."""
IDLE_RESERVE = 0.25
"""Cores of the machine's idle time that the room leaves out: kept idle, so that a click's
answer finds a core at once."""
ROOM_WINDOWS = 3
"""The machine's room is the most it left over this many windows: a busy spell as short as a
class arriving at once does not slow the class, a machine busy for longer does."""
MIN_CAPACITY = 0.1
"""The least capacity the crowd assumes, in cores, however busy the machine."""
MARGIN = 0.2
"""A period is shortened only when the shorter one fits with this share of the budget spare,
so that noise in the measurements does not make it flap."""
MAX_PERIOD_SECONDS = 30.0
"""However many play, a visitor's page refreshes at least about this often."""
LADDER = (1.0, 1.25, 1.5, 1.75)
"""Periods are the tick interval times 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, ...: these,
doubled again and again. A new period costs a page nothing (``lab/timers.py``), so the rungs
are close: a crowd gets the shortest period the server affords, not the next one a half up."""


def machine_idle_seconds() -> float | None:
    """Idle CPU seconds of the whole machine since boot, all cores together (``/proc/stat``:
    idle and iowait); None where it cannot be read. In a container this is usually the host's,
    which is what the container's processes compete for."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Member(Protocol):
    """What the crowd needs of a session: the period it ticks at now."""

    period: float


@dataclass(frozen=True)
class Load:
    """What the server measured over its last window, and the running estimates from it."""

    cores_used: float
    """CPU the server process used (all its threads), in cores."""
    overhead: float
    """CPU seconds a tick costs apart from its training (refreshes, and the server's other
    work shared over the ticks: full runs, messages), running estimate."""
    stretch: float
    """Wall time over CPU time of the ticks' training in the window."""
    capacity: float
    """Cores the server may count on (``Crowd.capacity``)."""
    room: float | None = None
    """Cores the server used plus the machine's idle cores beyond ``IDLE_RESERVE``, the most
    of the last few windows (None where the machine's idle time cannot be read)."""


@dataclass(frozen=True)
class Plan:
    """How one visitor ticks: every ``period`` seconds, training for at most
    ``training_budget`` seconds of CPU per tick, out of the ``share`` of the server (CPU
    seconds per second) it may spend."""

    period: float
    training_budget: float
    share: float


class Crowd:
    """The sessions playing on this server, and what each may spend.

    A session counts while it plays and keeps ticking: one whose page was closed stops ticking,
    and drops out after ``stale_seconds`` past its last period. Every tick reports its
    training (``record``) and asks for its plan (``plan``).

    ``clock`` (wall seconds), ``cpu_clock`` (the process's CPU seconds) and ``idle_clock``
    (the machine's idle CPU seconds, all cores together; None: unknown) are injectable, so that
    a test can play a server's measurements.
    """

    def __init__(self, *, target_load: float = TARGET_LOAD, cores: float | None = None,
                 window_seconds: float = WINDOW_SECONDS, stale_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 cpu_clock: Callable[[], float] = time.process_time,
                 idle_clock: Callable[[], float | None] = machine_idle_seconds) -> None:
        if not 0 < target_load < 1:
            raise ValueError(f"target_load must be between 0 and 1, not {target_load!r}")
        if cores is not None and not cores > 0:
            raise ValueError(f"cores must be > 0, not {cores!r}")
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be > 0, not {window_seconds!r}")
        self.target_load = target_load
        self.max_capacity = min(GIL_CORES, cores if cores is not None else _usable_cores())
        self.window_seconds = window_seconds
        self.stale_seconds = stale_seconds
        self._clock, self._cpu_clock, self._idle_clock = clock, cpu_clock, idle_clock
        self._lock = threading.Lock()
        self._seen: weakref.WeakKeyDictionary[Member, float] = weakref.WeakKeyDictionary()
        self._overhead = FIRST_OVERHEAD_SECONDS
        self._stretched = self.max_capacity  # the capacity the stretch says, smoothed
        self._rooms: deque[float] = deque(maxlen=ROOM_WINDOWS)
        self.load: Load | None = None
        """The last window's measurements (None before the first)."""
        self._last_tick = clock()
        self._restart_window(self._last_tick)

    # -- who plays -------------------------------------------------------------------------

    def join(self, session: Member, now: float | None = None) -> None:
        """``session`` is playing and has just ticked."""
        with self._lock:
            self._seen[session] = self._clock() if now is None else now

    def leave(self, session: Member) -> None:
        with self._lock:
            self._seen.pop(session, None)

    def clear(self) -> None:
        """No one plays, and nothing has been measured."""
        with self._lock:
            self._seen.clear()
            self._overhead, self._stretched, self.load = (FIRST_OVERHEAD_SECONDS,
                                                         self.max_capacity, None)
            self._rooms.clear()
            self._last_tick = self._clock()
            self._restart_window(self._last_tick)

    def size(self, now: float | None = None) -> int:
        """How many sessions are playing now (at least the one asking, if it plays)."""
        now = self._clock() if now is None else now
        with self._lock:
            return sum(now - seen <= self.stale_seconds + session.period
                       for session, seen in list(self._seen.items()))

    # -- what the server measures ----------------------------------------------------------

    def record(self, train_cpu: float, train_wall: float, now: float | None = None) -> None:
        """One tick happened, training for ``train_cpu`` seconds of its thread's CPU time and
        ``train_wall`` seconds on the clock. Closes the window once it is long enough."""
        now = self._clock() if now is None else now
        with self._lock:
            if now - self._last_tick > 3 * self.window_seconds:
                self._restart_window(now)  # no one ticked for a while: that was not ticks' work
            self._last_tick = now
            self._ticks += 1
            self._train_cpu += max(0.0, train_cpu)
            self._train_wall += max(0.0, train_wall)
            elapsed = now - self._window_start
            if elapsed >= self.window_seconds and (self._ticks >= WINDOW_TICKS
                                                   or elapsed >= 4 * self.window_seconds):
                self._close_window(now)

    def _restart_window(self, now: float) -> None:
        self._window_start, self._window_cpu = now, self._cpu_clock()
        self._window_idle = self._idle_clock()
        self._ticks, self._train_cpu, self._train_wall = 0, 0.0, 0.0

    def _close_window(self, now: float) -> None:
        wall = now - self._window_start
        cpu = max(0.0, self._cpu_clock() - self._window_cpu)
        used = cpu / wall
        overhead = max(1e-4, (cpu - self._train_cpu) / self._ticks)
        stretch = max(1.0, self._train_wall / self._train_cpu) if self._train_cpu > 0 else 1.0
        busy = 1.0 - 1.0 / stretch
        capacity = self.max_capacity if busy <= 0 else used / busy
        capacity = min(self.max_capacity, max(MIN_CAPACITY, capacity))
        self._overhead += (RISING if overhead > self._overhead else FALLING) * (
            overhead - self._overhead)
        self._stretched += SMOOTHING * (capacity - self._stretched)
        idle = self._idle_clock()
        if idle is not None and self._window_idle is not None:
            idle_cores = max(0.0, idle - self._window_idle) / wall
            self._rooms.append(used + idle_cores - IDLE_RESERVE)
        self.load = Load(used, self._overhead, stretch, self.capacity, self.room)
        self._restart_window(now)

    @property
    def room(self) -> float | None:
        """Cores the server used plus the machine's idle cores beyond ``IDLE_RESERVE``, the
        most of the last ``ROOM_WINDOWS`` windows (None: the machine's idle time is unknown)."""
        return max(self._rooms) if self._rooms else None

    @property
    def capacity(self) -> float:
        """Cores the server may count on: what the stretch says, within the machine's room; the
        GIL's core where the room holds a core and a reserve more (the stretch's waits were for
        the GIL)."""
        room = self.room
        if room is None:
            return self._stretched
        if room >= self.max_capacity + IDLE_RESERVE:
            return self.max_capacity
        return max(MIN_CAPACITY, min(self._stretched, room))

    # -- what a visitor may spend ------------------------------------------------------------

    def share(self, now: float | None = None) -> float:
        """CPU seconds per second that each playing visitor may spend."""
        return self.target_load * self.capacity / max(1, self.size(now))

    def plan(self, tick_seconds: float, current: float | None = None,
             now: float | None = None) -> Plan:
        """The plan of a session asking for ``tick_seconds`` that ticks every ``current``
        seconds now (None: it has just started)."""
        share = self.share(now)
        if self.size(now) <= 1:
            return Plan(tick_seconds, min(_pacing.TICK_BUDGET_SECONDS, 0.6 * tick_seconds), share)
        overhead = self._overhead
        refreshes = (1 - MIN_TRAINING_SHARE) * share  # CPU per second the refreshes may take
        fits = _rung(tick_seconds, min(MAX_PERIOD_SECONDS, overhead / refreshes))
        period = fits
        if current is not None and current > fits:  # shorten only with room to spare
            period = min(current, _rung(tick_seconds, min(
                MAX_PERIOD_SECONDS, overhead / ((1 - MARGIN) * refreshes))))
        training = max(share * period - overhead, MIN_TRAINING_SHARE * share * period)
        return Plan(period, min(_pacing.TICK_BUDGET_SECONDS, 0.6 * period, training), share)


def _rung(tick_seconds: float, at_least: float) -> float:
    """The shortest period of the ladder (``tick_seconds`` times 1, 1.25, 1.5, 1.75, 2, 2.5,
    ...) that is at least ``at_least`` seconds."""
    factor = at_least / tick_seconds
    if factor <= 1:
        return tick_seconds
    power = 2.0 ** math.floor(math.log2(factor))
    for step in (*LADDER, 2.0):
        if step * power >= factor * (1 - 1e-9):
            return tick_seconds * step * power
    raise AssertionError("unreachable: 2 * power >= factor")


def _usable_cores() -> float:
    """Cores this process may run on: its CPU affinity, or a container's CPU quota if lower
    (cgroup v2 ``cpu.max``, as a hosted container sets it)."""
    try:
        cores = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = float(os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return cores


CROWD = Crowd()
"""The crowd of this server process: every ``LabSession`` joins it by default."""

"""The crowd shares what the server can do among the visitors playing on it: it converges to its
target load, shares evenly, slows everyone when the machine is busy, recovers when visitors
leave, keeps room for clicks and never stops a visitor's training.

The server here is simulated: each tick costs a refresh (``overhead`` seconds of CPU) and the
training the crowd allows; the process's CPU clock advances by what the ticks used (no more
than the cores the machine leaves it), and work is stretched as a processor shared in turns
stretches it, ``1 / (1 - load)`` (``convoy`` times more of the wait, for a server whose threads
queue for the GIL at every array operation). Where the simulated machine has a size, its idle
time is what neither the server nor the other processes on it use.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field

import pytest

from gan_core.serve import pacing
from gan_core.serve.crowd import (
    FALLING,
    FIRST_OVERHEAD_SECONDS,
    IDLE_RESERVE,
    MAX_PERIOD_SECONDS,
    MIN_TRAINING_SHARE,
    SMOOTHING,
    TARGET_LOAD,
    Crowd,
    Plan,
    machine_idle_seconds,
)

TICK = 0.25


@dataclass(eq=False)
class Visitor:
    """A playing page: ticks at its period, asks its plan each tick (as ``LabSession``)."""

    tick_seconds: float = TICK
    period: float = TICK
    plans: list[Plan] = field(default_factory=list)


class Server:
    """A simulated server process, its clocks injected into a ``Crowd``."""

    def __init__(self, cores: float = 1.0, overhead: float = 0.012,
                 extra_cores: float = 0.0, machine: float | None = None,
                 others: float = 0.0, convoy: float = 1.0) -> None:
        self.cores = cores  # what the machine leaves the server
        self.machine = machine  # the machine's cores (None: its idle time is unknown)
        self.others = others  # cores the machine's other processes use
        self.overhead = overhead  # CPU a tick costs apart from its training
        self.extra_cores = extra_cores  # other work of the server: clicks' full runs, ...
        self.convoy = convoy  # how many times more the work waits than in turns
        self.now = 0.0
        self.cpu = 0.0
        self.idle = 0.0
        self.crowd = Crowd(clock=lambda: self.now, cpu_clock=lambda: self.cpu,
                           idle_clock=lambda: None if self.machine is None else self.idle)
        self.visitors: list[Visitor] = []
        self._demand = 0.0  # cores the visitors' latest plans ask for
        self._queue: list[tuple[float, int, Visitor]] = []
        self._order = itertools.count()

    def arrive(self, n: int, tick_seconds: float = TICK) -> list[Visitor]:
        new = [Visitor(tick_seconds, tick_seconds) for _ in range(n)]
        for visitor in new:
            self.crowd.join(visitor, now=self.now)
            self._follow(visitor, self.crowd.plan(tick_seconds, None, now=self.now))
            heapq.heappush(self._queue, (self.now + visitor.period, next(self._order), visitor))
        self.visitors += new
        return new

    def ramp(self, n: int, seconds: float = 3.0) -> list[Visitor]:
        """``n`` visitors pressing Play one after another within ``seconds``."""
        arrived = []
        for _ in range(n):
            arrived += self.arrive(1)
            self.run(seconds / n)
        return arrived

    def leave(self, visitors: list[Visitor]) -> None:
        for visitor in visitors:
            self.crowd.leave(visitor)
            self._gone(visitor)

    def _gone(self, visitor: Visitor) -> None:
        self._demand -= self._asks(visitor)
        self.visitors.remove(visitor)

    def _asks(self, visitor: Visitor) -> float:
        return (self.overhead + visitor.plans[-1].training_budget) / visitor.period

    def _follow(self, visitor: Visitor, plan: Plan) -> None:
        if visitor.plans:
            self._demand -= self._asks(visitor)
        visitor.plans.append(plan)
        visitor.period = plan.period
        self._demand += self._asks(visitor)

    def demand(self) -> float:
        """Cores the playing visitors' plans ask for, and the server's other work."""
        return self.extra_cores + self._demand

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while self._queue and self._queue[0][0] <= end:
            at, _, visitor = heapq.heappop(self._queue)
            if visitor not in self.visitors:
                continue
            load = min(0.95, self.demand() / self.cores)
            served = min(1.0, self.cores / self.demand())  # a saturated server falls behind
            self.cpu += (at - self.now) * self.extra_cores * served
            self._idle_for(at - self.now)
            self.now = at
            self.crowd.join(visitor, now=at)
            plan = self.crowd.plan(visitor.tick_seconds, visitor.period, now=at)
            self._follow(visitor, plan)
            trained = plan.training_budget * served
            self.cpu += (self.overhead + plan.training_budget) * served
            self.crowd.record(trained, trained * (1 + self.convoy * load / (1 - load)), now=at)
            heapq.heappush(self._queue, (at + visitor.period, next(self._order), visitor))
        self.cpu += (end - self.now) * self.extra_cores
        self._idle_for(end - self.now)
        self.now = end

    def _idle_for(self, seconds: float) -> None:
        if self.machine is not None:
            used = min(self.cores, self.demand())
            self.idle += seconds * max(0.0, self.machine - self.others - used)

    def periods(self) -> set[float]:
        return {v.period for v in self.visitors}


def test_a_visitor_alone_ticks_at_its_tick_interval_with_a_full_tick_of_training() -> None:
    server = Server(cores=0.2, overhead=0.05)  # even on a busy machine, with costly refreshes
    (alone,) = server.arrive(1)
    server.run(20)
    assert {p.period for p in alone.plans} == {TICK}
    assert {p.training_budget for p in alone.plans} == {min(pacing.TICK_BUDGET_SECONDS,
                                                            0.6 * TICK)}


def test_a_machine_kept_busy_by_other_processes_leaves_the_ticks_its_room_only() -> None:
    """Browsers on the server's own machine leave it 0.55 of a core: the ticks keep below that
    less the reserve, so the machine keeps at least the reserve idle for clicks; once the
    others stop, the room is back within a few windows."""
    server = Server(cores=1.0, overhead=0.012, machine=2.0, others=1.45)
    server.ramp(8)
    server.run(60)
    load = server.crowd.load
    assert load is not None and load.room is not None
    assert load.capacity == pytest.approx(0.55 - IDLE_RESERVE, rel=0.15)
    assert server.machine - server.others - server.demand() >= IDLE_RESERVE  # a click finds a core
    assert load.capacity <= load.room
    server.others = 0.0
    server.run(12)
    assert server.crowd.load.capacity > 0.9


def test_a_short_busy_spell_of_the_machine_does_not_slow_the_crowd() -> None:
    """A class arriving at once fills the machine for a few seconds: no page slows for it."""
    server = Server(cores=1.0, overhead=0.012, machine=2.0)
    server.ramp(30)
    server.run(30)
    settled = server.periods()
    server.others = 1.9
    server.run(4)  # two windows
    server.others = 0.0
    assert server.crowd.capacity > 0.9
    server.run(10)
    assert server.periods() == settled


def test_the_machine_idle_time_is_read_from_the_kernel_and_only_grows() -> None:
    first = machine_idle_seconds()
    assert isinstance(first, float) and first > 0
    assert machine_idle_seconds() >= first


def test_a_machine_with_room_to_spare_leaves_the_crowd_the_gils_core() -> None:
    """The same crowd on a machine with cores to spare: the GIL is the limit, as the stretch
    says of a server shared in turns."""
    with_room = Server(cores=1.0, overhead=0.012, machine=2.0, others=0.2)
    unknown = Server(cores=1.0, overhead=0.012)
    for server in (with_room, unknown):
        server.ramp(30)
        server.run(40)
    assert with_room.crowd.load.capacity == 1.0
    assert unknown.crowd.load.capacity == pytest.approx(1.0, rel=0.05)
    assert with_room.periods() == unknown.periods()


def test_a_stretch_that_overstates_the_load_does_not_slow_a_crowd_whose_machine_has_room() -> None:
    """numpy gives up the GIL inside each array operation and waits to take it back, so training
    stretches far more than on a processor shared in turns. Read from that stretch, a class
    would settle at a fraction of the server; where the machine leaves the server a core and a
    reserve more, the crowd does not go by the stretch, and the class ticks as often as with a
    stretch that tells the truth."""
    honest, convoy, blind = Server(machine=2.0), Server(machine=2.0, convoy=4.0), Server(
        convoy=4.0)
    for server in (honest, convoy, blind):
        server.ramp(30)
        server.run(40)
    assert convoy.periods() == honest.periods()
    assert min(blind.periods()) > max(honest.periods())


def test_on_a_machine_without_a_core_to_spare_the_stretch_still_counts() -> None:
    """Where the machine leaves the server less than a core and a reserve, its threads wait for
    cores too, and the ticks keep below what the stretch says when that is less than the
    room."""
    server = Server(machine=2.0, others=1.0, convoy=4.0)
    server.ramp(8)
    server.run(60)
    load = server.crowd.load
    assert load.room < 1.0
    assert load.capacity < 0.85 * load.room


def test_a_crowd_converges_to_its_target_load_and_stays_there() -> None:
    server = Server(cores=1.0, overhead=0.012)
    server.ramp(30)
    server.run(40)
    assert server.crowd.load is not None
    assert server.crowd.load.capacity == pytest.approx(1.0, rel=0.1)
    assert server.crowd.load.overhead == pytest.approx(0.012, rel=0.05)
    settled = server.periods()
    assert len(settled) == 1
    assert server.demand() == pytest.approx(TARGET_LOAD, rel=0.1)  # all of the target...
    assert server.demand() <= TARGET_LOAD * 1.01  # ...and no more
    server.run(60)
    assert server.periods() == settled


def test_everyone_playing_shares_evenly() -> None:
    server = Server(cores=1.0, overhead=0.01)
    server.arrive(20)
    server.arrive(20, tick_seconds=0.5)
    server.run(40)
    fast, slow = server.visitors[:20], server.visitors[20:]
    assert len({v.period for v in fast}) == 1 and len({v.period for v in slow}) == 1
    assert fast[0].period > TICK and slow[0].period > 0.5
    spend = [(v.plans[-1].training_budget + server.overhead) / v.period for v in server.visitors]
    assert max(spend) <= 1.5 * min(spend)  # the same share, to a rung of the ladder
    shares = [v.plans[-1].share for v in server.visitors]
    assert max(shares) == pytest.approx(min(shares), rel=0.05)


def test_more_visitors_tick_less_often_and_train_less_per_second_each() -> None:
    rates = {}
    for n in (2, 8, 30, 100):
        server = Server(cores=1.0, overhead=0.012)
        server.ramp(n)
        server.run(60)
        (period,) = {v.period for v in server.visitors}
        rates[n] = (period, max(v.plans[-1].training_budget for v in server.visitors) / period)
    periods = [rates[n][0] for n in sorted(rates)]
    training = [rates[n][1] for n in sorted(rates)]
    assert periods == sorted(periods) and periods[0] < periods[-1]
    assert training == sorted(training, reverse=True)


def test_a_busy_machine_slows_everyone_to_what_it_leaves_the_server() -> None:
    idle, busy = Server(cores=1.0), Server(cores=0.4)  # other processes take the rest
    for server in (idle, busy):
        server.arrive(20)
        server.run(40)
    assert busy.crowd.load is not None
    assert busy.crowd.load.capacity == pytest.approx(0.4, rel=0.15)
    assert busy.periods() and min(busy.periods()) > max(idle.periods())
    assert busy.demand() <= TARGET_LOAD * 0.4 * 1.15


def test_the_crowd_recovers_when_visitors_leave() -> None:
    server = Server(cores=1.0, overhead=0.012)
    crowded = server.ramp(30)
    server.run(60)
    (slow,) = server.periods()
    server.leave(crowded[5:])
    server.run(60)
    (fewer,) = server.periods()
    assert fewer < slow
    server.leave(crowded[1:5])
    server.run(10)
    assert server.periods() == {TICK}


def test_visitors_who_stop_ticking_drop_out_of_the_crowd() -> None:
    server = Server()
    gone = server.arrive(20)
    server.run(10)
    for visitor in gone[1:]:  # tabs closed: no more ticks, and no goodbye
        server._gone(visitor)
    server.run(30)
    assert server.crowd.size(now=server.now) == 1 and server.periods() == {TICK}


def test_clicks_keep_their_share_of_the_server() -> None:
    """Full runs (clicks, first visits) are the server's work apart from ticks: they count in
    a tick's measured cost, so the ticks make room for them rather than the other way round."""
    quiet, clicking = Server(cores=1.0), Server(cores=1.0, extra_cores=0.2)
    for server in (quiet, clicking):
        server.arrive(20)
        server.run(40)
    assert min(clicking.periods()) > max(quiet.periods())
    assert clicking.demand() <= TARGET_LOAD * 1.05  # clicks included: the reserve is kept
    for v in clicking.visitors:
        assert v.plans[-1].training_budget <= pacing.TICK_BUDGET_SECONDS


def test_a_burst_of_clicks_makes_room_for_itself_within_a_window_or_two() -> None:
    server = Server(cores=1.0)
    server.ramp(20)
    server.run(90)
    (before,) = server.periods()
    server.extra_cores = 0.3  # every student presses Play or Pause at once: full runs
    server.run(6)
    assert min(server.periods()) > before
    server.extra_cores = 0.0
    server.run(120)
    assert server.periods() == {before}


def test_a_class_arriving_at_once_slows_the_ticks_for_a_few_seconds_only() -> None:
    """Thirty first runs of the page within a few seconds are a burst of the server's other
    work: the ticks make room for it, then, with the class clicking now and then, are back at
    their period within a few windows, however few ticks those windows hold."""
    server = Server(machine=2.0, extra_cores=0.2)
    server.ramp(30)
    server.run(40)
    settled = server.periods()
    server.extra_cores = 0.9
    server.run(3)
    assert max(server.periods()) > max(settled)
    server.extra_cores = 0.2
    server.run(15)
    assert server.periods() == settled


@pytest.mark.parametrize("n", [40, 400, 2000])
def test_every_visitor_trains_however_many_play(n: int) -> None:
    server = Server(cores=1.0, overhead=0.012)
    server.arrive(n)
    server.run(120)
    for v in server.visitors:
        plan = v.plans[-1]
        assert plan.training_budget > 0 and plan.period <= 2 * MAX_PERIOD_SECONDS
        assert plan.training_budget >= min(
            MIN_TRAINING_SHARE * plan.share * plan.period,  # at least its training share
            pacing.TICK_BUDGET_SECONDS, 0.6 * plan.period) * 0.999


def test_noisy_measurements_do_not_make_the_period_flap() -> None:
    server = Server(cores=1.0, overhead=0.012)
    server.ramp(30)
    server.run(120)
    settled = server.periods()
    changes = 0
    for k in range(40):  # refreshes cost a quarter more or less from one window to the next
        server.overhead = 0.012 * (1.25 if k % 2 else 0.75)
        server.run(2)
        changes += server.periods() != settled
        settled = server.periods()
    assert changes == 0


def test_the_capacity_is_what_the_server_used_over_how_busy_its_work_waited() -> None:
    now, cpu = [0.0], [0.0]
    crowd = Crowd(clock=lambda: now[0], cpu_clock=lambda: cpu[0], window_seconds=2.0,
                  idle_clock=lambda: None)
    for _ in range(20):  # 2 s: 0.3 cores used, training took twice its CPU time on the clock
        now[0] += 0.1
        cpu[0] += 0.03
        crowd.record(0.01, 0.02)
    load = crowd.load
    assert load is not None
    assert load.cores_used == pytest.approx(0.3)
    assert load.stretch == pytest.approx(2.0)
    # busy half the time: the server could use 0.6 cores; the running estimates move from
    # their first assumptions (one core, FIRST_OVERHEAD_SECONDS a tick) towards it, by
    # SMOOTHING and (a tick's cost has fallen) FALLING
    assert load.capacity == pytest.approx(1.0 + SMOOTHING * (0.6 - 1.0))
    assert load.overhead == pytest.approx(FIRST_OVERHEAD_SECONDS
                                          + FALLING * (0.02 - FIRST_OVERHEAD_SECONDS))


def test_a_window_of_a_few_ticks_stays_open_until_it_has_enough() -> None:
    now, cpu = [0.0], [0.0]
    crowd = Crowd(clock=lambda: now[0], cpu_clock=lambda: cpu[0], window_seconds=2.0,
                  idle_clock=lambda: None)
    for _ in range(3):  # three slow ticks and a click's full run among them
        now[0] += 2.0
        cpu[0] += 0.5
        crowd.record(0.01, 0.01)
    assert crowd.load is None
    for _ in range(5):
        now[0] += 0.4
        crowd.record(0.01, 0.01)
    assert crowd.load is not None  # eight ticks: the window closes


def test_an_idle_pause_is_not_counted_as_ticks_work() -> None:
    now, cpu = [0.0], [0.0]
    crowd = Crowd(clock=lambda: now[0], cpu_clock=lambda: cpu[0], window_seconds=2.0,
                  idle_clock=lambda: None)
    crowd.record(0.01, 0.01)
    now[0], cpu[0] = 100.0, 5.0  # nobody played for 100 s; the server did other things
    crowd.record(0.01, 0.01)
    assert crowd.load is None  # the window started again at the first tick after the pause
    for _ in range(21):
        now[0] += 0.1
        cpu[0] += 0.02
        crowd.record(0.01, 0.01)
    assert crowd.load is not None and crowd.load.cores_used == pytest.approx(0.2)


@pytest.mark.parametrize("kwargs", [{"target_load": 0.0}, {"target_load": 1.0},
                                    {"target_load": math.nan}, {"cores": 0},
                                    {"window_seconds": 0}])
def test_a_crowd_refuses_a_meaningless_setting(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Crowd(**kwargs)

"""Name what a run's history shows: mode collapse, D overpowering G, oscillation.

Each detector reads only a :class:`~gan_core.gan.history.History` (so it works on a loaded run as
on a live one) and returns :class:`Event` s: a kind, the first and last step it covers and one
sentence for a learner. Every threshold below comes from ``scripts/calibrate_events.py``, which
trains healthy configurations and configurations known to show each behaviour over several
seeds and prints each detector's statistic for all of them: a threshold sits between the worst
healthy run and the mildest run showing the behaviour, with a margin on both sides.

Windows are in steps, not rows: a long run's history is thinned (``Series`` doubles its stride),
so a window holds fewer rows later on. Behaviours faster than a few rows of the current stride
(an oscillation with a period under ~8 strides) are beyond what a thinned history can show; the
oscillation window widens with the stride to keep enough rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..gan.history import History, Series

COLLAPSE = "mode_collapse"
OVERPOWER = "d_overpowers"
OSCILLATION = "oscillation"

COLLAPSE_SPREAD = 0.1
"""Collapsed: the fitted parameter's interquartile range under this share of the target's."""
COLLAPSE_HOLD = 500
"""...for at least this many steps (every evaluation row in between collapsed)."""
LEARNED_SPREAD = 0.5
"""G starts collapsed (all its curves alike); a collapse counts once the spread has reached this
share of the target's, or from ``COLLAPSE_WARMUP`` on if it never does."""
COLLAPSE_WARMUP = 2000

OVERPOWER_GAP = 0.3
"""D overpowers G where ``D(real) - D(fake)``, averaged over ``OVERPOWER_SMOOTH`` steps, is at
least this (0 at equilibrium, 1 when D separates them perfectly)..."""
OVERPOWER_SMOOTH = 200
OVERPOWER_HOLD = 1000
"""...for at least this many steps."""

OSCILLATION_WINDOW = 1000
"""D(real) is examined in windows of this many steps (or ``MIN_ROWS`` rows, if more), each half
overlapping the next, with the window's straight-line trend removed (a drift, such as the
settling of the first few hundred steps, is not an oscillation)."""
OSCILLATION_AMPLITUDE = 0.033
"""A window oscillates if the RMS of what is left, smoothed over three rows to damp batch noise,
is at least this..."""
OSCILLATION_COHERENCE = 0.5
"""...and consecutive rows are correlated at least this much (batch noise is not)..."""
OSCILLATION_CYCLES = 4
"""...and it crosses zero at least twice this many times: it swings back and forth rather than
wandering once. An oscillation is two or more consecutive such windows."""
MIN_ROWS = 64
"""A window holds at least this many rows: in a thinned history it spans more steps, so the
slowest swing it can count four times grows with the stride, as the fastest one the rows can
still follow does (about eight strides)."""


@dataclass(frozen=True)
class Event:
    """Something a run did, between two steps, in one sentence."""

    kind: str
    first_step: int
    last_step: int
    explanation: str


def detect_events(history: History,
                  critic_spans: Sequence[tuple[int, int]] = ()) -> list[Event]:
    """Every event of every detector, by first step.

    ``critic_spans``: ``(first, last)`` steps during which D was a wasserstein critic. Its
    outputs there are scores, not probabilities, so "D overpowers G" and "oscillation", which
    read D(real) and D(fake) with thresholds calibrated on probabilities, skip those rows.
    """
    outputs = history if not critic_spans else _without(history, critic_spans)
    events = [*mode_collapse(history), *d_overpowers(outputs), *oscillation(outputs)]
    return sorted(events, key=lambda e: (e.first_step, e.kind))


def _without(history: History, spans: Sequence[tuple[int, int]]) -> History:
    """A copy of ``history`` whose D outputs are NaN in ``spans``."""
    copy = History()
    copy.load_state(history.state())
    steps = copy.train.steps
    hidden = np.zeros(len(steps), bool)
    for first, last in spans:
        hidden |= (steps >= first) & (steps <= last)
    for column in ("d_real", "d_fake"):
        copy.train._rows[: len(steps), copy.train.columns.index(column)][hidden] = np.nan
    return copy


# -- mode collapse -------------------------------------------------------------------------


def mode_collapse(history: History) -> list[Event]:
    """Stretches of at least ``COLLAPSE_HOLD`` steps where the spread of G's curves
    (``spread``: the interquartile range of the fitted parameter over the target's) stayed
    under ``COLLAPSE_SPREAD``, once G had first learned some variety."""
    steps, spread = _eligible_spread(history.eval)
    # Your data have no family parameter: their spread is that of the first principal
    # component's score (``DataMetrics.spread``).
    of = ("first principal component's scores", "real curves'") \
        if "sliced_w1" in history.eval.columns else ("fitted parameters", "target's")
    events = []
    for i, j in _runs(spread < COLLAPSE_SPREAD, steps, COLLAPSE_HOLD):
        low = float(np.min(spread[i: j + 1]))
        events.append(Event(COLLAPSE, int(steps[i]), int(steps[j]), (
            f"From step {steps[i]:,} to {steps[j]:,} G painted nearly the same curve whatever "
            f"its noise: the spread of its curves' {of[0]} fell to {low:.0%} of the {of[1]} "
            "(mode collapse).")))
    return events


def _eligible_spread(series: Series) -> tuple[np.ndarray, np.ndarray]:
    """The eval rows a collapse may be read from: from the first whose spread reached
    ``LEARNED_SPREAD``, or from ``COLLAPSE_WARMUP`` if that comes first."""
    steps, spread = series.steps, series.column("spread")
    learned = np.flatnonzero(spread >= LEARNED_SPREAD)
    start = min(steps[learned[0]] if len(learned) else np.inf, COLLAPSE_WARMUP)
    keep = steps >= start
    return steps[keep], spread[keep]


def collapse_statistic(history: History) -> float:
    """The lowest spread held for ``COLLAPSE_HOLD`` steps in the eligible rows: a collapse is
    detected where it is under ``COLLAPSE_SPREAD``. Infinite if the run is too short."""
    steps, spread = _eligible_spread(history.eval)
    return _held_extreme(np.nan_to_num(spread, nan=np.inf), steps, COLLAPSE_HOLD, low=True)


# -- D overpowers G ------------------------------------------------------------------------


def _smoothed_gap(series: Series) -> tuple[np.ndarray, np.ndarray]:
    gap = series.column("d_real") - series.column("d_fake")
    rows = max(1, round(OVERPOWER_SMOOTH / series.stride))
    return series.steps, _centred_mean(gap, rows)


def d_overpowers(history: History) -> list[Event]:
    """Stretches of at least ``OVERPOWER_HOLD`` steps where D told real from generated curves
    apart by at least ``OVERPOWER_GAP`` in mean output."""
    steps, gap = _smoothed_gap(history.train)
    events = []
    for i, j in _runs(gap >= OVERPOWER_GAP, steps, OVERPOWER_HOLD):
        mean = float(np.mean(gap[i: j + 1]))
        events.append(Event(OVERPOWER, int(steps[i]), int(steps[j]), (
            f"From step {steps[i]:,} to {steps[j]:,} D told real curves from generated ones "
            f"with ease (D(real) - D(fake) = {mean:.2f} on average, 0 at equilibrium): D is far "
            "ahead of G and rejects its curves with confidence (D overpowers G).")))
    return events


def overpower_statistic(history: History) -> float:
    """The largest smoothed gap ``D(real) - D(fake)`` held for ``OVERPOWER_HOLD`` steps: D
    overpowers G where it is at least ``OVERPOWER_GAP``."""
    steps, gap = _smoothed_gap(history.train)
    return _held_extreme(np.nan_to_num(gap, nan=-np.inf), steps, OVERPOWER_HOLD, low=False)


# -- oscillation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One window of D(real): its first and last step and what the oscillation rule reads."""

    first_step: int
    last_step: int
    amplitude: float  # RMS about the window's trend line, smoothed over three rows
    coherence: float  # lag-one autocorrelation of the rows
    cycles: float  # mean crossings of the smoothed signal, halved

    @property
    def oscillates(self) -> bool:
        return (self.amplitude >= OSCILLATION_AMPLITUDE
                and self.coherence >= OSCILLATION_COHERENCE
                and self.cycles >= OSCILLATION_CYCLES)


def oscillation_windows(history: History) -> list[Window]:
    """D(real) in windows of ``OSCILLATION_WINDOW`` steps, half overlapping, each with what the
    oscillation rule reads of it."""
    series = history.train
    steps, values = series.steps, series.column("d_real")
    rows = max(MIN_ROWS, round(OSCILLATION_WINDOW / series.stride))
    windows = []
    for start in range(0, len(steps) - rows + 1, max(1, rows // 2)):
        x = values[start: start + rows]
        if not np.isfinite(x).all():
            continue
        t = np.arange(rows) - (rows - 1) / 2
        centred = x - x.mean() - t * (t @ x) / (t @ t)
        smooth = np.convolve(centred, np.ones(3) / 3, mode="valid")
        spread = centred.std()
        coherence = (float(np.mean(centred[:-1] * centred[1:]) / spread**2) if spread > 0
                     else 0.0)
        crossings = int(np.count_nonzero(np.diff(np.sign(smooth)) != 0))
        windows.append(Window(int(steps[start]), int(steps[start + rows - 1]),
                              float(np.sqrt(np.mean(smooth**2))), coherence, crossings / 2))
    return windows


def oscillation(history: History) -> list[Event]:
    """Stretches of two or more consecutive windows in which D(real) swings about its trend
    with sizeable amplitude, coherently and repeatedly: D and G keep overshooting each other."""
    events: list[Event] = []
    group: list[Window] = []
    for window in [*oscillation_windows(history), None]:
        if window is not None and window.oscillates and (
                not group or window.first_step <= group[-1].last_step):
            group.append(window)
            continue
        if len(group) >= 2:
            amplitude = float(np.median([w.amplitude for w in group]))
            period = float(np.median([(w.last_step - w.first_step) / w.cycles for w in group]))
            first, last = group[0].first_step, group[-1].last_step
            events.append(Event(OSCILLATION, first, last, (
                f"From step {first:,} to {last:,} D(real) swung up and down (by about "
                f"±{amplitude:.2f}, a full cycle every ~{period:,.0f} steps) instead of settling: "
                "D and G keep overshooting each other (oscillation).")))
        group = [window] if window is not None and window.oscillates else []
    return events


def oscillation_statistic(history: History) -> float:
    """The largest amplitude held by two consecutive windows that are coherent and cyclic
    enough: D(real) oscillates where it is at least ``OSCILLATION_AMPLITUDE``. 0 if no two
    consecutive windows qualify."""
    amplitudes = [w.amplitude if w.coherence >= OSCILLATION_COHERENCE
                  and w.cycles >= OSCILLATION_CYCLES else 0.0
                  for w in oscillation_windows(history)]
    return max((min(pair) for pair in itertools.pairwise(amplitudes)), default=0.0)


# -- helpers ---------------------------------------------------------------------------------


def _centred_mean(x: np.ndarray, rows: int) -> np.ndarray:
    """Mean over ``rows`` rows centred on each row (fewer at the ends)."""
    if len(x) == 0:
        return np.asarray(x, float)
    kernel = np.ones(min(rows, len(x)))  # "same" is as long as the longer of the two
    total = np.convolve(np.nan_to_num(x), kernel, mode="same")
    count = np.convolve(np.isfinite(x).astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _runs(mask: np.ndarray, steps: np.ndarray, hold: int) -> list[tuple[int, int]]:
    """Index ranges ``(i, j)`` of maximal runs of True rows spanning at least ``hold`` steps
    (and two rows)."""
    runs, start = [], None
    for k, flag in enumerate([*mask.tolist(), False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            if k - 1 > start and steps[k - 1] - steps[start] >= hold:
                runs.append((start, k - 1))
            start = None
    return runs


def _held_extreme(values: np.ndarray, steps: np.ndarray, hold: int, low: bool) -> float:
    """The most extreme level that ``values`` stayed beyond for ``hold`` steps: the min (if
    ``low``) over windows spanning ``hold`` steps of each window's max, or the max of mins."""
    best = np.inf if low else -np.inf
    j = 0
    for i in range(len(steps)):
        while j < len(steps) and steps[j] - steps[i] < hold:
            j += 1
        if j == len(steps):
            break
        window = values[i: j + 1]
        best = min(best, window.max()) if low else max(best, window.min())
    return float(best)

"""Run detectors: each fires on a run that shows its behaviour and on none of the healthy
tutorial runs, says when, and explains it in one sentence. Thresholds: see
scripts/calibrate_events.py."""

from __future__ import annotations

import re

import numpy as np
import pytest
from run_state import trained

from gan_core import GANConfig, Trainer
from gan_core.gan.history import History
from gan_core.measure import events as ev

# Configurations the calibration shows each behaviour with, on every seed tried.
COLLAPSING = GANConfig(loss="non_saturating", lr_g=1e-2, lr_d=1e-3)
D_FAR_AHEAD = GANConfig(lr_d=1e-2, lr_g=1e-5)
OSCILLATING = GANConfig(lr_g=1e-3, lr_d=1e-3)


@pytest.fixture(scope="module", params=[0, 1])
def tutorial(request: pytest.FixtureRequest) -> Trainer:
    return trained(GANConfig(seed=request.param), 5000)


def test_no_detector_fires_on_a_healthy_tutorial_run(tutorial: Trainer) -> None:
    assert ev.detect_events(tutorial.history) == []


def test_mode_collapse_is_detected_when_g_steps_ten_times_further_than_d() -> None:
    run = trained(COLLAPSING, 2000)
    events = ev.mode_collapse(run.history)
    assert len(events) >= 1
    spread, steps = run.history.eval.column("spread"), run.history.eval.steps
    first = events[0]
    assert spread[steps == first.first_step][0] < ev.COLLAPSE_SPREAD
    assert first.first_step > steps[np.argmax(spread >= ev.LEARNED_SPREAD)]  # after it spread
    assert first.last_step - first.first_step >= ev.COLLAPSE_HOLD
    assert "same curve" in first.explanation and "parameters fell to" in first.explanation


def test_d_overpowering_is_detected_when_d_learns_a_thousand_times_faster() -> None:
    run = trained(D_FAR_AHEAD, 1500)
    events = ev.d_overpowers(run.history)
    assert len(events) == 1
    assert events[0].first_step < 300 and events[0].last_step == run.step
    gap = re.search(r"D\(real\) - D\(fake\) = ([0-9.]+)", events[0].explanation)
    assert gap is not None and float(gap.group(1)) > 0.9


def test_oscillation_is_detected_when_both_learning_rates_are_ten_times_the_tutorials() -> None:
    run = trained(OSCILLATING, 2500)
    events = ev.oscillation(run.history)
    assert len(events) == 1 and events[0].last_step - events[0].first_step >= 1500
    assert "swung up and down" in events[0].explanation


# -- the rules, on histories written by hand -------------------------------------------------


def history(steps: int, d_real=lambda s: 0.5, d_fake=lambda s: 0.5,
            spread=lambda s: 0.8) -> History:
    """A history with the default strides, its columns given as functions of the step."""
    h = History()
    for s in range(1, steps + 1):
        if h.train.due(s):
            h.train.append(s, [1.38, -0.69, d_real(s), d_fake(s), 0.1])
    for s in range(0, steps + 1, h.eval.stride):
        h.eval.append(s, [0.9, 0.05, 0.02, 0.05, spread(s), 0.01, 0.0])
    return h


def test_a_collapse_is_reported_from_its_first_to_its_last_collapsed_evaluation() -> None:
    spread = lambda s: 0.05 if 3000 <= s <= 4200 else 0.8  # noqa: E731
    (event,) = ev.mode_collapse(history(6000, spread=spread))
    assert (event.kind, event.first_step, event.last_step) == (ev.COLLAPSE, 3000, 4200)
    assert "5%" in event.explanation


def test_gs_initial_sameness_is_not_a_collapse_but_never_learning_variety_is() -> None:
    """G starts with every curve alike; that counts only if it lasts past the warm-up."""
    learns = lambda s: min(0.9, 0.05 + s / 1000)  # noqa: E731
    assert ev.mode_collapse(history(5000, spread=learns)) == []
    (stuck,) = ev.mode_collapse(history(5000, spread=lambda s: 0.05))
    assert (stuck.first_step, stuck.last_step) == (ev.COLLAPSE_WARMUP, 5000)


def test_a_short_collapse_or_a_narrow_but_varied_generator_is_not_mode_collapse() -> None:
    brief = lambda s: 0.05 if 3000 <= s < 3000 + ev.COLLAPSE_HOLD else 0.8  # noqa: E731
    assert ev.mode_collapse(history(6000, spread=brief)) == []
    assert ev.mode_collapse(history(6000, spread=lambda s: 1.5 * ev.COLLAPSE_SPREAD)) == []


def test_d_ahead_is_reported_only_when_held() -> None:
    ahead = lambda s: 0.9 if 2000 <= s < 4000 else 0.5  # noqa: E731
    (event,) = ev.d_overpowers(history(6000, d_real=ahead))
    assert abs(event.first_step - 2000) <= ev.OVERPOWER_SMOOTH
    assert abs(event.last_step - 4000) <= ev.OVERPOWER_SMOOTH
    brief = lambda s: 0.9 if 2000 <= s < 2000 + ev.OVERPOWER_HOLD // 2 else 0.5  # noqa: E731
    assert ev.d_overpowers(history(6000, d_real=brief)) == []


def test_a_steady_swing_is_an_oscillation_and_batch_noise_or_a_drift_are_not() -> None:
    swing = lambda s: 0.5 + 0.08 * np.sin(2 * np.pi * s / 120)  # noqa: E731
    (event,) = ev.oscillation(history(5000, d_real=swing))
    assert event.first_step <= 4 and event.last_step == 5000
    period = re.search(r"a full cycle every ~([0-9,]+) steps", event.explanation)
    assert period is not None and float(period.group(1)) == pytest.approx(120, rel=0.1)
    rng = np.random.default_rng(0)
    noisy = lambda s: 0.5 + 0.1 * rng.standard_normal()  # noqa: E731
    assert ev.oscillation(history(5000, d_real=noisy)) == []
    drift = lambda s: 0.9 - 0.4 * s / 5000  # noqa: E731
    assert ev.oscillation(history(5000, d_real=drift)) == []


def test_a_thinned_history_still_shows_a_slow_oscillation() -> None:
    """Past 6,400 steps the train series keeps every 8th step, then every 16th: windows are
    in steps, so a swing of a few hundred steps is still seen."""
    swing = lambda s: 0.5 + 0.08 * np.sin(2 * np.pi * s / 400)  # noqa: E731
    h = history(30_000, d_real=swing)
    assert h.train.stride >= 16
    (event,) = ev.oscillation(h)
    assert event.last_step - event.first_step > 20_000


def test_events_come_in_order_with_one_sentence_each() -> None:
    h = history(8000, d_real=lambda s: 0.95 if s > 5000 else 0.5,
                spread=lambda s: 0.05 if 2000 <= s <= 3000 else 0.8)
    events = ev.detect_events(h)
    assert [e.kind for e in events] == [ev.COLLAPSE, ev.OVERPOWER]
    for event in events:
        assert event.first_step <= event.last_step
        text = event.explanation
        assert text.endswith(".") and text.count(". ") == 0 and f"{event.first_step:,}" in text


def test_a_history_without_the_new_columns_is_read_without_events() -> None:
    """A run saved before the spread was recorded loads with NaN there: nothing is claimed."""
    h = history(3000)
    state = h.state()
    old = History()
    old.load_state({name: {"steps": s["steps"], "rows": s["rows"][:, :3 if name == "eval" else 4],
                           "stride": s["stride"]} for name, s in state.items()})
    assert np.isnan(old.eval.column("spread")).all()
    assert ev.detect_events(old) == []


def test_a_run_that_has_not_trained_has_no_events() -> None:
    from gan_core import GANConfig, Trainer, detect_events

    assert detect_events(Trainer(GANConfig()).history) == []


@pytest.mark.parametrize("steps", [4, 100, 196])
def test_a_run_shorter_than_any_window_is_read_without_error(steps: int) -> None:
    """Fewer history rows than a smoothing window spans: every detector still reads it."""
    from gan_core import GANConfig, Trainer, detect_events

    run = Trainer(GANConfig(lr_d=1e-2, lr_g=1e-5))
    run.train(steps)
    assert detect_events(run.history) == []

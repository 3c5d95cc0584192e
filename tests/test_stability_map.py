"""The stability map says what it will cost and what each cell did, honestly."""

from __future__ import annotations

import math

import pytest
from page_driver import start

from gan_core import GANConfig
from gan_core.serve import stability
from gan_core.serve.crowd import Crowd
from gan_core.serve.stability import StabilityRun, estimate_seconds
from gan_core.training.batched import Axis
from gan_core.views import charts as ch


def test_the_time_announced_is_the_grids_own_timed_steps_and_scoring_scaled_to_its_ticks(
) -> None:
    """With a step of the grid timed at 10 ms and a scoring at 50 ms: 1,000 steps are 10 s
    of training, 25 ticks of 0.4 s each half a second apart, then the full scoring."""
    times = iter([0.0, stability.PROBE_STEPS * 0.010, 1.0, 1.05])
    seconds = estimate_seconds(GANConfig(), Axis("lr_g", (1e-4, 1e-3)), None, 1, 1_000,
                               period=0.5, budget=0.4, clock=lambda: next(times))
    final = 0.05 * stability.EVAL_SAMPLES / stability.LIVE_SAMPLES
    assert seconds == pytest.approx(25 * 0.5 + final)
    # A tick whose scoring takes longer than its spare time makes the ticks longer.
    times = iter([0.0, stability.PROBE_STEPS * 0.010, 1.0, 1.3])
    slow = estimate_seconds(GANConfig(), Axis("lr_g", (1e-4, 1e-3)), None, 1, 1_000,
                            period=0.5, budget=0.4, clock=lambda: next(times))
    assert slow == pytest.approx(25 * 0.7 + 0.3 * stability.EVAL_SAMPLES
                                 / stability.LIVE_SAMPLES)


def test_a_member_whose_curves_ran_far_off_the_data_reads_diverged_not_a_huge_w1() -> None:
    """G learning 1,000 times faster than D runs its curves away (a W1 in the thousands, with
    every number finite): the map counts that cell as diverged and labels it so."""
    run = StabilityRun(GANConfig(lr_d=1e-5), Axis("lr_g", (1e-4, 1e-2)), None, 1, 2_000,
                       crowd=Crowd())
    while run.running:
        run.tick(budget=5.0)
    calm, ran_away = run.cells
    assert calm["diverged"] == 0 and calm["w1"] < run.ran_away_w1
    assert ran_away["diverged"] == 1 and math.isnan(ran_away["w1"])
    labels = ch.stability_data(run.cells, "w1")["cells"]["label"].tolist()
    assert labels[1] == "diverged" and labels[0] == f"{calm['w1']:.2f}"
    assert run.took is not None and run.took > 0


def test_the_tab_announces_the_time_it_measured_for_the_grid_on_show() -> None:
    at = start()
    at.session_state["view"] = "Stability map"
    at.run()
    said = [c.value for c in at.caption if "on this server, as timed just now" in c.value]
    assert len(said) == 1 and "36 GANs × 2,000 steps" in said[0]
    assert said[0].startswith("About ")
    for key, count in (("stability_x_n", 2), ("stability_y_n", 2)):
        at.slider(key=key).set_value(count).run()
    said = [c.value for c in at.caption if "on this server, as timed just now" in c.value]
    assert "4 GANs × 2,000 steps" in said[0]


def test_the_durations_the_tab_speaks_of_read_as_a_person_says_them() -> None:
    from lab.stability import _duration

    assert [_duration(s) for s in (0.2, 1.4, 9.4, 59.4, 61, 100, 3600)] == [
        "1 second", "1 second", "9 seconds", "59 seconds", "1 min", "1 min 40 s", "60 min"]

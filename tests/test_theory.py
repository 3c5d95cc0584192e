"""Theory beside practice: the optimal discriminator is the density ratio of the two parameter
laws, the JSD converges to the exact one of known laws, D's loss at D* is log 4 - 2 JSD, a
perfect generator reads its noise floor, and the trainer's view is the evaluation's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from run_state import trained

from gan_core import GANConfig, get_target
from gan_core.gan.config import LOSSES, TARGETS
from gan_core.measure.theory import (
    bandwidth,
    jensen_shannon,
    jsd_floor,
    jsd_from_d,
    parameter_density,
    parameter_jsd,
    reads_jsd,
)

LOG2 = math.log(2)


def uniform(lo: float, hi: float, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, (n, 1))


def exact_jsd_of_uniforms(a: tuple[float, float], b: tuple[float, float]) -> float:
    """JSD of U(a) and U(b) by the midpoint rule on a fine grid (exact up to 1e-6 here)."""
    t = np.linspace(min(a[0], b[0]) - 1, max(a[1], b[1]) + 1, 2_000_001)
    dt = t[1] - t[0]
    p = ((t >= a[0]) & (t <= a[1])) / (a[1] - a[0])
    q = ((t >= b[0]) & (t <= b[1])) / (b[1] - b[0])
    return jensen_shannon(p, q, dt)


# -- the divergence ------------------------------------------------------------------------


def test_jsd_is_zero_for_equal_laws_log_two_for_disjoint_ones_and_symmetric() -> None:
    x = np.linspace(-5, 5, 1001)
    dx = x[1] - x[0]
    p = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    q = np.exp(-0.5 * (x - 1) ** 2) / math.sqrt(2 * math.pi)
    assert jensen_shannon(p, p, dx) == pytest.approx(0, abs=1e-12)
    assert jensen_shannon(p, q, dx) == pytest.approx(jensen_shannon(q, p, dx), rel=1e-12)
    assert 0 < jensen_shannon(p, q, dx) < LOG2
    left, right = (x < 0) / ((x < 0).sum() * dx), (x > 0) / ((x > 0).sum() * dx)
    assert jensen_shannon(left, right, dx) == pytest.approx(LOG2, rel=1e-12)
    # a law entirely off the grid is told apart with certainty
    assert jensen_shannon(left, np.zeros_like(p), dx) == pytest.approx(LOG2, rel=1e-12)


@pytest.mark.parametrize(("law", "generated"), [
    ((1.0, 2.0), (1.25, 2.25)),  # G shifted by a quarter of the range
    ((1.0, 2.0), (1.0, 1.5)),  # G covers half the range
    ((1.0, 2.0), (1.6, 2.6)),  # G mostly beyond it
    ((1.0, 2.0), (1.1, 1.9)),  # G a little too narrow
])
def test_the_jsd_estimate_converges_to_the_exact_jsd_as_samples_grow(
        law: tuple[float, float], generated: tuple[float, float]) -> None:
    """Mean relative error over three samples: within 7% at 10,000 curves, and smaller than
    at 100."""
    target = get_target("parabola")
    assert target.param_laws()[0].ranges == (law,)
    exact = exact_jsd_of_uniforms(law, generated)

    def error(n: int) -> float:
        return float(np.mean([abs(parameter_jsd(target, uniform(*generated, n, seed)) - exact)
                              for seed in range(3)])) / exact

    few, many = error(100), error(10_000)
    assert many < 0.07
    assert many < few


def test_a_collapsed_generator_reads_most_of_log_two_and_more_with_more_curves() -> None:
    """A point mass against a uniform law: JSD log 2. Smoothing both by the kernel lowers it,
    by less as the kernel narrows."""
    target = get_target("parabola")
    readings = [parameter_jsd(target, np.full((n, 1), 1.5)) for n in (100, 1000, 10_000)]
    assert readings == sorted(readings)
    assert 0.75 * LOG2 < readings[1] <= LOG2


@pytest.mark.parametrize("family", TARGETS)
def test_a_perfect_generator_reads_the_noise_floor(family: str) -> None:
    """Real parameters read what ``jsd_floor`` says (its mean over draws), far below any
    generator that is visibly off."""
    target = get_target(family)
    rng = np.random.default_rng(11)
    readings = [parameter_jsd(target, np.concatenate([law.sample(rng, 1000)
                                                      for law in target.param_laws()], axis=1))
                for _ in range(8)]
    floor = jsd_floor(family, 1000)
    assert 0 < floor < 0.01
    assert np.mean(readings) == pytest.approx(floor, rel=0.5)


def test_the_kernel_narrows_as_samples_grow_but_slower_than_samples_crowd() -> None:
    """Consistency of a kernel estimate: h -> 0 while n h^d -> infinity."""
    for family in TARGETS:
        laws = get_target(family).param_laws()
        d = len(laws)
        for law in laws:
            widths = [bandwidth(law, n, d) for n in (100, 10_000, 1_000_000)]
            assert widths == sorted(widths, reverse=True)
            assert [n * bandwidth(law, n, d) ** d for n in (100, 10_000, 1_000_000)] == sorted(
                n * bandwidth(law, n, d) ** d for n in (100, 10_000, 1_000_000))


# -- the optimal discriminator -----------------------------------------------------------------


def test_the_optimal_discriminator_is_the_density_ratio() -> None:
    """G shifted by +0.25: only real curves below 1.25 (D* = 1), both in [1.25, 2]
    (D* = 1/2), only generated ones above 2 (D* = 0), nothing far out (undefined)."""
    estimator = parameter_density("parabola", 10_000)
    p_g = estimator.density(uniform(1.25, 2.25, 10_000))
    p_data = estimator.p_data
    with np.errstate(invalid="ignore"):  # 0/0 far out, where neither law has mass
        d_star = p_data / (p_data + p_g)
    grid = estimator.axes[0].centers
    at = {v: d_star[np.argmin(np.abs(grid - v))] for v in (1.1, 1.5, 1.9, 2.15)}
    assert at[1.1] > 0.95 and at[2.15] < 0.05
    assert at[1.5] == pytest.approx(0.5, abs=0.05) and at[1.9] == pytest.approx(0.5, abs=0.05)
    assert p_data.sum() * estimator.cell == pytest.approx(1, abs=1e-6)


def test_d_loss_at_the_optimal_discriminator_is_log_four_minus_twice_the_jsd() -> None:
    """Goodfellow et al.'s identity, read through ``jsd_from_d``: give it the logits of the
    exact D* of U(1, 2) against U(1.25, 2.25) on samples of each and it returns their JSD."""
    n = 200_000
    real, fake = uniform(1, 2, n, seed=1)[:, 0], uniform(1.25, 2.25, n, seed=2)[:, 0]

    def d_star_logit(a: np.ndarray) -> np.ndarray:
        return np.select([a < 1.25, a <= 2.0], [40.0, 0.0], -40.0)

    estimate = jsd_from_d(d_star_logit(real), d_star_logit(fake))
    assert estimate == pytest.approx(exact_jsd_of_uniforms((1, 2), (1.25, 2.25)), abs=2e-3)
    # a less sure D (the same verdicts at logit +-1, D = 0.73 or 0.27) reads less
    assert jsd_from_d(d_star_logit(real) / 40, d_star_logit(fake) / 40) < estimate - 0.05
    assert jsd_from_d(np.zeros(n), np.zeros(n)) == pytest.approx(0, abs=1e-12)


# -- the trainer's view ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=TARGETS)
def run(request: pytest.FixtureRequest):
    return trained(GANConfig(target=request.param, seed=2), 600)


def test_the_theory_view_reads_the_same_curves_as_the_evaluation_and_the_history(run) -> None:
    view, metrics = run.theory(), run.evaluate()
    assert view.jsd == metrics.jsd and view.jsd_d == metrics.jsd_d
    assert view.jsd_floor == metrics.jsd_floor
    assert run.history.eval.steps[-1] == run.step
    assert run.history.eval.column("jsd")[-1] == metrics.jsd
    assert run.history.eval.column("jsd_d")[-1] == metrics.jsd_d
    assert view.d_loss_at_optimum == pytest.approx(2 * LOG2 - 2 * view.jsd)
    assert view.d_reads_jsd  # minimax: D's loss is the cross-entropy whose optimum reads it


def test_the_theory_view_compares_d_star_with_d_on_the_targets_own_curves(run) -> None:
    view = run.theory()
    target = run.target
    assert view.param == target.param_names[0] and view.param in view.label
    g = len(view.grid)
    for array in (view.p_data, view.p_g, view.d_optimal, view.d_learned):
        assert array.shape == (g,)
    lo, hi = target.param_laws()[0].bounds
    assert view.grid[0] < lo and view.grid[-1] > hi  # a margin where p_data = 0
    defined = np.isfinite(view.d_optimal)
    assert ((view.d_optimal[defined] >= 0) & (view.d_optimal[defined] <= 1)).all()
    assert np.isnan(view.d_optimal[[0, -1]]).all() or view.p_g[[0, -1]].max() > 0
    rows = [0, g // 3, g // 2, g - 1]
    if len(target.param_names) == 1:
        curves = target.curves(view.grid[rows, None], run.x)
        np.testing.assert_allclose(view.d_learned[rows], run.discriminate(curves), rtol=1e-5)
    else:  # along amplitude, D averaged over real phases spread evenly over their law
        assert "phase marginalised" in view.label
        phases = target.param_laws()[1].quantile((np.arange(16) + 0.5) / 16)
        for row in rows:
            params = np.stack([np.full(16, view.grid[row]), phases], axis=1)
            assert view.d_learned[row] == pytest.approx(
                run.discriminate(target.curves(params, run.x)).mean(), rel=1e-5)


def test_the_theory_view_changes_nothing() -> None:
    a, b = trained(GANConfig(seed=4), 50), trained(GANConfig(seed=4), 50)
    a.theory()
    a.theory(n=300)
    a.train(30)
    b.train(30)
    np.testing.assert_array_equal(a.state().g.params, b.state().g.params)
    np.testing.assert_array_equal(a.state().d.params, b.state().d.params)


def test_only_the_cross_entropy_losses_read_the_jsd_off_d() -> None:
    """Least squares' and hinge's D minimise another loss: their jsd_d is a bound that D does
    not try to make tight, and the view says so."""
    assert [reads_jsd(loss) for loss in LOSSES] == [True, True, False, False, False]
    assert not reads_jsd("minimax", real_label=0.9)  # D aims at 0.9 D*: not tight
    run = trained(GANConfig(loss="least_squares", seed=3), 100)
    assert not run.theory(n=200).d_reads_jsd

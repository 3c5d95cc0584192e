"""Each preset keeps the promise the README and ``gan_core.gan.config.PRESETS`` make for it, at
the promised bound, on the seeds the promise names.

The tutorial's quality is what ``406_GAN.py`` reaches in 10,000 steps: in band at least 0.93 and
W1 at most 0.05 (``python benchmarks/presets.py`` prints the measured values behind each bound).
The conditional preset's promise is the quality of ``406_conditional_GAN.py``'s own run in
10,000 steps, for each class against that class's band and law (``python
benchmarks/conditional.py`` prints both runs side by side).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gan_core import PRESETS, Trainer


@dataclass(frozen=True)
class Promise:
    steps: int
    seeds: tuple[int, ...]
    in_band: float  # at least
    w1: float  # at most
    class_accuracy: float | None = None  # at least, and each class's in band and W1 as above
    class_in_band: float | None = None
    class_w1: float | None = None


TUTORIAL_QUALITY = {"in_band": 0.93, "w1": 0.05}
PROMISES = {
    "tutorial": Promise(10_000, (0, 1, 2), **TUTORIAL_QUALITY),
    "fast": Promise(2_000, tuple(range(10)), **TUTORIAL_QUALITY),
    "best": Promise(12_000, (0, 1, 2), in_band=0.97, w1=0.025),
    "stable": Promise(10_000, (0, 1, 2), **TUTORIAL_QUALITY),
    "conditional": Promise(10_000, (0, 1, 2), **TUTORIAL_QUALITY, class_accuracy=0.9,
                           class_in_band=0.9, class_w1=0.07),
}
CASES = [(name, seed) for name, promise in PROMISES.items() for seed in promise.seeds]


def test_every_preset_has_a_promise() -> None:
    assert set(PROMISES) == set(PRESETS)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seed"), CASES, ids=[f"{n}-seed{s}" for n, s in CASES])
def test_a_preset_reaches_its_promised_quality_in_its_steps(name: str, seed: int) -> None:
    promise = PROMISES[name]
    trainer = Trainer(PRESETS[name].replace(seed=seed))
    untrained = trainer.evaluate()
    trainer.train(promise.steps)
    learned = trainer.evaluate()
    assert learned.in_band >= promise.in_band, learned
    assert learned.w1 <= promise.w1, learned
    if promise.class_accuracy is not None:  # G paints the class it is asked for
        assert learned.class_accuracy >= promise.class_accuracy, learned
        assert untrained.class_accuracy < 0.5 * promise.class_accuracy
        for c in learned.classes:
            assert c.in_band >= promise.class_in_band and c.w1 <= promise.class_w1, c
    # ...by learning the family's shape, not by luck of the band: the untrained G is far off.
    assert untrained.w1 > 5 * promise.w1 and learned.fit_residual < untrained.fit_residual / 2

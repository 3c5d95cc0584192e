"""The random-number convention for looking at a run.

Everything drawn to look at a run comes from a stream of its own,
``stream(seed, n) = np.random.default_rng([seed, n])``, never from the training stream
(``np.random.default_rng(seed)``, drawn by the engine): looking never changes a run, and the
same run shows the same curves from tick to tick. The streams:

====================  ==  ==============================================================
``SAMPLE``            1   ``Trainer.sample``: fresh curves on every call
``EVALUATION``        2   ``Trainer.evaluate`` and the history, with the step appended (and
                          for one class of a conditional run, the class after it)
``DISCRIMINATOR_MAP`` 3   the generated curves placed on the discriminator map
``CURVES``            4   the curve chart's fixed latent vectors
``HISTOGRAM``         5   the fitted-parameter histogram's latent vectors
``LATENT``            6   the latent explorer's base point
``NOISE_FLOOR``       7   samples of the true law that set the metrics' noise floors, as
                          ``stream(0, NOISE_FLOOR, n)``: the same for every run
``SLICES``            8   the directions of the sliced W1 in curve space, as
                          ``stream(0, SLICES, n_points)``: the same for every run
``GHOST_DRAWS``       9   a ghost's instance noise or WGAN-GP mixing weights where the live
                          run, whose batches it shares, draws none
====================  ==  ==============================================================

Real curves shown on the page are a fixed set, ``target.sample`` from ``default_rng(0)``.
"""

from __future__ import annotations

import numpy as np

SAMPLE, EVALUATION, DISCRIMINATOR_MAP, CURVES, HISTOGRAM, LATENT, NOISE_FLOOR = 1, 2, 3, 4, 5, 6, 7
SLICES, GHOST_DRAWS = 8, 9


def stream(seed: int, which: int, *more: int) -> np.random.Generator:
    """The random stream ``which`` of a run seeded ``seed`` (see the table above)."""
    return np.random.default_rng([seed, which, *more])

"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018) under a run's settings, for a notebook:
its vector field over (θ, ψ) and its trajectories (``gan_core.gan.dirac`` holds them, beside
the lab's own GAN, whose config, losses and Adam it shares)."""

from .gan.dirac import (
    CONVERGED,
    GROWN,
    SETTINGS,
    START,
    UPDATES,
    Trajectory,
    Updates,
    logit_derivatives,
    settings_of,
    trajectory,
    vector_field,
)

__all__ = ["CONVERGED", "GROWN", "SETTINGS", "START", "UPDATES", "Trajectory", "Updates",
           "logit_derivatives", "settings_of", "trajectory", "vector_field"]

"""What training raises: a run that blew up, and a change a running model cannot take.

Their own module, so that the trainer and its ghosts (``fork``) both raise and catch them
without importing each other.
"""

from __future__ import annotations


class TrainingDiverged(RuntimeError):
    """A loss, an output or a gradient became non-finite or exploded at ``step``; the trainer is
    rewound to a state a few steps earlier whose outputs were finite. Lower a learning rate
    (``reconfigure``) and train on, or start a new trainer."""

    def __init__(self, step: int) -> None:
        super().__init__(
            f"training diverged at step {step}: outputs or gradients became infinite or NaN. "
            "The last finite weights are kept; try lower learning rates.")
        self.step = step


class ConfigChangeError(ValueError):
    """A change that a running trainer cannot take (shapes, target, seed)."""

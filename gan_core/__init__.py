"""GAN Curve Lab's engine: the tutorial GAN that paints curves, fast and inspectable.

>>> from gan_core import GANConfig, Trainer
>>> trainer = Trainer(GANConfig())
>>> trainer.train(10_000); trainer.evaluate()
"""

from .checkpoint import CheckpointError
from .config import PRESETS, GANConfig, Param
from .metrics import Metrics
from .targets import TARGET_FAMILIES, Target, get_target
from .trainer import ConfigChangeError, DiscriminatorMap, Trainer, TrainingDiverged

__all__ = [
    "PRESETS",
    "TARGET_FAMILIES",
    "CheckpointError",
    "ConfigChangeError",
    "DiscriminatorMap",
    "GANConfig",
    "Metrics",
    "Param",
    "Target",
    "Trainer",
    "TrainingDiverged",
    "get_target",
]

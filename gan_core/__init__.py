"""GAN Curve Lab's engine: the tutorial GAN that paints curves, fast and inspectable.

>>> from gan_core import GANConfig, Trainer
>>> trainer = Trainer(GANConfig())
>>> trainer.train(10_000); trainer.evaluate()
"""

from .batched import Axis, BatchedTrainer, MemberResult
from .checkpoint import CheckpointError
from .config import PRESETS, GANConfig, Param
from .engine import NetState
from .events import Event, detect_events
from .fork import Ghost
from .link import Link, from_link, link_query, read_link
from .losses import Equilibrium, equilibrium_point
from .metrics import Metrics, NoiseFloors
from .pacing import Pacing
from .schedule import Change, format_changes, parse_changes
from .state import RunState
from .targets import TARGET_FAMILIES, Target, get_target
from .theory import TheoryView
from .threads import use_one_thread
from .trainer import ConfigChangeError, DiscriminatorMap, Trainer, TrainingDiverged

__all__ = [
    "PRESETS",
    "TARGET_FAMILIES",
    "Axis",
    "BatchedTrainer",
    "Change",
    "CheckpointError",
    "ConfigChangeError",
    "DiscriminatorMap",
    "Equilibrium",
    "Event",
    "GANConfig",
    "Ghost",
    "Link",
    "MemberResult",
    "Metrics",
    "NetState",
    "NoiseFloors",
    "Pacing",
    "Param",
    "RunState",
    "Target",
    "TheoryView",
    "Trainer",
    "TrainingDiverged",
    "detect_events",
    "equilibrium_point",
    "format_changes",
    "from_link",
    "get_target",
    "link_query",
    "parse_changes",
    "read_link",
    "use_one_thread",
]

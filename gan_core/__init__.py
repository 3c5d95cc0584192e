"""GAN Curve Lab's engine: the tutorial GAN that paints curves, fast and inspectable.

>>> from gan_core import GANConfig, Trainer
>>> trainer = Trainer(GANConfig())
>>> trainer.train(10_000); trainer.evaluate()
"""

from .files.checkpoint import CheckpointError
from .files.link import Link, from_link, link_query, read_link
from .gan.config import PRESETS, GANConfig, Pacing, Param
from .gan.engine import NetState
from .gan.losses import Equilibrium, equilibrium_point
from .gan.schedule import Change, format_changes, parse_changes
from .gan.state import RunState
from .gan.targets import TARGET_FAMILIES, Target, get_target
from .measure.events import Event, detect_events
from .measure.metrics import ClassMetrics, DataMetrics, Metrics, NoiseFloors
from .measure.theory import TheoryView
from .threads import use_one_thread
from .training.batched import Axis, BatchedTrainer, MemberResult
from .training.fork import Ghost
from .training.trainer import ConfigChangeError, DiscriminatorMap, Trainer, TrainingDiverged

__all__ = [
    "PRESETS",
    "TARGET_FAMILIES",
    "Axis",
    "BatchedTrainer",
    "Change",
    "CheckpointError",
    "ClassMetrics",
    "ConfigChangeError",
    "DataMetrics",
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

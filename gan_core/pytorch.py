"""A run as PyTorch: the tutorial's ``nn.Sequential`` G and D holding the run's weights
(``modules``), ``torch.optim`` optimizers holding its state (``optimizers``), and the run written
out as a standalone script in the tutorial's style (``script``).

torch is imported when a module or optimizer is first built, not with this module: the page
shows the script without paying for torch.
"""

from .files.script import script
from .files.torch_modules import modules, new_optimizer, optimizers, tutorial_modules

__all__ = ["modules", "new_optimizer", "optimizers", "script", "tutorial_modules"]

"""Your own curves: a set of real curves read from a CSV file, drawn as a band, or drawn with
noise around them, checked and ready for a GAN to learn (``Trainer(GANConfig(target="data"),
data=curves)``).

>>> from gan_core.data import Curves
>>> curves = Curves.from_csv("docs/data/temperatures.csv")
>>> curves.notes  # what reading the file left out, said rather than guessed
"""

from .curves import Curves, DataError

__all__ = ["Curves", "DataError"]

"""Class labels as a conditional run's G and D read them: columns beside G's noise and beside
D's curve.

Two classes are one column holding 0 or 1, as in the tutorial's ``406_conditional_GAN.py``
(``labels = (a - 1) > 0.5``, then ``torch.cat((G_ideas, labels), 1)``); more classes (a data
set's label column) are one-hot columns, one per class. A label between two classes, what G
paints "between" them, is a row of columns between theirs (:func:`blend`).
"""

from __future__ import annotations

import numpy as np

from .config import GANConfig
from .targets import Target, get_target

DTYPE = np.float32


def label_width(n_classes: int) -> int:
    """Label columns for ``n_classes`` classes: none without classes, one for two, one per
    class for more."""
    if n_classes == 0:
        return 0
    if n_classes < 2:
        raise ValueError(f"{n_classes} class: a conditional run needs at least two")
    return 1 if n_classes == 2 else n_classes


def n_classes_of(config: GANConfig, target: Target | None = None) -> int:
    """How many classes a run of ``config`` asks G for: 0 unless it is conditional. A run of
    your data needs their ``target`` (``targets.data_target``): their classes are their
    labels. Raises ``ValueError`` for a conditional run of a target without classes."""
    if not config.conditional:
        return 0
    if target is None:
        if config.target == "data":
            raise ValueError("conditional: a run of your data has the classes of their "
                             "labels; give their target (targets.data_target(curves))")
        target = get_target(config.target)
    if len(target.class_names) < 2:
        raise ValueError(f"conditional: {target.class_reason}" if target.class_reason
                         else f"conditional: target {config.target!r} has no classes to ask "
                         "G for")
    return len(target.class_names)


def label_width_of(config: GANConfig, target: Target | None = None) -> int:
    """Label columns of G's and D's inputs in a run of ``config`` (0 unless conditional; a run
    of your data needs their ``target``, as :func:`n_classes_of`)."""
    return label_width(n_classes_of(config, target))


def label_columns(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``labels`` as the columns G and D read, ``(n, label_width)`` float32.

    ``labels`` is ``(n,)``: each curve's class (an integer from 0), or with two classes the
    column's value itself, any number from 0 (class 0) to 1 (class 1), blends included; or
    ``(n, label_width)``: the columns, given as they are. Raises ``ValueError`` naming what
    does not fit.
    """
    width = label_width(n_classes)
    if width == 0:
        raise ValueError("labels: a run without classes takes no labels")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"labels: expected numbers, got {labels.dtype}")
    if labels.ndim == 2:
        if labels.shape[1] != width:
            raise ValueError(f"labels have {labels.shape[1]} columns; this run's G and D read "
                             f"{width}")
        columns = labels.astype(DTYPE)
    elif labels.ndim == 1 and width == 1:
        columns = labels.astype(DTYPE)[:, None]
        if not ((columns >= 0) & (columns <= 1)).all():
            raise ValueError("labels: with two classes a label is from 0 (class 0) to 1 "
                             "(class 1)")
    elif labels.ndim == 1:
        classes = labels.astype(np.int64)
        if not (classes == labels).all() or not ((classes >= 0) & (classes < n_classes)).all():
            raise ValueError(f"labels: a class is a whole number from 0 to {n_classes - 1}")
        columns = np.eye(n_classes, dtype=DTYPE)[classes]
    else:
        raise ValueError(f"labels have shape {labels.shape}; expected (n,) or (n, {width})")
    if not np.isfinite(columns).all():
        raise ValueError("labels hold values that are not finite")
    return columns


def blend(first: int, second: int, t: float, n_classes: int) -> np.ndarray:
    """The label columns ``(label_width,)`` a fraction ``t`` of the way from class ``first``
    to class ``second``: ``t = 0`` asks for ``first``, ``t = 1`` for ``second``."""
    if not 0 <= t <= 1:
        raise ValueError(f"blend: {t!r} is not between 0 and 1")
    a, b = label_columns(np.array([first, second]), n_classes)
    return ((1 - t) * a + t * b).astype(DTYPE)

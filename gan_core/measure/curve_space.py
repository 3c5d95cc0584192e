"""Comparing two sets of curves point by point, in curve space: how your data's readouts judge
G where there is no family parameter to fit.

- :func:`sliced_w1`: the mean over ``SLICE_DIRECTIONS`` fixed unit directions ``d`` of the W1
  distance between the projections ``a d`` and ``b d``. A shift of every point by ``c`` reads
  about ``0.8 c`` at any number of points, so it is in the curves' units.
- :func:`precision_recall` (Kynkäänniemi et al., 2019, *Improved precision and recall metric
  for assessing generative models*): each set's manifold is the union of balls around its
  curves, each reaching to its ``K_NEAREST``-th nearest neighbour in the set, and at least as
  far as a given radius. Precision is the
  share of generated curves inside the real manifold (are G's curves realistic?), recall the
  share of real curves inside the generated one (is all of the data covered?). A G that paints
  one mode of a mixture reads high precision and low recall. The least radius is this lab's
  addition: real curves that lie on a line (a drawn band's blends) sit so close together that
  balls reaching only to their neighbours are thinner than any curve G can paint, and
  precision would read 0 for a G inside the band. With the in-band tolerance as the least
  radius, a curve that close to a real one counts as realistic, as it counts as in band.
- :func:`nearest_distances`: each generated curve's RMS distance (over its points) to its
  nearest real curve. Near 0, G copies real curves; at the real curves' own spacing, it paints
  new ones like them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..gan.streams import SLICES, stream

SLICE_DIRECTIONS = 64
K_NEAREST = 3
"""The paper's k: the manifold of a set reaches each curve's third nearest neighbour."""


@lru_cache(maxsize=16)
def slice_directions(n_points: int) -> np.ndarray:
    """``(SLICE_DIRECTIONS, n_points)`` unit directions, the same for every run."""
    directions = stream(0, SLICES, n_points).standard_normal((SLICE_DIRECTIONS, n_points))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    directions.setflags(write=False)
    return directions


def sliced_w1(a: np.ndarray, b: np.ndarray) -> float:
    """Sliced W1 between two equal-size sets of curves ``(n, n_points)``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2 or not len(a):
        raise ValueError(f"curves have shapes {a.shape} and {b.shape}; expected the same "
                         "(n, n_points) with n >= 1")
    directions = slice_directions(a.shape[1])
    gaps = np.sort(directions @ a.T, axis=1) - np.sort(directions @ b.T, axis=1)
    return float(np.abs(gaps).mean())


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` squared Euclidean distances between curves, float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.maximum(sq, 0.0)


def knn_radii(curves: np.ndarray, k: int = K_NEAREST, least: float = 0.0) -> np.ndarray:
    """Per curve, the squared radius of its ball: the squared distance to its ``k``-th nearest
    other curve of the set (``k`` cut to the set's size minus one), at least ``least**2``."""
    sq = squared_distances(curves, curves)
    k = min(k, len(curves) - 1)
    if k < 1:
        return np.full(len(curves), least**2)
    # Each row's smallest is the curve itself (0): the k-th other curve is the (k+1)-th.
    return np.maximum(np.partition(sq, k, axis=1)[:, k], least**2)


def precision_recall(real: np.ndarray, real_radii: np.ndarray, fake: np.ndarray,
                     k: int = K_NEAREST, least: float = 0.0) -> tuple[float, float, np.ndarray]:
    """Precision and recall of ``fake`` against ``real`` (whose squared radii are
    ``real_radii``), ``fake``'s balls at least ``least`` wide, and the squared distance
    ``(len(fake), len(real))`` matrix they read."""
    between = squared_distances(fake, real)
    precision = float((between <= real_radii[None, :]).any(axis=1).mean())
    fake_radii = knn_radii(fake, k, least)
    recall = float((between <= fake_radii[:, None]).any(axis=0).mean())
    return precision, recall, between


def nearest_distances(between: np.ndarray, n_points: int) -> np.ndarray:
    """Each row's RMS distance over ``n_points`` points to its nearest column, from squared
    distances ``(n, m)``."""
    return np.sqrt(between.min(axis=1) / n_points)


def leave_one_out_spacing(curves: np.ndarray) -> np.ndarray:
    """Each curve's RMS distance to its nearest *other* curve of the set."""
    sq = squared_distances(curves, curves)
    np.fill_diagonal(sq, np.inf)
    return np.sqrt(sq.min(axis=1) / curves.shape[1])

"""Drawn curves in a link: the ``data`` key, quantised to fit.

A drawn band or drawn curves travel in a link; their points are the tutorial's grid (``n``
evenly on [-1, 1], the link's ``n_points``), so only the values go, each rounded to the
nearest multiple of ``STEP`` (0.005) within [``LOWEST``, ``LOWEST + 4095 * STEP``] = [-10.24,
10.235] and written as two characters of the URL-safe base-64 alphabet (12 bits)::

    data=band                        the tutorial's own band, x² and 2x² + 1, exactly
    data=band~<4n characters>        a drawn band: the lower curve's n values, then the upper's
    data=curves~0.1~<2kn characters> k drawn curves (at most 6), and the noise's width
    data=csv                         curves from a file (a CSV file, or a checkpoint's
                                     that are not drawn ones), which a link cannot carry

Labels (a conditional run's classes) come only with a file: a link carries none, so curves
with labels spell ``csv`` too, and a link to a conditional run of a CSV file's classes opens
with them once the same file is uploaded.

The page draws on that grid of values (``quantised``), so a drawn data set and the one its
link carries are the same, and the link replays the same run. A band of 100 points takes 405
characters, six curves of 100 points 1,211; the run's changes get what is left of the
schedule's budget (``gan_core.gan.schedule.MAX_CHANGES_CHARS``), so a whole link stays within
2,000 characters.
"""

from __future__ import annotations

import re
import string

import numpy as np

from ..data.curves import Curves, DataError, curve_grid

DATA_KEY = "data"
STEP = 0.005
LOWEST = -10.24
LEVELS = 64 * 64
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
SEPARATOR = "~"
BAND, CURVES, CSV = "band", "curves", "csv"
MAX_DRAWN_CURVES = 6
NOISE_LOW, NOISE_HIGH, NOISE_STEP = 0.01, 1.0, 0.01
"""The widths of noise drawn curves may have: what the page's slider offers."""
MAX_DATA_CHARS = len(CURVES) + len("~0.01~") + 2 * MAX_DRAWN_CURVES * 100
"""The longest ``data`` value: six curves of 100 points."""
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]*")
_NOISE = re.compile(r"(0|1)(\.[0-9]{1,2})?")


class CsvNotCarried(ValueError):
    """The link's run learned a CSV file, which a link cannot carry."""


def quantised(values: np.ndarray) -> np.ndarray:
    """Values as a link carries them: the nearest of its 4,096 levels, float64."""
    levels = np.clip(np.round((np.asarray(values, np.float64) - LOWEST) / STEP), 0, LEVELS - 1)
    return _level_values(levels)


def _level_values(levels: np.ndarray) -> np.ndarray:
    """The values of levels, each the float nearest its three decimals (0.8, not
    0.8000000000000007): what a script or a reader writes is the value itself."""
    return np.round(LOWEST + STEP * levels, 3)


def noise_offered(noise: float) -> float:
    """``noise`` on the slider's grid of widths (0.01 to 1 in steps of 0.01)."""
    steps = round(min(max(noise, NOISE_LOW), NOISE_HIGH) / NOISE_STEP)
    return round(steps * NOISE_STEP, 2)


def spell_data(data: Curves) -> str:
    """The ``data`` value of a link to a run of ``data``: drawn curves quantised
    (``quantised``); ``csv`` for curves a link cannot carry (a table; curves off the grid,
    more than six, with a noise the page does not offer, or with labels)."""
    if data.is_tutorial:
        return BAND
    if data.kind == "rows" or not data.on_grid or data.labels is not None:
        return CSV
    if data.kind == "between":
        return BAND + SEPARATOR + _encode(data.values)
    if data.n_curves > MAX_DRAWN_CURVES or noise_offered(data.noise) != data.noise:
        return CSV
    return SEPARATOR.join([CURVES, f"{data.noise:g}", _encode(data.values)])


def read_data(text: str, n_points: int) -> Curves:
    """The drawn curves a link's ``data`` value holds, at ``n_points`` points. Raises
    :class:`CsvNotCarried` for ``csv`` and ``ValueError`` naming the problem otherwise."""
    if len(text) > MAX_DATA_CHARS:
        raise ValueError(f"longer than {MAX_DATA_CHARS:,} characters, so not drawn curves a "
                         "link holds")
    kind, _, rest = text.partition(SEPARATOR)
    if kind == CSV and not rest:
        raise CsvNotCarried("the link's run learned curves from a file, which a link cannot "
                            "carry: upload the same CSV file under Your data to learn them")
    if kind == BAND and not rest:
        return Curves.tutorial(n_points)
    x = curve_grid(n_points).astype(np.float64)
    try:
        if kind == BAND:
            return Curves.between(*_decode(rest, n_points, 2), x, name="drawn band")
        if kind == CURVES:
            noise_text, _, payload = rest.partition(SEPARATOR)
            if not _NOISE.fullmatch(noise_text) or not (
                    NOISE_LOW <= float(noise_text) <= NOISE_HIGH):
                raise ValueError(f"the noise {noise_text[:12]!r} is not a width from "
                                 f"{NOISE_LOW} to {NOISE_HIGH:g}")
            curves = _decode(payload, n_points, None)
            return Curves.around(curves, float(noise_text), x, name="drawn curves")
    except DataError as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(f"{text[:20]!r} is not band, band~…, curves~…~… or csv")


def _encode(values: np.ndarray) -> str:
    levels = np.round((quantised(values) - LOWEST) / STEP).astype(np.int64).ravel()
    return "".join(ALPHABET[v // 64] + ALPHABET[v % 64] for v in levels.tolist())


def _decode(payload: str, n_points: int, curves: int | None) -> np.ndarray:
    """``(k, n_points)`` values from two characters each; ``curves`` is k, or None for any k
    from 1 to ``MAX_DRAWN_CURVES``."""
    per_curve = 2 * n_points
    if not _PAYLOAD.fullmatch(payload) or not payload or len(payload) % per_curve:
        raise ValueError(f"{len(payload)} characters are not whole curves of {n_points} points "
                         f"(two characters a point)")
    k = len(payload) // per_curve
    if (curves is not None and k != curves) or not 1 <= k <= MAX_DRAWN_CURVES:
        raise ValueError(f"{k} curves of {n_points} points, not "
                         f"{curves if curves is not None else f'1 to {MAX_DRAWN_CURVES}'}")
    index = {c: i for i, c in enumerate(ALPHABET)}
    levels = np.array([index[payload[i]] * 64 + index[payload[i + 1]]
                       for i in range(0, len(payload), 2)], np.float64)
    return _level_values(levels).reshape(k, n_points)

"""Your data: the target that learns curves you bring (``gan_core.data``): a band you draw,
curves you draw with noise around them, or a CSV file.

The sidebar's Target group says how (``controls``: draw a band, draw curves, upload a CSV, and
the noise of drawn curves); the panel above the live view holds the drawing pad
(``lab/drawing.py``) or the uploader and says what the run learns (``panel``). What the run
learns is ``current(config)``, which ``lab/run.py`` hands to the run: other curves start a
fresh model, as any setting a model cannot take live does. A refused file changes nothing.

Everything this feature remembers is in :class:`DataState` (the widgets only show it: a
widget that is not drawn in a run forgets its value, and the sidebar's controls are drawn only
for target ``data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import streamlit as st

from gan_core import Trainer
from gan_core.data import Curves, DataError
from gan_core.data.csv_file import MAX_BYTES
from gan_core.data.curves import curve_grid, tutorial_bounds
from gan_core.files.link import Link
from gan_core.files.link_data import (
    MAX_DRAWN_CURVES,
    NOISE_HIGH,
    NOISE_LOW,
    NOISE_STEP,
    noise_offered,
    quantised,
)
from gan_core.gan.config import GANConfig
from gan_core.gan.targets import get_target

from . import drawing
from .slot import slot
from .state import holder

SOURCE, NOISE, UPLOAD, PAD, BOX = "data_source", "data_noise", "data_upload", "data_drawing", \
    "your_data"
"""Keys of the sidebar's choice and noise slider, the uploader, the drawing pad, the panel."""
SOURCES = {"band": "Draw a band", "curves": "Draw curves", "csv": "Upload a CSV"}
DEFAULT_NOISE = 0.1
UPLOAD_MB = MAX_BYTES // 2**20
POINTS = "n_points"
"""The sidebar's points-per-curve setting, which follows a file's columns."""


def default_centres(n_points: int) -> np.ndarray:
    """The drawn curves to start from: a cup and a cap, far apart (a mixture of two)."""
    x = curve_grid(n_points).astype(np.float64)
    return quantised(np.stack([x**2, 2 - x**2]))


@dataclass
class DataState:
    source: str = "band"
    band: Curves = field(default_factory=Curves.tutorial)
    """The drawn band (the tutorial's until the visitor draws)."""
    centres: np.ndarray = field(default_factory=lambda: default_centres(15))
    """The drawn curves ``(k, n)``, before noise."""
    noise: float = DEFAULT_NOISE
    table: Curves | None = None
    """Curves from a file (or a resumed checkpoint's, where the pad cannot show them)."""
    error: str | None = None
    """Why the last file or drawing was refused (nothing changed)."""
    version: int = 0
    """Bumped whenever Python changes the drawing on the pad (``lab/drawing.py``)."""
    csv_missing: bool = False
    """The link's run learned a CSV file, which the link did not carry."""


def state() -> DataState:
    return holder("your_data", DataState)


# -- what the run learns ------------------------------------------------------------------------


def current(config: GANConfig) -> Curves | None:
    """The curves a run of ``config`` learns: None for the built-in families; for target
    ``data``, the drawn band or curves at the config's points, or the file's curves (the band
    until a file is given)."""
    if config.target != "data":
        return None
    s = state()
    if s.source == "csv" and s.table is not None:
        return s.table
    _fit_points(s, config.n_points)
    if s.source == "curves":
        return Curves.around(s.centres, s.noise, curve_grid(config.n_points),
                             name="drawn curves")
    return s.band


def _fit_points(s: DataState, n: int) -> None:
    """The drawings at ``n`` points: each curve's line read at the new grid, on the levels a
    link carries (the tutorial's band stays itself)."""
    if s.band.n_points != n:
        moved = s.band.on_points(n)
        s.band = moved if moved.is_tutorial else Curves.between(
            *quantised(moved.values), moved.x, name="drawn band")
        s.version += 1
    if s.centres.shape[1] != n:
        old, new = curve_grid(s.centres.shape[1]), curve_grid(n)
        s.centres = quantised(np.stack([np.interp(new, old, c) for c in s.centres]))
        s.version += 1


def points_fixed() -> bool:
    """Do a file's curves set the points per curve (the sidebar's setting cannot)?"""
    s = state()
    return (st.session_state.get("target") == "data" and s.source == "csv"
            and s.table is not None)


def before_sidebar() -> None:
    """The points-per-curve setting shows the file's own, before the sidebar draws it."""
    if points_fixed():
        st.session_state[POINTS] = state().table.n_points


def take_link(link: Link) -> None:
    """The drawing a link carries, or the note that its run learned a file it cannot carry."""
    s = state()
    if link.data_from_csv:
        s.source, s.csv_missing = "csv", True
    elif link.data is not None:
        adopt(link.data)


def adopt(data: Curves | None) -> None:
    """Show ``data`` (a resumed run's curves, a link's) as this feature's own, so that the run
    keeps learning them: on the pad where it can draw them, else as a file's curves."""
    if data is None:
        return
    s = state()
    drawable = data.on_grid and data.kind != "rows" and np.array_equal(
        data.values, data.values if data.is_tutorial else quantised(data.values))
    if drawable and data.kind == "between":
        s.source, s.band = "band", data
    elif (drawable and data.kind == "around" and data.n_curves <= MAX_DRAWN_CURVES
          and noise_offered(data.noise) == data.noise):
        s.source, s.centres, s.noise = "curves", np.array(data.values), data.noise
    else:
        s.source, s.table = "csv", data
    s.version += 1
    s.error, s.csv_missing = None, False


# -- the sidebar's controls ----------------------------------------------------------------------


def controls(target: str) -> None:
    """How your curves come (and the noise of drawn ones), under the target in the sidebar."""
    if target != "data":
        return
    s = state()
    st.session_state[SOURCE] = s.source
    st.radio("Your curves", list(SOURCES), format_func=SOURCES.get, key=SOURCE,
             on_change=_choose, help="Draw a band: real curves are uniform blends of a lower "
             "and an upper curve you draw. Draw curves: real curves are the curves you draw, "
             "plus Gaussian noise. Upload a CSV: one curve per row. The drawing or the file is "
             "above the live view.")
    if s.source == "curves":
        st.session_state[NOISE] = s.noise
        st.slider("Noise around the curves", NOISE_LOW, NOISE_HIGH, step=NOISE_STEP,
                  key=NOISE, on_change=_set_noise, format="%.2f",
                  help="Standard deviation of the Gaussian noise added at every point of a "
                  "drawn curve to make a real one. Changing it starts a new model.")


def _choose() -> None:
    state().source = st.session_state[SOURCE]


def _set_noise() -> None:
    state().noise = noise_offered(float(st.session_state[NOISE]))


# -- the panel above the live view ----------------------------------------------------------------


def panel(trainer: Trainer) -> None:
    """The drawing pad or the uploader, and what the run learns; in one slot, shown for a run
    of your data only."""
    shown = trainer.config.target == "data" and trainer.data is not None
    with slot(shown):
        if shown:
            with st.container(border=True, key=BOX):
                _panel(trainer)


def _panel(trainer: Trainer) -> None:
    s, data = state(), trainer.data
    assert data is not None
    st.markdown("##### Your data")
    left, right = st.columns([3, 2], gap="medium")
    with left:
        if s.source == "csv":
            st.file_uploader(
                "Upload a CSV file of curves", type=["csv", "txt"], key=UPLOAD,
                on_change=_uploaded, max_upload_size=UPLOAD_MB,
                help="One curve per row, 4 to 64 numbers; an optional header row (numbers in "
                "it are the points' x). Up to 10,000 rows and 2 MB. A file that cannot be read "
                "is refused and the run goes on as it was.")
        else:
            mode = "band" if s.source == "band" else "curves"
            curves = s.band.values if mode == "band" else s.centres
            defaults = tutorial_bounds(data.x) if mode == "band" else default_centres(
                data.n_points)
            drawing.pad(PAD, mode, data.x, curves, defaults, s.version,
                        s.noise if mode == "curves" else 0.0, _drew)
    with right:
        for line in describe(trainer, s):
            st.caption(line)
        if s.error:
            st.error(s.error, icon=":material/block:")


def describe(trainer: Trainer, s: DataState) -> list[str]:
    """What the run learns, in a few sentences for the panel."""
    data = trainer.data
    assert data is not None
    if s.source == "csv" and s.table is None:
        return ["No file yet: until one is given, the run learns the drawn band."
                + (" The link's run learned a CSV file, which a link cannot carry: upload the "
                   "same file here." if s.csv_missing else "")]
    lines = []
    if data.kind == "between":
        lines.append("**Drag on the grid** to redraw the lower (orange) or the upper (blue) "
                     "curve: the one nearest where you press. Real curves are uniform blends "
                     "(1 − u)·lower + u·upper, u ~ U(0, 1).")
        lines.append("The tutorial's curves are such blends: a·x² + (a − 1) = (2 − a)·x² + "
                     "(a − 1)·(2x² + 1), and a ~ U(1, 2) is u = a − 1, uniform. Its band starts "
                     "as x² and 2x² + 1.")
        if data.is_tutorial:
            gap = tutorial_gap(trainer.config.seed, data.n_points)
            lines.append(f"**Untouched, this band is the tutorial's data**: with seed "
                         f"{trainer.config.seed}, 1,000 of its real curves and the tutorial's "
                         f"differ by at most {gap:.1e} (float rounding).")
    elif data.kind == "around":
        lines.append(f"**Drag on the grid** to redraw the curve nearest where you press; add "
                     f"or remove curves (up to {MAX_DRAWN_CURVES}). Real curves are one of them, "
                     f"each as likely, plus Gaussian noise of width {data.noise:g} (the "
                     "sidebar's slider) at every point.")
        if data.n_curves > 1:
            lines.append("A mixture: a G that paints only some of the curves reads low "
                         "**Recall** (mode collapse), however realistic its curves.")
    else:
        where = f"x from {data.x[0]:g} to {data.x[-1]:g}" if not data.on_grid else \
            "evenly on [−1, 1]"
        lines.append(f"**{data.name}**: {data.n_curves:,} curves of {data.n_points} points "
                     f"({where}). Real curves are the rows, each as likely.")
        lines += [f"· {note}" for note in data.notes]
    if data.normalised:
        lines.append(f"These curves lie far from the tutorial's range (−1 to 4), so G and D "
                     f"train on a normalised copy, (y − {data.offset:.4g}) / {data.scale:.4g}. "
                     "Everything on this page is in the curves' own units.")
    return lines


@lru_cache(maxsize=64)
def tutorial_gap(seed: int, n_points: int) -> float:
    """The largest difference between 1,000 real curves of the tutorial's band and of the
    tutorial's family, drawn from the same seed's stream."""
    band = Curves.tutorial(n_points)
    family, x = get_target("parabola"), curve_grid(n_points)
    ours = band.sample(np.random.default_rng(seed), 1000)
    theirs = family.sample(np.random.default_rng(seed), 1000, x)
    return float(np.abs(ours - theirs).max())


def _drew() -> None:
    """The pad sent a drawing: take it if it is of the drawing on show and can be learned;
    otherwise say why and show the drawing as it was."""
    s, sent = state(), drawing.drawn(PAD)
    if sent is None or sent.get("version") != s.version:
        return  # a drawing of an older version of the pad (its points changed meanwhile)
    try:
        values = np.array(sent.get("curves"), dtype=np.float64)
        if values.ndim != 2 or not np.isfinite(values).all():
            raise DataError("the drawing is not curves of numbers")
        if s.source == "band":
            n = s.band.n_points
            if values.shape != (2, n):
                raise DataError(f"a band is two curves of {n} points")
            x = curve_grid(n).astype(np.float64)
            s.band = Curves.tutorial(n) if np.array_equal(values, tutorial_bounds(x)) else \
                Curves.between(*quantised(values), x, name="drawn band")
        else:
            n = s.centres.shape[1]
            if values.shape[1] != n or not 1 <= len(values) <= MAX_DRAWN_CURVES:
                raise DataError(f"1 to {MAX_DRAWN_CURVES} curves of {n} points")
            s.centres = quantised(values)
    except DataError as exc:
        s.error = f"That drawing cannot be learned: {exc}. The drawing is back as it was."
        s.version += 1
        return
    s.error = None


def _uploaded() -> None:
    """A file was given: its curves, if they can be read, become the run's (points per curve
    follow them); otherwise the refusal is said and nothing changes."""
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return  # the file was taken off the uploader: the run keeps its curves
    s = state()
    try:
        table = Curves.from_csv(upload)
    except DataError as exc:
        s.error = (f"Could not use {upload.name!r}: {exc}. Nothing changed: the run goes on "
                   "with the curves it had.")
        return
    s.table, s.error, s.csv_missing = table, None, False
    st.session_state[POINTS] = table.n_points

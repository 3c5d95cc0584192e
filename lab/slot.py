"""A place on the page that keeps its position whether or not it shows anything.

Streamlit addresses an element by its index among its siblings. An element that is there in
one run and not in the next moves everything after it; while runs overlap, an interrupted
run's copies of those elements stay on the page, stale, beside the new ones (a second curves
chart, greyed out, until a run of the whole page completes). A slot is one placeholder in
every run, hidden while empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st


@contextmanager
def slot(shown: bool) -> Iterator[None]:
    """Write what the block writes into one placeholder; ``shown`` says whether it writes
    anything (an empty placeholder is hidden, an empty container would still take a gap)."""
    place = st.empty()
    if shown:
        with place.container():
            yield
    else:
        yield

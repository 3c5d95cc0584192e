"""One typed Session State entry per feature."""

from __future__ import annotations

from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def holder(key: str, kind: type[T]) -> T:
    """The feature's entry ``key``, a ``kind()`` made on the visitor's first run.

    A feature keeps everything it remembers between runs as fields of its own dataclass under
    one key, instead of loose keys spread over the page.
    """
    if key not in st.session_state:
        st.session_state[key] = kind()
    value = st.session_state[key]
    if not isinstance(value, kind):
        raise TypeError(f"Session State {key!r} holds a {type(value).__name__}, not a "
                        f"{kind.__name__}")
    return value

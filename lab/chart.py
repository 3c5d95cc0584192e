"""One chart on the page, keyed so that a browser test can find it."""

from __future__ import annotations

import streamlit as st

from gan_core import charts as ch


def chart(spec: dict, data: dict, key: str) -> None:
    with st.container(key=key):  # a stable CSS class (st-key-...) for the browser tests
        st.vega_lite_chart(ch.with_data(spec, data), key=key, width="stretch")

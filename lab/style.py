"""The page's own layout rules, beside Streamlit's: how it fits a phone (``page.css``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

CSS = (Path(__file__).parent / "page.css").read_text()


def style() -> None:
    """Add the rules to the page. Style alone takes no room: Streamlit puts it out of the
    page's flow."""
    st.html(f"<style>{CSS}</style>")

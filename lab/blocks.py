"""A part of the page described once, as headings, captions, charts and columns, and drawn
either with Streamlit's own elements or by the player's script in the browser.

The panels below the live curves change every run of the live view. As Streamlit elements each
run sends some forty of them, and the browser re-renders the page for every few that arrive and
redraws each chart through Vega's expression interpreter; drawn by the player (``player.py``)
they are one element whose charts take their new data in place. Under ``AppTest``, which runs
no JavaScript, they are Streamlit elements as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from gan_core.views import charts as ch

from .chart import chart


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 5


@dataclass(frozen=True)
class Caption:
    text: str
    """Markdown as ``st.caption`` reads it: the player renders ``**bold**`` and ``:orange[...]``,
    all these captions use."""


@dataclass(frozen=True)
class Chart:
    key: str
    spec: ch.Spec
    data: ch.Datasets


@dataclass(frozen=True)
class Columns:
    """Columns side by side (stacked on a narrow screen, as ``st.columns``)."""

    columns: list[list[Block]]
    weights: list[float] = field(default_factory=list)
    """Relative widths; equal if empty."""


Block = Heading | Caption | Chart | Columns


def draw(blocks: list[Block]) -> None:
    """The blocks as Streamlit elements."""
    for block in blocks:
        if isinstance(block, Heading):
            st.markdown(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Caption):
            st.caption(block.text)
        elif isinstance(block, Chart):
            chart(block.spec, block.data, block.key)
        else:
            for column, inner in zip(st.columns(block.weights or len(block.columns)),
                                     block.columns, strict=True):
                with column:
                    draw(inner)


def layout(blocks: list[Block], charts: dict[str, Chart]) -> list[dict[str, Any]]:
    """The blocks as the player lays them out, gathering their charts into ``charts``."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append({"heading": block.text, "level": block.level})
        elif isinstance(block, Caption):
            out.append({"caption": block.text})
        elif isinstance(block, Chart):
            charts[block.key] = block
            out.append({"chart": block.key})
        else:
            out.append({"columns": [layout(inner, charts) for inner in block.columns],
                        "weights": block.weights or [1] * len(block.columns)})
    return out

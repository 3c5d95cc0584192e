"""One chart on the page, keyed so that a browser test can find it.

pandas is imported with this module, although the charts' data no longer go through it: Altair
takes pandas from ``sys.modules`` whenever it builds a spec, and Streamlit still imports it
lazily on some paths. Imported on first use by one session's thread, it is seen half-built by
another session building a chart at that moment (an AttributeError on the page).
"""

from __future__ import annotations

import numpy as np
import pandas  # noqa: F401  (whole, before any session draws a chart: see above)
import pyarrow as pa
import streamlit as st

from gan_core.views import charts as ch


def chart(spec: dict, data: ch.Datasets, key: str) -> None:
    with st.container(key=key):  # a stable CSS class (st-key-...) for the browser tests
        st.vega_lite_chart(with_arrow_data(spec, data), key=key, width="stretch")


def with_arrow_data(spec: dict, data: ch.Datasets) -> dict:
    """The spec with its datasets, its own (Altair's inline values: lists of records) and
    ``data``, as Arrow tables."""
    own = {name: arrow_table(records_columns(rows))
           for name, rows in spec.get("datasets", {}).items()}
    return ch.with_data({**spec, "datasets": own},
                        {name: arrow_table(columns) for name, columns in data.items()})


def records_columns(rows: list[dict]) -> dict[str, np.ndarray]:
    """Records (all with the same keys, as Altair writes inline values) as columns."""
    keys = list(rows[0]) if rows else []
    if any(list(row) != keys for row in rows):
        raise ValueError(f"records with different keys: {rows!r}")
    return {key: np.asarray([row[key] for row in rows]) for key in keys}


def arrow_table(columns: dict[str, np.ndarray]) -> pa.Table:
    """A dataset as the Arrow table Streamlit would make of it (NaN as null, text as large
    strings), made straight from the arrays. Given a dict, Streamlit builds a pandas DataFrame
    first and converts that: most of a live refresh's server time went there."""
    return pa.table({name: _arrow_array(np.asarray(values)) for name, values in columns.items()})


def _arrow_array(values: np.ndarray) -> pa.Array:
    if values.dtype.kind in "UO":
        return pa.array(values.tolist(), type=pa.large_string(), from_pandas=True)
    return pa.array(values, from_pandas=True)

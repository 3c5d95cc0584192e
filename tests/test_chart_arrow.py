"""The live charts' data reach the browser as the same Arrow columns as Streamlit's own
conversion would make (which goes through pandas, most of a refresh's server time): same names,
types and values, NaN sent as null, text as large strings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from streamlit import dataframe_util

from gan_core import GANConfig, Trainer
from gan_core.views import charts as ch
from gan_core.views import inference
from lab.chart import arrow_table, records_columns

ROOT = Path(__file__).resolve().parents[1]


def streamlit_table(columns: dict[str, np.ndarray]) -> pa.Table:
    return pa.ipc.open_stream(dataframe_util.convert_anything_to_arrow_bytes(columns)).read_all()


def sent_table(columns: dict[str, np.ndarray]) -> pa.Table:
    data = dataframe_util.convert_anything_to_arrow_bytes(arrow_table(columns))
    return pa.ipc.open_stream(data).read_all()


def assert_same_columns(columns: dict[str, np.ndarray]) -> None:
    ours, theirs = sent_table(columns), streamlit_table(columns)
    assert ours.schema.remove_metadata() == theirs.schema.remove_metadata()
    assert ours.to_pydict() == theirs.to_pydict()


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    """A run with a ghost and a change, so that every dataset the page may send is there."""
    t = Trainer(GANConfig(seed=2))
    t.train(60)
    t.fork(t.config.replace(lr_g=1e-3))
    t.train(40)
    return t


def every_dataset(trainer: Trainer) -> dict[str, dict[str, np.ndarray]]:
    target = trainer.config.target
    ghost = inference.ghost_curves(trainer)
    assert ghost is not None
    data = {
        **ch.curves_data(inference.curves_view(trainer), target, ghost=ghost),
        **ch.distribution_data(inference.fitted_parameter(trainer), target),
        **ch.discriminator_data(trainer.discriminator_map(resolution=ch.MAP_RESOLUTION,
                                                          n_generated=120, n_real=40)),
        **ch.latent_data(inference.latent_sweep(trainer, 1, 0.5), target),
    }
    marks = [ch.Mark(c.step, c.step, f"step {c.step:,}: lr G → 1e-3") for c in trainer.changes]
    for panel in ch.history_panels(target):
        for name, columns in ch.history_data(trainer.history, panel, marks,
                                             [ch.Mark(10, 30, "mode collapse")],
                                             ghost=trainer.ghost.history).items():
            data[f"{panel}/{name}"] = columns
    return data


def test_every_live_dataset_is_sent_as_streamlit_would_send_it(trainer: Trainer) -> None:
    data = every_dataset(trainer)
    assert {"curves", "band", "hist", "dmap", "points", "sweep", "losses/changes", "w1/events",
            "in_band/ghost"} <= set(data)
    for columns in data.values():
        assert_same_columns(columns)


def test_missing_values_are_sent_as_nulls_and_text_as_large_strings() -> None:
    columns = {"step": np.array([1, 2, 3], np.int32),
               "w1": np.array([0.5, np.nan, 0.25], np.float32),
               "label": np.array(["step 1: lr G 0.0001 → 0.001", "", "ß"])}
    assert_same_columns(columns)
    table = sent_table(columns)
    assert table.column("w1").to_pylist() == [0.5, None, 0.25]
    assert table.schema.field("label").type == pa.large_string()


@pytest.mark.parametrize("panel", list(ch.HISTORY_PANELS))
@pytest.mark.parametrize("loss", ["minimax", "least_squares"])
def test_a_specs_own_inline_values_are_sent_as_streamlit_would_send_them(panel: str,
                                                                         loss: str) -> None:
    for rows in ch.history_spec(panel, loss).get("datasets", {}).values():
        ours = sent_table(records_columns(rows))
        theirs = pa.ipc.open_stream(dataframe_util.convert_anything_to_arrow_bytes(rows)
                                    ).read_all()
        assert ours.schema.remove_metadata() == theirs.schema.remove_metadata()
        assert ours.to_pydict() == theirs.to_pydict()


def test_records_with_different_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="different keys"):
        records_columns([{"value": 1.0, "label": "a"}, {"value": 2.0}])


def test_the_chart_module_brings_pandas_in_whole_before_any_session_draws() -> None:
    """Altair takes pandas from sys.modules when it builds a spec: imported later by one
    session's thread, it would be seen half-built by another's (see lab/chart.py)."""
    probe = ("import sys; import streamlit, altair; assert 'pandas' not in sys.modules; "
             "import lab.chart; print(hasattr(sys.modules['pandas'], 'Timestamp'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "True"

"""History across versions: columns are saved by name, a run saved before a column existed
loads with gaps there, and the CSV holds every column."""

from __future__ import annotations

import io

import numpy as np
import pytest
from run_state import trained

from gan_core import GANConfig, Trainer
from gan_core.gan.history import History, Series


def test_a_series_saves_its_column_names_and_loads_them_in_any_order() -> None:
    series = Series(("a", "b", "c"), capacity=10, stride=1)
    for step in (1, 2, 3):
        series.append(step, [step, 10 * step, 100 * step])
    state = series.state()
    assert state["columns"] == ["a", "b", "c"]
    shuffled = {**state, "columns": ["c", "a", "b"], "rows": state["rows"][:, [2, 0, 1]]}
    again = Series(("a", "b", "c"), capacity=10, stride=1)
    again.load_state(shuffled)
    np.testing.assert_array_equal(again.state()["rows"], state["rows"])


def test_a_history_saved_before_the_new_columns_loads_with_gaps_there() -> None:
    """Rows without column names hold the first columns, in order (the format before names)."""
    run = trained(GANConfig(seed=1), 200)
    old = {name: {"steps": s["steps"], "rows": s["rows"][:, :k], "stride": s["stride"]}
           for (name, s), k in zip(run.history.state().items(), (4, 3), strict=True)}
    history = History()
    history.load_state(old)
    np.testing.assert_array_equal(history.train.column("d_real"),
                                  run.history.train.column("d_real"))
    np.testing.assert_array_equal(history.eval.column("w1"), run.history.eval.column("w1"))
    assert np.isnan(history.train.column("g_force")).all()
    for column in ("joint_w1", "spread", "jsd", "jsd_d"):
        assert np.isnan(history.eval.column(column)).all()
    assert ",nan" in history.to_csv()


def test_a_history_with_a_column_this_version_does_not_know_is_refused() -> None:
    history = History()
    state = history.state()
    state["eval"] = {**state["eval"], "columns": [*History.EVAL_COLUMNS, "future"],
                     "rows": np.zeros((0, len(History.EVAL_COLUMNS) + 1))}
    with pytest.raises(ValueError, match="'future'"):
        history.load_state(state)
    assert len(history) == 0  # nothing was replaced


def test_a_checkpoint_keeps_every_column_of_the_history() -> None:
    run = trained(GANConfig(seed=2), 150)
    buffer = io.BytesIO()
    run.save(buffer)
    buffer.seek(0)
    loaded = Trainer.load(buffer)
    for name in ("train", "eval"):
        before, after = getattr(run.history, name), getattr(loaded.history, name)
        assert after.columns == before.columns
        np.testing.assert_array_equal(after.state()["rows"], before.state()["rows"])

"""A link's query read into settings: what is used, how it is spelled, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gan_core import GANConfig, Pacing, from_link, read_link
from gan_core.files.link import SHOWN_PROBLEMS


def test_a_link_sets_run_settings_and_pacing() -> None:
    link = read_link({"lr_g": "0.001", "seed": "3", "loss": "hinge", "steps_per_tick": "20",
                      "tick_seconds": "0.5"})
    assert link.config == GANConfig(lr_g=1e-3, seed=3, loss="hinge")
    assert link.pacing == Pacing(steps_per_tick=20, tick_seconds=0.5)
    assert link.problems == {}


def test_from_link_gives_the_runs_config_and_the_problems() -> None:
    config, problems = from_link({"hidden": "64", "bogus": "1"})
    assert config == GANConfig(hidden=64)
    assert problems == {"bogus": "unknown setting 'bogus'"}


def test_every_used_setting_is_spelled_as_its_widget_spells_it() -> None:
    link = read_link({"lr_g": "1e-3", "seed": " 0007", "beta1": "0.50", "loss": "hinge"})
    assert link.spelled == {"lr_g": "0.001", "seed": "7", "beta1": "0.5", "loss": "hinge"}


@pytest.mark.parametrize(("key", "raw", "says"), [
    ("seed", "inf", "not a valid int"),
    ("seed", "1e400", "not a valid int"),
    ("seed", "١٢", "not a valid int"),  # Arabic-Indic digits, which int() would take
    ("seed", "1_0", "not a valid int"),
    ("hidden", "100000", "between 4 and 512"),
    ("lr_g", "nan", "not a valid float"),
    ("lr_g", "4e-4", "not one of the values its widget offers"),
    ("beta1", "0.5004", "not one of the values its widget offers"),
    ("loss", "Hinge", "one of minimax"),
    ("tick_seconds", "-inf", "not a valid float"),
    ("colour", "red", "unknown setting"),
])
def test_a_value_that_cannot_be_used_is_refused_with_its_key_and_the_default_kept(
        key: str, raw: str, says: str) -> None:
    link = read_link({key: raw})
    assert list(link.problems) == [key] and says in link.problems[key]
    assert key not in link.spelled
    assert (link.config, link.pacing) == (GANConfig(), Pacing())


def test_a_setting_given_twice_is_refused() -> None:
    link = read_link({"seed": ["1", "2"], "hidden": ["64"]})
    assert link.problems == {"seed": "seed: given 2 times"}
    assert link.config == GANConfig(hidden=64)


def test_long_garbage_is_shortened_in_the_message() -> None:
    link = read_link({"seed": "9" * 5000, "x" * 5000: "1"})
    assert all(len(text) < 120 for text in link.problems.values())


def test_the_summary_names_a_few_problems_and_counts_the_rest() -> None:
    link = read_link({f"bogus{i}": "1" for i in range(SHOWN_PROBLEMS + 3)})
    assert link.summary().count("unknown setting") == SHOWN_PROBLEMS
    assert link.summary().endswith("and 3 more")


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=6))
def test_any_query_reads_without_raising_and_every_key_is_used_or_refused(
        query: dict[str, str]) -> None:
    link = read_link(query)
    assert set(link.problems) | set(link.spelled) == set(query)
    assert not set(link.problems) & set(link.spelled)
    again = read_link(link.spelled)  # a respelled link means the same and is clean
    assert (again.config, again.pacing, again.problems) == (link.config, link.pacing, {})
    assert again.spelled == link.spelled

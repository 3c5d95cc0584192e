"""Reading curves from a CSV file: the format taken, every hostile or odd file refused with a
message naming where and what to change (or taken with a note of what was left out), and
memory bounded whatever the file.

The files are built by ``harness/hostile_csv.py``; ``benchmarks/csv_uploads.py`` measures them.
"""

from __future__ import annotations

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gan_core.data import Curves, DataError
from gan_core.data.curves import curve_grid
from harness.hostile_csv import HOSTILE, MEMORY_BOUND_MB, ODD_BUT_TAKEN, measure, plain, write_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "data"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_files(tmp_path_factory.mktemp("csv"))


# -- hostile and odd files -----------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_saying_what_and_where(files: dict[str, Path],
                                                         name: str) -> None:
    with pytest.raises(DataError) as info:
        Curves.from_csv(files[name])
    assert HOSTILE[name].says in str(info.value)


@pytest.mark.parametrize("name", ODD_BUT_TAKEN)
def test_a_file_close_to_the_format_is_taken_with_a_note_of_what_was_left_out(
        files: dict[str, Path], name: str) -> None:
    curves = Curves.from_csv(files[name])
    assert ODD_BUT_TAKEN[name].says in " ".join(curves.notes)


def test_a_refusal_names_the_cells_row_and_column_as_attributes_too(
        files: dict[str, Path]) -> None:
    with pytest.raises(DataError) as info:
        Curves.from_csv(files["empty cell"])
    assert (info.value.row, info.value.column) == (3, 5)


def test_a_byte_order_mark_and_windows_line_ends_read_as_the_plain_file(
        files: dict[str, Path]) -> None:
    expected = Curves.from_csv(plain())
    assert Curves.from_csv(files["UTF-8 BOM"]) == expected
    crlf = Curves.from_csv(files["Windows line ends"])
    np.testing.assert_array_equal(crlf.values, expected.values)


def test_leading_columns_that_number_or_name_the_rows_are_left_out(
        files: dict[str, Path]) -> None:
    ids = Curves.from_csv(files["leading id column"])
    assert ids.n_points == 12 and ids.layout == (0, 1)
    years = Curves.from_csv(files["year column in a header"])
    assert years.n_points == 12 and years.x.tolist() == list(range(1, 13))
    labelled = Curves.from_csv(files["label column"])
    assert labelled.labels is not None and labelled.labels[:3] == ("c0", "c1", "c2")
    assert labelled.layout == (1, 1)


def test_reading_any_file_adds_at_most_64_mb_to_a_fresh_process(
        files: dict[str, Path]) -> None:
    """Every file, read from its path (the library's capped read), and those over 1 MB also as
    an upload held in memory up to the server's limit: the peak RSS the reading adds stays
    under the bound."""
    jobs = [(name, path, how) for name, path in files.items() for how in ("path", "upload")
            if how == "path" or path.stat().st_size > 2**20]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda job: measure(job[1], job[2]), jobs))
    for (name, _, how), result in zip(jobs, results, strict=True):
        expected = "taken" if name in ODD_BUT_TAKEN else "refused"
        assert result["outcome"].startswith(expected), (name, how, result)
        assert result["peak_mb"] <= MEMORY_BOUND_MB, (name, how, result)


# -- the format ---------------------------------------------------------------------------------


def test_numbers_in_the_header_are_the_points_positions() -> None:
    curves = Curves.from_csv("0,0.5,1,2\n1,2,3,4\n2,3,4,6\n".replace("0,0.5,1,2",
                                                                     '"0","0.5","1","2"'))
    assert curves.x.tolist() == [0, 0.5, 1, 2]
    assert curves.n_curves == 2


def test_without_a_header_the_points_sit_evenly_on_minus_one_to_one() -> None:
    curves = Curves.from_csv("1,2,3,4,5\n2,3,4,5,6\n")
    np.testing.assert_array_equal(curves.x, curve_grid(5).astype(np.float64))
    assert curves.notes == () and curves.layout == (0, 0)


def test_header_positions_that_do_not_increase_are_refused_naming_the_column() -> None:
    with pytest.raises(DataError, match=r"row 1, column 4: .*1 follows 2") as info:
        Curves.from_csv("x,0,2,1,3\na,1,2,3,4\nb,2,3,4,5\n")
    assert info.value.column == 4


@pytest.mark.parametrize(("text", "says"), [
    ('1,"1,5",3,4\n1,2,3,4\n', "row 1, column 2: '1,5' has a decimal comma"),
    ("1,2,3,4\n1,2,x,4\n", "row 2, column 3: 'x' is not a number"),
    ('1,"2,3,4\n5,6,7,8\n', "a quote is opened but never closed"),
    ("a,b,c,d\n", "a header row but no curves"),
    ("", "the file is empty"),
    ("\n\n", "the file is empty"),
    ("1,2,3,4\nParis,2,3,4\n3,4,5,6\n", "row 2, column 1: 'Paris' is not a number"),
])
def test_small_faults_are_named_where_they_are(text: str, says: str) -> None:
    with pytest.raises(DataError, match=says):
        Curves.from_csv(text)


def test_blank_lines_are_skipped_and_said_so() -> None:
    curves = Curves.from_csv("1,2,3,4\n\n2,3,4,5\n\n\n")
    assert curves.n_curves == 2
    assert curves.notes == ("1 blank line was skipped.",)


def test_text_bytes_a_file_object_and_a_path_read_alike(tmp_path: Path) -> None:
    data = plain()
    path = tmp_path / "curves.csv"
    path.write_bytes(data)
    expected = Curves.from_csv(data)
    assert Curves.from_csv(data.decode()) == expected
    assert Curves.from_csv(io.BytesIO(data)) == expected
    assert Curves.from_csv(path) == expected
    assert Curves.from_csv(str(path)) == expected
    assert Curves.from_csv(path).name == "curves.csv"
    with pytest.raises(DataError, match="cannot read"):
        Curves.from_csv(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="expected a CSV file"):
        Curves.from_csv(12)


# -- the example files --------------------------------------------------------------------------


def test_the_temperatures_example_is_a_year_of_hours_in_degrees() -> None:
    curves = Curves.from_csv(EXAMPLES / "temperatures.csv")
    assert (curves.n_curves, curves.n_points) == (365, 24)
    assert curves.x.tolist() == list(range(24))
    assert curves.normalised and -15 < curves.values.min() and curves.values.max() < 40
    assert "('day')" in curves.notes[0]


def test_the_two_shapes_example_is_a_mixture_in_the_tutorials_range() -> None:
    curves = Curves.from_csv(EXAMPLES / "two-shapes.csv")
    assert (curves.n_curves, curves.n_points) == (600, 16)
    assert not curves.normalised and curves.notes == ()
    middle = curves.values[:, 7:9].mean(axis=1)
    assert ((middle > 1.5) | (middle < 0.5)).mean() > 0.95  # bumps and dips, none flat


def test_the_example_files_are_what_their_script_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_example_data.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("temperatures.csv", "two-shapes.csv", "labelled-shapes.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name

"""Hostile uploads: every file up to the upload limit is refused, or loaded, within a fixed memory
bound and without running anything from it.

``torch.load`` inflates a file's zip entries and builds its tensors before anything can look at
them, so the files here were each built to make a loader allocate far more than their size (or
spend far longer than their size warrants), by ``harness/hostile_uploads.py`` from a genuine
checkpoint. ``benchmarks/uploads.py`` measures the same files against the loader as it was.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from gan_core import CheckpointError, GANConfig, Trainer
from gan_core.files.checkpoint import MAX_BYTES
from harness.hostile_uploads import (
    HOSTILE,
    MEMORY_BOUND_MB,
    V1_FILE,
    FakeTensor,
    Raw,
    central_entries,
    genuine,
    local_data,
    measure,
    tensor_of,
    torch_file,
    v2_bytes,
    write_hostile_files,
)


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile_files(tmp_path_factory.mktemp("hostile"))


# -- tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_saying_why(hostile_files: dict[str, Path], name: str) -> None:
    with pytest.raises(CheckpointError) as info:
        Trainer.load(hostile_files[name])
    assert HOSTILE[name].reason in str(info.value)


def test_every_hostile_file_is_within_the_upload_limit(hostile_files: dict[str, Path]) -> None:
    sizes = {name: path.stat().st_size for name, path in hostile_files.items()}
    assert all(size <= MAX_BYTES for size in sizes.values()), sizes
    assert sizes["deflated zeros"] < 2**20  # 256 MB of content in under 1 MB


def test_loading_any_file_adds_at_most_64_mb_to_a_fresh_process(
        hostile_files: dict[str, Path], tmp_path: Path) -> None:
    """Each hostile file, a genuine checkpoint in each format, and one of the largest allowed
    model, each loaded in a fresh process: the peak RSS the load adds stays under the bound,
    and the genuine ones load."""
    valid = tmp_path / "valid.pt"
    valid.write_bytes(v2_bytes())
    largest = tmp_path / "largest.pt"
    Trainer(GANConfig(hidden=512, n_points=100, latent_dim=64)).save(largest)
    files = {**hostile_files, "valid": valid, "v1": V1_FILE, "largest model": largest}
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(files, pool.map(measure, files.values()), strict=True))
    for name, result in results.items():
        expected = "loaded" if name in ("valid", "v1", "largest model") else "refused"
        assert result["outcome"].startswith(expected), (name, result)
        assert result["peak_mb"] <= MEMORY_BOUND_MB, (name, result)


# -- the zip directory, entry by entry -----------------------------------------------------------


def refused(data: bytes) -> str:
    with pytest.raises(CheckpointError) as info:
        Trainer.load(io.BytesIO(data))
    return str(info.value)


def test_a_genuine_checkpoint_recompressed_is_refused() -> None:
    source = zipfile.ZipFile(io.BytesIO(v2_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    assert "is compressed (zip method 8)" in refused(buffer.getvalue())


def test_an_entry_whose_two_sizes_disagree_is_refused() -> None:
    data = bytearray(v2_bytes())
    pos = central_entries(bytes(data))[b"archive/data/0"]
    struct.pack_into("<I", data, pos + 24, 2**20)  # its size, not its stored size
    assert "stored bytes for 1,048,576 bytes" in refused(bytes(data))


def test_a_local_header_that_disagrees_with_the_directory_is_refused() -> None:
    data = bytearray(v2_bytes())
    local = struct.unpack_from("<I", data, central_entries(bytes(data))[b"archive/data/0"]
                               + 42)[0]
    data[local + 30 + len("archive/data/")] = ord("7")  # the local header names data/7
    assert "local header of entry 'archive/data/0' disagrees" in refused(bytes(data))


def test_bytes_hidden_between_entries_are_refused() -> None:
    """A zip reader that follows the directory skips them; they could hold anything."""
    data = torch_file(*genuine(v2_bytes()))
    directory = central_entries(data)
    offsets = {name: struct.unpack_from("<I", data, pos + 42)[0]
               for name, pos in directory.items()}
    cut, junk = sorted(offsets.values())[1], b"\0" * 64
    hidden = bytearray(data[:cut] + junk + data[cut:])
    for name, pos in directory.items():  # the directory, after the cut, moved by len(junk)
        if offsets[name] >= cut:
            struct.pack_into("<I", hidden, pos + len(junk) + 42, offsets[name] + len(junk))
    (directory_offset,) = struct.unpack_from("<I", data, len(data) - 6)
    struct.pack_into("<I", hidden, len(hidden) - 6, directory_offset + len(junk))
    assert zipfile.ZipFile(io.BytesIO(bytes(hidden))).testzip() is None  # a valid zip
    assert "not where the entry before it ends" in refused(bytes(hidden))


def test_bytes_before_the_first_entry_are_refused() -> None:
    assert "not where" in refused(b"\0" * 64 + v2_bytes())


def test_a_corrupted_entry_fails_its_crc() -> None:
    data = bytearray(v2_bytes())
    data[local_data(bytes(data), b"archive/data/3")] ^= 0xFF
    assert "fails its CRC check" in refused(bytes(data))


def test_an_entry_twice_is_refused() -> None:
    buffer = io.BytesIO(torch_file(*genuine(v2_bytes())))
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("archive/version", "3\n")
    assert "holds 'archive/version' twice" in refused(buffer.getvalue())


def test_an_entry_torch_does_not_write_is_refused() -> None:
    buffer = io.BytesIO(torch_file(*genuine(v2_bytes())))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("archive/payload.py", "print('hello')")
    assert "holds 'payload.py', which torch.save does not write" in refused(buffer.getvalue())


def test_the_hand_written_files_are_what_torch_writes() -> None:
    """Control for every file built with :func:`torch_file`: a genuine checkpoint rebuilt that
    way, unchanged, loads, in either format."""
    for source in (V1_FILE, v2_bytes()):
        assert Trainer.load(io.BytesIO(torch_file(*genuine(source)))).step > 0


# -- tensors that are not a whole storage of their own -------------------------------------------


def v2_with(edit: Callable[[dict, dict], None]) -> bytes:
    contents, records = genuine(v2_bytes())
    edit(contents, records)
    return torch_file(contents, records)


def g_weight(make: Callable[[FakeTensor, dict], FakeTensor]) -> Callable[[dict, dict], None]:
    """An edit putting ``make(G's 0.weight, records)`` in its place (a (32, 5) float32)."""

    def edit(contents: dict, records: dict) -> None:
        contents["G"]["0.weight"] = make(contents["G"]["0.weight"], records)
    return edit


def other_bias_storage(contents: dict, records: dict) -> None:
    contents["G"]["0.bias"] = FakeTensor(contents["D"]["0.bias"].storage, (32,), (1,))


TENSOR_CASES: dict[str, tuple[Callable[[dict, dict], None], str]] = {
    "a zero stride": (
        g_weight(lambda t, r: tensor_of(r, bytes(4), 1, t.shape, (0, 0))),
        "G: 0.weight is not a whole contiguous storage (offset 0, stride (0, 0))"),
    "a transposed stride": (
        g_weight(lambda t, r: FakeTensor(t.storage, t.shape, (1, 32))),
        "G: 0.weight is not a whole contiguous storage (offset 0, stride (1, 32))"),
    "an offset into its storage": (
        g_weight(lambda t, r: FakeTensor(t.storage, t.shape, t.stride, offset=1)),
        "G: 0.weight is not a whole contiguous storage (offset 1, stride (5, 1))"),
    "a storage larger than the tensor": (
        g_weight(lambda t, r: tensor_of(r, bytes(4 * 161), 161, t.shape, t.stride)),
        "G: 0.weight sits in a storage of 161 values for its 160"),
    "an entry shorter than its storage": (
        g_weight(lambda t, r: tensor_of(r, bytes(8), 160, t.shape, t.stride)),
        "G: 0.weight: its storage entry holds 8 bytes, expected 640"),
    "the wrong storage type": (
        g_weight(lambda t, r: tensor_of(r, bytes(8 * 160), 160, t.shape, t.stride,
                                        torch.DoubleStorage)),
        "G: 0.weight is float64, expected float32"),
    "a larger tensor": (
        g_weight(lambda t, r: tensor_of(r, bytes(4 * 320), 320, (32, 10), (10, 1))),
        "G: 0.weight has shape (32, 10), expected (32, 5)"),
    "one tensor under two keys": (
        lambda c, r: c["G"].update({"0.bias": c["D"]["0.bias"]}),
        "D: 0.bias is the same tensor as another entry"),
    "one storage under two tensors": (other_bias_storage, "tensors share storage"),
    "a tensor where plain data belongs": (
        lambda c, r: c.update(schedule=[tensor_of(r, bytes(4), 1, (1,), (1,))]),
        "schedule holds a tensor where plain data belongs"),
    "an unused storage entry": (lambda c, r: r.update({"77": bytes(4)}),
                                "storage entry 'data/77' belongs to no tensor"),
}


@pytest.mark.parametrize("name", TENSOR_CASES)
def test_a_tensor_that_is_not_a_whole_storage_of_its_own_is_refused(name: str) -> None:
    edit, reason = TENSOR_CASES[name]
    assert reason in refused(v2_with(edit))


# -- the pickle ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opcodes", [
    b"cos\nmkdir\n(X\x03\x00\x00\x00/xxtR",  # GLOBAL os.mkdir, REDUCE
    b"(ccollections\nOrderedDict\no",  # OBJ
    b"ccollections\nOrderedDict\n)\x81",  # NEWOBJ
    b"(icollections\nOrderedDict\n",  # INST
    b"}}b",  # BUILD
    b"\x82\x01",  # EXT1: a class from the copyreg registry
], ids=["global", "obj", "newobj", "inst", "build", "extension"])
def test_an_opcode_that_makes_or_calls_objects_is_refused(opcodes: bytes) -> None:
    message = refused(v2_with(lambda c, r: c.update(schedule=Raw(opcodes))))
    assert "nothing in it was run" in message


def test_a_pickle_of_too_many_opcodes_is_refused() -> None:
    many = Raw(b"(" + b"N" * 60_000 + b"l")  # MARK, 60,000 NONE, LIST
    assert "runs over 50,000 opcodes" in refused(v2_with(lambda c, r: c.update(schedule=many)))


def test_plain_data_shared_many_times_over_is_refused() -> None:
    """Each of 30 levels is a list holding the level below twice: 2**30 values to a walk that
    trusted it, from 450 bytes of pickle."""

    def memoised(i: int) -> bytes:
        return b"r" + struct.pack("<I", i) + b"0"  # LONG_BINPUT i, POP

    opcodes = b"N" + memoised(0)
    for i in range(30):  # MARK, BINGET i twice, LIST
        opcodes += b"(h" + bytes([i]) + b"h" + bytes([i]) + b"l" + memoised(i + 1)
    shared = Raw(opcodes + b"h" + bytes([30]))
    message = refused(v2_with(lambda c, r: c.update(schedule=shared)))
    assert "schedule holds over 50,000 values" in message

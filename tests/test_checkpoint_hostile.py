"""Hostile uploads: every file up to the upload limit is refused, or loaded, within a fixed memory
bound and without running anything from it.

``torch.load`` inflates a file's zip entries and builds its tensors before anything can look at
them, so the files here were each built to make a loader allocate far more than their size (or
spend far longer than their size warrants). Each is made programmatically from a genuine
checkpoint: its contents pickled as torch does, with crafted tensors and storages, in a zip
written by ``zipfile``. ``benchmarks/uploads.py`` measures the same files against the loader as
it was.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import resource
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gan_core import CheckpointError, GANConfig, Trainer
from gan_core.checkpoint import MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
V1_FILE = ROOT / "tests" / "data" / "v1-tutorial.pt"
MEMORY_BOUND_MB = 64
"""Peak RSS a load may add to a fresh process, whatever the file (at most ``MAX_BYTES``)."""

STORAGE_TYPES = {torch.float32: torch.FloatStorage, torch.float64: torch.DoubleStorage,
                 torch.int64: torch.LongStorage}


# -- writing torch-format files by hand ---------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FakeStorage:
    """A storage descriptor as ``torch.save`` pickles it, saying whatever a test wants."""

    key: str
    kind: type
    numel: int


@dataclass(frozen=True, eq=False)
class FakeTensor:
    """A tensor as ``torch.save`` pickles it (``_rebuild_tensor_v2``), with any storage, offset,
    shape and stride."""

    storage: FakeStorage
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    offset: int = 0

    def __reduce__(self) -> tuple[Any, tuple]:
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False,
                 collections.OrderedDict()))


@dataclass(frozen=True)
class Raw:
    """Opcodes spliced into a pickle as one value (what ``pickle`` itself would not write)."""

    opcodes: bytes


@dataclass(frozen=True)
class Zeros:
    """``size`` zero bytes of a zip entry, written in chunks: never held in memory at once."""

    size: int


class _Pickler(pickle._Pickler):  # the Python pickler: its ``save`` can be extended
    def persistent_id(self, obj: Any) -> tuple | None:
        if isinstance(obj, FakeStorage):
            return ("storage", obj.kind, obj.key, "cpu", obj.numel)
        return None

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, Raw):
            self.write(obj.opcodes)
        else:
            super().save(obj, save_persistent_id)


def torch_file(contents: Any, records: dict[str, bytes | Zeros],
               compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip laid out as ``torch.save`` lays it out: ``archive/data.pkl`` (protocol 2, storage
    descriptors as persistent ids), ``byteorder``, ``version`` and ``data/<key>`` records."""
    pickled = io.BytesIO()
    _Pickler(pickled, protocol=2).dump(contents)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("archive/data.pkl", pickled.getvalue())
        archive.writestr("archive/byteorder", "little")
        for key, data in records.items():
            if isinstance(data, Zeros):
                with archive.open(f"archive/data/{key}", "w") as entry:
                    left, chunk = data.size, bytes(2**20)
                    while left:
                        entry.write(chunk[: min(left, len(chunk))])
                        left -= min(left, len(chunk))
            else:
                archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def central_entries(data: bytes) -> dict[bytes, int]:
    """Where each entry's record sits in the zip directory, by name."""
    _, _, _, _, total, _, pos, _ = struct.unpack_from("<IHHHHIIH", data, len(data) - 22)
    found = {}
    for _ in range(total):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        found[data[pos + 46: pos + 46 + name_len]] = pos
        pos += 46 + name_len + extra_len + comment_len
    return found


def local_data(data: bytes, name: bytes) -> int:
    """Where entry ``name``'s bytes start."""
    local = struct.unpack_from("<I", data, central_entries(data)[name] + 42)[0]
    name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
    return local + 30 + name_len + extra_len


def genuine(path_or_bytes: Path | bytes = V1_FILE) -> tuple[dict, dict[str, bytes]]:
    """A real checkpoint's contents with each tensor as a :class:`FakeTensor` over its bytes."""
    source = path_or_bytes if isinstance(path_or_bytes, Path) else io.BytesIO(path_or_bytes)
    records: dict[str, bytes] = {}

    def fake(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            key = str(len(records))
            records[key] = value.numpy().tobytes()
            storage = FakeStorage(key, STORAGE_TYPES[value.dtype], value.numel())
            return FakeTensor(storage, tuple(value.shape), tuple(value.stride()))
        if isinstance(value, dict):
            return {k: fake(v) for k, v in value.items()}
        return value

    return fake(torch.load(source, weights_only=True)), records


def tensor_of(records: dict[str, bytes | Zeros], data: bytes | Zeros, numel: int,
              shape: tuple[int, ...], stride: tuple[int, ...], kind: type = torch.FloatStorage
              ) -> FakeTensor:
    """A new storage entry holding ``data`` and a tensor over it."""
    key = str(1000 + len(records))
    records[key] = data
    return FakeTensor(FakeStorage(key, kind, numel), shape, stride)


def v2_bytes() -> bytes:
    trainer = Trainer(GANConfig(seed=5, hidden=32))
    trainer.train(12)
    buffer = io.BytesIO()
    trainer.save(buffer)
    return buffer.getvalue()


# -- the hostile files ---------------------------------------------------------------------------


def deflated_zeros() -> bytes:
    """256 MB of zeros as G's weights, deflated to a file of a few hundred KB."""
    contents, records = genuine()
    n = 2**26
    contents["nets"]["g"]["params"] = tensor_of(records, Zeros(4 * n), n, (n,), (1,))
    return torch_file(contents, records, zipfile.ZIP_DEFLATED)


def lying_sizes() -> bytes:
    """A genuine file whose zip directory declares one entry 2 GB long."""
    data = V1_FILE.read_bytes()
    pos = next(p for name, p in central_entries(data).items() if name.endswith(b"/data/0"))
    lying = bytearray(data)
    struct.pack_into("<II", lying, pos + 20, 2**31, 2**31)  # its stored and its real size
    return bytes(lying)


def zero_stride() -> bytes:
    """One float stored, read as 2**28 of them through a zero stride."""
    contents, records = genuine()
    contents["nets"]["g"]["params"] = tensor_of(records, bytes(4), 1, (2**28,), (0,))
    return torch_file(contents, records)


def shared_storage() -> bytes:
    """G's moment stored as the very bytes of its weights: one storage under two tensors."""
    contents, records = genuine()
    g = contents["nets"]["g"]
    del records[g["m"].storage.key]
    g["m"] = FakeTensor(g["params"].storage, g["params"].shape, g["params"].stride)
    return torch_file(contents, records)


def huge_shape() -> bytes:
    """G's weights declared 2**34 floats long (64 GB) over a storage entry of 16 bytes."""
    contents, records = genuine()
    n = 2**34
    contents["nets"]["g"]["params"] = tensor_of(records, bytes(16), n, (n,), (1,))
    return torch_file(contents, records)


def tiny_tensors() -> bytes:
    """5,000 one-value tensors beside a genuine checkpoint's own."""
    contents, records = genuine()
    contents["extra"] = {str(i): tensor_of(records, bytes(4), 1, (1,), (1,))
                         for i in range(5000)}
    return torch_file(contents, records)


def deep_nesting() -> bytes:
    """The training stream's state as dicts nested 15,000 deep."""
    contents, records = genuine()
    depth, key = 15_000, b"X\x01\x00\x00\x00a"  # BINUNICODE 'a'
    contents["rng"] = Raw(b"}" + (key + b"}") * depth + b"s" * depth)
    return torch_file(contents, records)


def memo_index() -> bytes:
    """A value memoised at index 2**28: a C unpickler would size its memo by it (4 GB)."""
    contents, records = genuine()
    contents["rng"] = Raw(b"N" + b"r" + struct.pack("<I", 2**28))  # NONE, LONG_BINPUT
    return torch_file(contents, records)


def colliding_keys() -> bytes:
    """A dict of 20,000 integer keys that share one hash: quadratic time to build."""
    contents, records = genuine()
    modulus = 2**61 - 1  # CPython hashes an int to itself modulo this
    items = []
    for i in range(1, 20_001):
        value = (i * modulus).to_bytes(10, "little", signed=True)
        items.append(b"\x8a" + bytes([len(value)]) + value + b"N")  # LONG1 key, None
    contents["rng"] = Raw(b"}(" + b"".join(items) + b"u")  # EMPTY_DICT, MARK, ..., SETITEMS
    return torch_file(contents, records)


def larger_tensor() -> bytes:
    """A genuine checkpoint with D's weights swapped for 2 million real floats (8 MB)."""
    contents, records = genuine()
    n = 2_000_000
    values = np.random.default_rng(0).standard_normal(n).astype(np.float32).tobytes()
    contents["nets"]["d"]["params"] = tensor_of(records, values, n, (n,), (1,))
    return torch_file(contents, records)


def unused_storage() -> bytes:
    """A genuine checkpoint plus a stored entry no tensor uses, filling the upload limit."""
    contents, records = genuine()
    base = len(torch_file(contents, records))
    records["999"] = Zeros(MAX_BYTES - base - 4096)
    return torch_file(contents, records)


@dataclass(frozen=True)
class Hostile:
    build: Callable[[], bytes]
    reason: str  # what the refusal says


HOSTILE = {
    "deflated zeros": Hostile(deflated_zeros, "is compressed (zip method 8)"),
    "declared sizes lie": Hostile(lying_sizes, "bytes of entries in a file of 64,261 bytes"),
    "zero stride": Hostile(zero_stride, "nets: g: params has shape (268435456,)"),
    "shared storage": Hostile(shared_storage, "tensors share storage"),
    "huge declared shape": Hostile(huge_shape, "nets: g: params has shape (17179869184,)"),
    "thousands of tiny tensors": Hostile(tiny_tensors, "has 5013 entries"),
    "deep nesting": Hostile(deep_nesting, "rng is nested over 32 deep"),
    "memo index 2**28": Hostile(memo_index, "rng: "),
    "colliding dict keys": Hostile(colliding_keys, "dict key of type int"),
    "larger tensor swapped in": Hostile(larger_tensor, "nets: d: params has shape (2000000,)"),
    "16 MB of unused storage": Hostile(unused_storage,
                                       "storage entry 'data/999' belongs to no tensor"),
}
"""Files built to cost a loader far more than their size, and what refuses each."""


def write_hostile_files(folder: Path) -> dict[str, Path]:
    paths = {}
    for name, case in HOSTILE.items():
        paths[name] = folder / f"{name.replace(' ', '-').replace('*', '')}.pt"
        paths[name].write_bytes(case.build())
    return paths


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile_files(tmp_path_factory.mktemp("hostile"))


# -- measuring a load in a fresh process -------------------------------------------------------

PROBE = """
import json, sys, time

def status_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

if "--torch" in sys.argv:
    import torch
from gan_core import CheckpointError, Trainer

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from the RSS now
base, start = status_kb("VmRSS"), time.perf_counter()
try:
    outcome = f"loaded at step {Trainer.load(sys.argv[1]).step}"
except CheckpointError as exc:
    outcome = f"refused: {exc}"
except BaseException as exc:
    outcome = f"crashed: {type(exc).__name__}: {str(exc)[:120]}"
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - start,
                  "peak_mb": (status_kb("VmHWM") - base) / 1024}))
"""
"""Loads one file with the ``gan_core`` on ``PYTHONPATH`` and prints the outcome, the time and
the peak RSS the load added to the process."""


def measure(path: Path, code_root: Path = ROOT, with_torch: bool = False,
            memory_limit: int | None = None) -> dict[str, Any]:
    """Load ``path`` in a fresh Python with ``code_root``'s ``gan_core``; ``with_torch`` imports
    torch before the baseline is taken; ``memory_limit`` (bytes of address space) protects the
    machine from a loader that would take all of it (it is set in the child before Python
    starts there, so call with it from one thread only)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    args = [sys.executable, "-c", PROBE, str(path), *(["--torch"] if with_torch else [])]
    done = subprocess.run(args, capture_output=True, text=True, cwd=code_root,
                          env={**os.environ, "PYTHONPATH": str(code_root)},
                          preexec_fn=None if memory_limit is None else limit, timeout=600,
                          check=False)
    if done.returncode:
        return {"outcome": f"killed (exit {done.returncode}): {done.stderr.strip()[-120:]}",
                "seconds": float("nan"), "peak_mb": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


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

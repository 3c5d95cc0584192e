"""Hostile checkpoint files, built by hand, and a fresh process to load one in and measure.

``torch.load`` inflates a file's zip entries and builds its tensors before anything can look at
them, so each file here is made to make a loader allocate far more than its size (or spend far
longer than its size warrants): a genuine checkpoint's contents pickled as torch does, with
crafted tensors and storages, in a zip written by ``zipfile``. ``tests/test_checkpoint_hostile.py``
refuses them; ``benchmarks/uploads.py`` measures them against the loader as it was.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_core import GANConfig, Trainer
from gan_core.files.checkpoint import MAX_BYTES
from harness.peak_memory import probe, run_probe

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


# -- measuring a load in a fresh process -------------------------------------------------------

PROBE = probe("""
if "--torch" in sys.argv:
    import torch
from gan_core import CheckpointError as Refusal, Trainer

def attempt():
    return f"loaded at step {Trainer.load(sys.argv[1]).step}"
""")
"""Loads one file with the ``gan_core`` on ``PYTHONPATH`` and prints the outcome, the time and
the peak RSS the load added to the process."""


def measure(path: Path, code_root: Path = ROOT, with_torch: bool = False,
            memory_limit: int | None = None) -> dict[str, Any]:
    """Load ``path`` in a fresh Python with ``code_root``'s ``gan_core``; ``with_torch`` imports
    torch before the baseline is taken; ``memory_limit`` as for ``run_probe``."""
    return run_probe(PROBE, [str(path), *(["--torch"] if with_torch else [])], code_root,
                     timeout=600, memory_limit=memory_limit, stderr_tail=120)

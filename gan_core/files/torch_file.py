"""``torch.save`` files taken apart without torch and without trusting them.

``torch.load`` inflates every zip entry and builds every tensor before anyone can look at them,
so a small upload can cost a large allocation: a deflated tensor of zeros, a zip whose declared
sizes lie, a tensor with a zero stride or a huge shape over a tiny storage. Python's C unpickler
is no way out either: it grows its memo to the largest index a pickle names, so the nine bytes
of ``LONG_BINPUT 2**24`` cost it 256 MB, and dict keys built to collide in hash cost it quadratic
time. So a file is read here in steps, each bounded by the file's size and checked before the
next:

1. :func:`read_archive` checks the zip directory as ``torch.save`` writes it: a bounded number
   of entries with known names and no duplicates, every entry stored (never compressed), local
   headers that agree with the central directory, entries back to back from the first byte to
   the directory with nothing hidden between them, and their CRCs.
2. :func:`unpickle` runs ``data.pkl`` (bounded in bytes and opcodes) on a small pickle machine
   over :func:`pickletools.genops`. It knows the opcodes of plain data and the few globals
   torch's tensors use; it calls nothing from the file, takes only text or small integers as
   dict keys, and builds no tensor: a :class:`TensorRef` records the storage descriptor torch
   would read (``('storage', storage_type, key, location, numel)``), offset, shape and
   stride.
3. The caller compares each :class:`TensorRef` with the dtype and shape it expects
   (:meth:`TorchFile.check_tensor`: also contiguous, offset 0, a storage of its own whose entry
   holds exactly its bytes), then :meth:`TorchFile.check_all_used`, and only then
   :meth:`TorchFile.array` copies checked bytes into numpy arrays.
"""

from __future__ import annotations

import math
import pickletools
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..gan.config import _shown

MAX_RECORDS = 64
"""Zip entries: a checkpoint has about 40 (one per tensor, six of torch's own)."""
MAX_PICKLE_BYTES = 2**20
MAX_PICKLE_OPS = 50_000
"""A checkpoint's pickle takes a few hundred opcodes; this leaves room for long schedules and
bounds what a pickle can build to a few MB."""
MAX_SMALL_RECORD = 64
"""torch's own records (version, byteorder, ...) hold a few bytes."""
MAX_DIMS = 8
MAX_INT_BITS = 256
"""The largest integer a checkpoint holds is the 128-bit state of the training stream."""
FLOAT32, FLOAT64, INT64 = np.dtype("<f4"), np.dtype("<f8"), np.dtype("<i8")
STORAGE_DTYPES = {"FloatStorage": FLOAT32, "DoubleStorage": FLOAT64, "LongStorage": INT64}
"""The storage types a checkpoint uses, as torch names them in a pickle."""

_OWN_RECORDS = {"data.pkl", "byteorder", "version", ".format_version", ".storage_alignment",
                ".data/version", ".data/serialization_id"}
_STORAGE_RECORD = re.compile(r"data/([0-9]{1,20})")
_NAME = re.compile(r"[^/\\\x00-\x1f\x7f]{1,200}/[A-Za-z0-9_./-]{1,100}")
"""torch names the archive's one folder after the file (``my run (1)`` for ``my run (1).pt``)."""
_EOCD = struct.Struct("<IHHHHIIH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<III")
_LOCATOR = struct.Struct("<IIQI")
_END64 = struct.Struct("<IQHHIIQQQQ")
_DATA_DESCRIPTOR_FLAG, _UTF8_FLAG = 0x0008, 0x0800
_ZIP64 = 0xFFFFFFFF


class TorchFileError(ValueError):
    """The bytes are not a ``torch.save`` file this reader takes; the text says why."""


# -- 1. the zip directory ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    name: str
    raw_name: bytes
    flags: int
    crc: int
    size: int
    offset: int


def read_archive(data: bytes) -> dict[str, memoryview]:
    """The records of a ``torch.save`` zip, by name without the archive's folder, as views of
    ``data``; :class:`TorchFileError` unless the directory is one ``torch.save`` could write."""
    n = len(data)
    if n < _EOCD.size:
        raise TorchFileError("not a zip archive (too short)")
    sig, disk, cd_disk, here, total, cd_size, cd_offset, comment = _EOCD.unpack_from(
        data, n - _EOCD.size)
    if sig != 0x06054B50 or comment:
        raise TorchFileError("not a zip archive as torch.save writes it (no end record at its "
                             "end)")
    if disk or cd_disk or here != total:
        raise TorchFileError("a zip archive spread over several disks")
    if not 1 <= total <= MAX_RECORDS:
        raise TorchFileError(f"its zip archive has {total} entries; a checkpoint has at most "
                             f"{MAX_RECORDS}")
    if cd_offset + cd_size != _directory_end(data, total, cd_size, cd_offset):
        raise TorchFileError("its zip directory is not where its end record says")
    entries = _central_directory(data, cd_offset, cd_offset + cd_size, total)
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise TorchFileError(f"its zip archive holds {_shown(twice)} twice")
    declared = sum(e.size for e in entries)
    if declared > n:
        raise TorchFileError(f"its zip directory declares {declared:,} bytes of entries in a "
                             f"file of {n:,} bytes")
    records, at = {}, 0
    for entry in sorted(entries, key=lambda e: e.offset):
        if entry.offset != at:
            raise TorchFileError(f"entry {_shown(entry.name)} is not where the entry before "
                                 "it ends (bytes hidden between entries, or entries overlap)")
        start, at = _local_entry(data, entry, cd_offset)
        record = memoryview(data)[start: start + entry.size]
        if zlib.crc32(record) != entry.crc:
            raise TorchFileError(f"entry {_shown(entry.name)} fails its CRC check")
        records[entry.name] = record
    if at != cd_offset:
        raise TorchFileError("bytes hidden between the last entry and the zip directory")
    return _without_folder(records)


def _directory_end(data: bytes, total: int, cd_size: int, cd_offset: int) -> int:
    """Where the central directory must end: at the end record, or at the zip64 end record
    that torch's writer puts before it (with a locator), which must say the same."""
    tail = len(data) - _EOCD.size
    if tail < _LOCATOR.size or data[tail - _LOCATOR.size: tail - _LOCATOR.size + 4] \
            != b"PK\x06\x07":
        return tail
    _, _, at, _ = _LOCATOR.unpack_from(data, tail - _LOCATOR.size)
    if at != tail - _LOCATOR.size - _END64.size:
        raise TorchFileError("its zip64 end record is not where its locator says")
    sig, size, _, _, disk, cd_disk, here, total64, size64, offset64 = _END64.unpack_from(data, at)
    if (sig != 0x06064B50 or size != _END64.size - 12 or disk or cd_disk
            or (here, total64, size64, offset64) != (total, total, cd_size, cd_offset)):
        raise TorchFileError("its zip64 end record disagrees with its end record")
    return at


def _central_directory(data: bytes, pos: int, end: int, total: int) -> list[_Entry]:
    entries = []
    for _ in range(total):
        if pos + _CENTRAL.size > end:
            raise TorchFileError("its zip directory is cut short")
        (sig, _, _, flags, method, _, _, crc, csize, size, name_len, extra_len, comment_len,
         disk, _, _, offset) = _CENTRAL.unpack_from(data, pos)
        raw_name = data[pos + _CENTRAL.size: pos + _CENTRAL.size + name_len]
        pos += _CENTRAL.size + name_len + extra_len + comment_len
        if sig != 0x02014B50 or pos > end:
            raise TorchFileError("its zip directory is malformed")
        name = raw_name.decode("utf-8", "replace")
        if not _NAME.fullmatch(name):
            raise TorchFileError(f"its zip archive holds an entry named {_shown(name)}, not a "
                                 "name torch.save writes")
        if method != 0:
            raise TorchFileError(f"entry {_shown(name)} is compressed (zip method {method}); "
                                 "torch.save stores entries uncompressed and so must a "
                                 "checkpoint")
        if flags & ~(_DATA_DESCRIPTOR_FLAG | _UTF8_FLAG):
            raise TorchFileError(f"entry {_shown(name)} uses zip features torch.save does not "
                                 f"(flags {flags:#06x}: encryption or the like)")
        if csize != size:
            raise TorchFileError(f"entry {_shown(name)} declares {csize:,} stored bytes for "
                                 f"{size:,} bytes of content")
        if _ZIP64 in (size, offset) or disk:
            raise TorchFileError(f"entry {_shown(name)} needs zip64, which a file this small "
                                 "never does")
        entries.append(_Entry(name, raw_name, flags, crc, size, offset))
    if pos != end:
        raise TorchFileError("its zip directory is longer than its entries")
    return entries


def _local_entry(data: bytes, entry: _Entry, limit: int) -> tuple[int, int]:
    """Where the entry's bytes start, and where the entry (with its data descriptor) ends;
    its local header must agree with the central directory."""
    if entry.offset + _LOCAL.size > limit:
        raise TorchFileError(f"entry {_shown(entry.name)} starts past the end of the entries")
    (sig, _, flags, method, _, _, crc, csize, size, name_len,
     extra_len) = _LOCAL.unpack_from(data, entry.offset)
    start = entry.offset + _LOCAL.size + name_len + extra_len
    declared = (crc, csize, size)
    deferred = bool(flags & _DATA_DESCRIPTOR_FLAG) and declared == (0, 0, 0)
    if (sig != 0x04034B50 or method != 0 or flags != entry.flags
            or data[entry.offset + _LOCAL.size: entry.offset + _LOCAL.size + name_len]
            != entry.raw_name
            or (declared != (entry.crc, entry.size, entry.size) and not deferred)):
        raise TorchFileError(f"the local header of entry {_shown(entry.name)} disagrees with "
                             "the zip directory")
    end = start + entry.size
    if end > limit:
        raise TorchFileError(f"entry {_shown(entry.name)} runs past the end of the entries")
    if flags & _DATA_DESCRIPTOR_FLAG:
        if data[end: end + 4] == b"PK\x07\x08":
            end += 4
        if (end + _DESCRIPTOR.size > limit
                or _DESCRIPTOR.unpack_from(data, end) != (entry.crc, entry.size, entry.size)):
            raise TorchFileError(f"the data descriptor of entry {_shown(entry.name)} disagrees "
                                 "with the zip directory")
        end += _DESCRIPTOR.size
    return start, end


def _without_folder(records: dict[str, memoryview]) -> dict[str, memoryview]:
    """Records by name inside the archive's one folder (torch names it after the file)."""
    folders = {name.split("/", 1)[0] for name in records}
    if len(folders) != 1:
        raise TorchFileError("its zip archive has entries in several folders; torch.save "
                             "writes one")
    inner = {name.split("/", 1)[1]: record for name, record in records.items()}
    for name, record in inner.items():
        if _STORAGE_RECORD.fullmatch(name):
            continue
        if name not in _OWN_RECORDS:
            raise TorchFileError(f"its zip archive holds {_shown(name)}, which torch.save "
                                 "does not write")
        if name != "data.pkl" and len(record) > MAX_SMALL_RECORD:
            raise TorchFileError(f"its {name!r} record holds {len(record):,} bytes; torch's "
                                 "hold a few")
    if "data.pkl" not in inner:
        raise TorchFileError("its zip archive holds no data.pkl: not a torch.save file")
    if inner.get("byteorder", b"little") != b"little":
        raise TorchFileError("it was written on a big-endian machine; only little-endian files "
                             "are read")
    return inner


# -- 2. the pickle --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Storage:
    """A storage descriptor from the pickle: what torch would read from ``data/<key>``."""

    dtype: np.dtype
    key: str
    numel: int

    def __repr__(self) -> str:
        return "<storage>"


@dataclass(frozen=True, eq=False)
class TensorRef:
    """A tensor as the pickle describes it, not yet read: ``_rebuild_tensor_v2``'s arguments."""

    storage: Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    hooks: dict

    def __repr__(self) -> str:
        return "<tensor>"


@dataclass(frozen=True)
class _Global:
    """What a name the pickle may use stands for here: never the object torch would import."""

    name: str
    dtype: np.dtype | None = None  # a storage type's


_REBUILD_TENSOR = _Global("torch._utils._rebuild_tensor_v2")
_ORDERED_DICT = _Global("collections.OrderedDict")
_GLOBALS = {("torch._utils", "_rebuild_tensor_v2"): _REBUILD_TENSOR,
            ("collections", "OrderedDict"): _ORDERED_DICT,
            **{("torch", name): _Global(f"torch.{name}", dtype)
               for name, dtype in STORAGE_DTYPES.items()}}


def _key(value: Any) -> str | int:
    """A dict key from the pickle: text or a small integer (no crafted hash collisions)."""
    if isinstance(value, str) or (type(value) is int and abs(value) < 2**31):
        return value
    raise TorchFileError(f"its pickle has a dict key of type {type(value).__name__}; a "
                         "checkpoint's keys are text or small integers")


def _integer(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise TorchFileError(f"its pickle holds an integer of {value.bit_length():,} bits")
    return value


@dataclass
class _Machine:
    """The pickle virtual machine for plain data and torch's tensors, nothing else."""

    stack: list[Any] = field(default_factory=list)
    marks: list[int] = field(default_factory=list)
    memo: dict[int, Any] = field(default_factory=dict)
    tensors: list[TensorRef] = field(default_factory=list)
    storages: list[Storage] = field(default_factory=list)

    def run(self, name: str, arg: Any) -> bool:
        """One opcode, as ``pickle`` defines it; True at STOP."""
        match name:
            case "BININT" | "BININT1" | "BININT2" | "LONG1" | "LONG4":
                self.push(_integer(arg))
            case "BINFLOAT" | "BINUNICODE" | "SHORT_BINUNICODE" | "BINUNICODE8":
                self.push(arg)
            case "NONE" | "NEWTRUE" | "NEWFALSE":
                self.push({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            case "EMPTY_DICT":
                self.push({})
            case "EMPTY_LIST":
                self.push([])
            case "EMPTY_TUPLE":
                self.push(())
            case "TUPLE1" | "TUPLE2" | "TUPLE3":
                items = [self.pop() for _ in range(int(name[-1]))]
                self.push(tuple(reversed(items)))
            case "TUPLE":
                self.push(tuple(self.pop_mark()))
            case "LIST":
                self.push(self.pop_mark())
            case "DICT":
                items = self.pop_mark()
                self.push({})
                self.set_items(items)
            case "APPEND":
                value = self.pop()
                self.target(list).append(value)
            case "APPENDS":
                items = self.pop_mark()
                self.target(list).extend(items)
            case "SETITEM":
                value, key = self.pop(), self.pop()
                self.set_items([key, value])
            case "SETITEMS":
                self.set_items(self.pop_mark())
            case "MARK":
                self.marks.append(len(self.stack))
            case "POP":
                self.pop()
            case "POP_MARK":
                self.pop_mark()
            case "BINPUT" | "LONG_BINPUT":  # a dict: no memo sized by the largest index
                self.memo[arg] = self.stack[-1]
            case "MEMOIZE":
                self.memo[len(self.memo)] = self.stack[-1]
            case "BINGET" | "LONG_BINGET":
                self.push(self.memo[arg])
            case "GLOBAL":
                self.push(self.find_class(*arg.split(" ", 1)))
            case "STACK_GLOBAL":
                name_, module = self.pop(), self.pop()
                self.push(self.find_class(module, name_))
            case "REDUCE":
                args, func = self.pop(), self.pop()
                self.push(self.reduce(func, args))
            case "BINPERSID":
                self.push(self.persistent_load(self.pop()))
            case "PROTO":
                if arg > 5:
                    raise TorchFileError(f"its pickle claims protocol {arg}")
            case "FRAME":
                pass
            case "STOP":
                return True
            case _:
                raise TorchFileError(f"its pickle uses {name}, which tensors and plain data "
                                     "never need (refused; nothing in it was run)")
        return False

    def push(self, value: Any) -> None:
        self.stack.append(value)

    def pop(self) -> Any:
        if self.marks and self.marks[-1] == len(self.stack):
            raise TorchFileError("its pickle is malformed (a mark where a value belongs)")
        return self.stack.pop()

    def pop_mark(self) -> list[Any]:
        at = self.marks.pop()
        items = self.stack[at:]
        del self.stack[at:]
        return items

    def target(self, kind: type) -> Any:
        container = self.stack[-1]
        if type(container) is not kind:
            raise TorchFileError(f"its pickle adds items to a {type(container).__name__}")
        return container

    def set_items(self, items: list[Any]) -> None:
        if len(items) % 2:
            raise TorchFileError("its pickle is malformed (a key without a value)")
        target = self.target(dict)
        for k, v in zip(items[::2], items[1::2], strict=True):
            target[_key(k)] = v

    def find_class(self, module: Any, name: Any) -> _Global:
        found = _GLOBALS.get((module, name))
        if found is None:
            raise TorchFileError(f"it names {_shown(f'{module}.{name}')}, which a checkpoint "
                                 "never holds: only tensors and plain data are read (refused; "
                                 "nothing in it was run)")
        return found

    def persistent_load(self, pid: Any) -> Storage:
        """torch's storage descriptor, recorded, never read here."""
        if not (type(pid) is tuple and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Global) and pid[1].dtype is not None
                and isinstance(pid[2], str) and re.fullmatch(r"[0-9]{1,20}", pid[2])
                and isinstance(pid[3], str) and len(pid[3]) <= 64
                and type(pid[4]) is int and pid[4] >= 0):
            raise TorchFileError("its pickle refers to something other than a tensor's storage")
        storage = Storage(pid[1].dtype, pid[2], pid[4])
        self.storages.append(storage)
        return storage

    def reduce(self, func: Any, args: Any) -> Any:
        """Calls of the two callables a checkpoint uses, made here on recorded values."""
        if type(args) is not tuple:
            raise TorchFileError("its pickle is malformed (arguments that are not a tuple)")
        if func is _ORDERED_DICT and not args:
            return {}
        if func is _REBUILD_TENSOR and len(args) == 6:
            storage, offset, shape, stride, requires_grad, hooks = args
            if (isinstance(storage, Storage) and type(offset) is int
                    and _is_dims(shape) and _is_dims(stride) and len(shape) == len(stride)
                    and type(requires_grad) is bool and type(hooks) is dict):
                tensor = TensorRef(storage, offset, shape, stride, hooks)
                self.tensors.append(tensor)
                return tensor
        what = func.name if isinstance(func, _Global) else type(func).__name__
        raise TorchFileError(f"its pickle calls {what} in a way torch.save never does")


def _is_dims(value: Any) -> bool:
    return (type(value) is tuple and len(value) <= MAX_DIMS
            and all(type(d) is int and 0 <= d < 2**62 for d in value))


def unpickle(pickled: memoryview) -> _Machine:
    """Run ``data.pkl``; the machine holds the one value left (``stack[0]``) and every tensor
    and storage descriptor it made."""
    if len(pickled) > MAX_PICKLE_BYTES:
        raise TorchFileError(f"its data.pkl holds {len(pickled):,} bytes; a checkpoint's "
                             f"holds at most {MAX_PICKLE_BYTES:,}")
    machine, data, stopped = _Machine(), bytes(pickled), -1
    try:
        for count, (opcode, arg, pos) in enumerate(pickletools.genops(data)):
            if count == MAX_PICKLE_OPS:
                raise TorchFileError(f"its pickle runs over {MAX_PICKLE_OPS:,} opcodes; a "
                                     "checkpoint's runs a few hundred")
            if machine.run(opcode.name, arg):
                stopped = pos
    except TorchFileError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, EOFError, OverflowError,
            struct.error) as exc:
        raise TorchFileError(f"its pickle is malformed ({type(exc).__name__})") from None
    if stopped != len(data) - 1 or len(machine.stack) != 1 or machine.marks:
        raise TorchFileError("its pickle is malformed (it does not end with one value)")
    return machine


# -- 3. tensors, checked, then read ------------------------------------------------------------


def _contiguous(shape: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Row-major with no gaps or overlaps, as ``Tensor.is_contiguous`` says (a dimension of
    size 1 may have any stride, as may an empty tensor: nothing is read with them)."""
    if 0 in shape:
        return True
    expected = 1
    for size, step in zip(reversed(shape), reversed(stride), strict=True):
        if size != 1 and step != expected:
            return False
        expected *= size
    return True


class TorchFile:
    """A ``torch.save`` file whose directory and pickle passed steps 1 and 2: ``contents`` is
    the saved value with :class:`TensorRef` in place of each tensor."""

    def __init__(self, data: bytes) -> None:
        self._records = read_archive(data)
        machine = unpickle(self._records["data.pkl"])
        self.contents: Any = machine.stack[0]
        self._made = (machine.tensors, machine.storages)
        self._checked: dict[int, TensorRef] = {}
        self._all_used = False

    def check_tensor(self, value: Any, where: str, dtype: np.dtype,
                     shape: tuple[int, ...]) -> TensorRef:
        """``value`` as a tensor of ``dtype`` and ``shape`` that owns its storage, whose entry
        holds exactly its bytes; :class:`TorchFileError` naming ``where`` otherwise."""
        if not isinstance(value, TensorRef):
            raise TorchFileError(f"{where} is not a tensor")
        if value.storage.dtype != dtype:
            raise TorchFileError(f"{where} is {_dtype_name(value.storage.dtype)}, expected "
                                 f"{_dtype_name(dtype)}")
        if value.shape != shape:
            raise TorchFileError(f"{where} has shape {value.shape}, expected {shape}")
        if value.offset != 0 or not _contiguous(value.shape, value.stride):
            raise TorchFileError(f"{where} is not a whole contiguous storage (offset "
                                 f"{value.offset}, stride {value.stride})")
        numel = math.prod(shape)
        if value.storage.numel != numel:
            raise TorchFileError(f"{where} sits in a storage of {value.storage.numel:,} "
                                 f"values for its {numel:,}")
        record = self._records.get(f"data/{value.storage.key}")
        if record is None or len(record) != numel * dtype.itemsize:
            found = "no" if record is None else f"{len(record):,}"
            raise TorchFileError(f"{where}: its storage entry holds {found} bytes, expected "
                                 f"{numel * dtype.itemsize:,}")
        if value.hooks:
            raise TorchFileError(f"{where} carries backward hooks")
        if id(value) in self._checked:
            raise TorchFileError(f"{where} is the same tensor as another entry")
        self._checked[id(value)] = value
        return value

    def check_all_used(self) -> None:
        """Every tensor the pickle made was checked where it belongs, each storage descriptor
        belongs to one of them and names an entry of its own, and no entry is left over."""
        tensors, storages = self._made
        if len(tensors) != len(self._checked):
            raise TorchFileError(f"it holds {len(tensors)} tensors where {len(self._checked)} "
                                 "belong")
        owners = {id(t.storage) for t in tensors}
        keys = [s.key for s in storages]
        if len(owners) != len(tensors) or len(storages) != len(tensors) \
                or len(set(keys)) != len(keys):
            raise TorchFileError("tensors share storage (each must own its own)")
        stray = {n for n in self._records if _STORAGE_RECORD.fullmatch(n)} \
            - {f"data/{key}" for key in keys}
        if stray:
            more = f" (and {len(stray) - 1} more)" if len(stray) > 1 else ""
            raise TorchFileError(f"its storage entry {_shown(min(stray))}{more} belongs to no "
                                 "tensor")
        self._all_used = True

    def array(self, tensor: TensorRef) -> np.ndarray:
        """A checked tensor's values, copied out of the file."""
        if not self._all_used or self._checked.get(id(tensor)) is not tensor:
            raise RuntimeError("arrays are read only after every tensor was checked")
        record = self._records[f"data/{tensor.storage.key}"]
        flat = np.frombuffer(record, tensor.storage.dtype, tensor.storage.numel)
        return flat.astype(tensor.storage.dtype.newbyteorder("="), copy=True).reshape(
            tensor.shape)


def _dtype_name(dtype: np.dtype) -> str:
    return np.dtype(dtype).newbyteorder("=").name

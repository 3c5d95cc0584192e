"""Checkpoint files that are safe to load from strangers.

A checkpoint is ``torch.save`` of plain containers, numbers, strings and tensors, read back with
``torch.load(weights_only=True)``: its restricted unpickler refuses every other object, so a file
whose pickle would call a function (``__reduce__``) is rejected before anything runs. Size is
capped before parsing; structure, shapes and values are checked by the trainer that loads it.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
from typing import Any, BinaryIO

import numpy as np
import torch

FORMAT = "gan-curve-lab/1"
MAX_BYTES = 16 * 2**20
"""Far above any valid checkpoint (the largest allowed model is ~2 MB), far below harm."""


class CheckpointError(ValueError):
    """The file is not a checkpoint this version can load; nothing was changed."""


def write_checkpoint(state: dict[str, Any], f: str | os.PathLike | BinaryIO) -> None:
    torch.save({"format": FORMAT, **_to_torch(state)}, f)


def read_checkpoint(f: str | os.PathLike | BinaryIO) -> dict[str, Any]:
    """The checkpoint's contents with tensors as numpy arrays; ``CheckpointError`` otherwise."""
    data = _read_capped(f)
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles; we refuse them
            warnings.simplefilter("ignore")
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's text here advises weights_only=False: not for us
        raise CheckpointError("not a GAN Curve Lab checkpoint: it holds something other than "
                              "tensors and plain data (refused; nothing in it was run)") from None
    except Exception as exc:  # torch raises many types for garbage; all mean "not a checkpoint"
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"not a GAN Curve Lab checkpoint: {reason}") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"not a GAN Curve Lab checkpoint (expected format {FORMAT!r})")
    return _to_numpy(obj)


def _read_capped(f: str | os.PathLike | BinaryIO) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    else:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"file is larger than {MAX_BYTES // 2**20} MB: not a checkpoint")
    return data


def _to_torch(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    return value


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value

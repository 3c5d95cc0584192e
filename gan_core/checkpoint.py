"""Checkpoint files that are safe to load from strangers.

A checkpoint is ``torch.save`` of plain containers, numbers, strings and tensors, read back with
``torch.load(weights_only=True)``: its restricted unpickler refuses every other object, so a file
whose pickle would call a function (``__reduce__``) is rejected before anything runs. Size is
capped before parsing; structure, shapes and values are checked against the file's own config.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
from typing import Any, BinaryIO

import numpy as np

from .config import GANConfig
from .engine import NetState
from .pacing import Pacing
from .state import RunState
from .threads import import_torch

FORMAT = "gan-curve-lab/1"
MAX_BYTES = 16 * 2**20
"""Far above any valid checkpoint (the largest allowed model is ~2 MB), far below harm."""
PACING_KEYS = tuple(Pacing.params())
"""Files written before pacing left the config carry its fields there; they are ignored."""


class CheckpointError(ValueError):
    """The file is not a checkpoint this version can load; nothing was changed."""


def write_checkpoint(state: RunState, f: str | os.PathLike | BinaryIO) -> None:
    nets = {name: {"params": net.params, "m": net.m, "v": net.v, "t": net.t}
            for name, net in (("g", state.g), ("d", state.d))}
    import_torch().save({"format": FORMAT, **_to_torch({
        "config": state.config.to_mapping(),
        "step": state.step,
        "nets": nets,
        "rng": state.rng,
        "history": state.history,
    })}, f)


def read_checkpoint(f: str | os.PathLike | BinaryIO) -> RunState:
    """The run a checkpoint holds; ``CheckpointError`` for anything that is not one."""
    data = _read_capped(f)
    torch = import_torch()
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
    saved = _to_numpy(obj)
    try:
        config = saved["config"]
        if not isinstance(config, dict):
            raise ValueError("its config is not a mapping")
        nets = [saved["nets"][name] for name in ("g", "d")]
        return RunState(
            config=GANConfig.from_mapping({k: v for k, v in config.items()
                                           if k not in PACING_KEYS}),
            step=saved["step"],
            g=NetState(nets[0]["params"], nets[0]["m"], nets[0]["v"], nets[0]["t"]),
            d=NetState(nets[1]["params"], nets[1]["m"], nets[1]["v"], nets[1]["t"]),
            rng=saved["rng"],
            history=saved["history"])
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"not a valid checkpoint: {exc}") from None


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
        return import_torch().from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    return value


def _to_numpy(value: Any) -> Any:
    torch = import_torch()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value

"""Run the engine's math on one thread, and import torch only where it is used.

The engine multiplies matrices of a few thousand numbers. Spreading such a product over threads
costs more in synchronisation than it saves, and on a busy machine (a shared server, many
visitors) waiting threads make it far worse. numpy's bundled OpenBLAS has no Python API for its
thread count, only a C function, found and called here as threadpoolctl does.
"""

from __future__ import annotations

import ctypes
import re
import sys
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType

import numpy as np

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def _loaded_openblas() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    np.ones(1) @ np.ones(1)  # make sure numpy's BLAS is loaded
    with open("/proc/self/maps") as maps:
        return sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))


@lru_cache(maxsize=1)
def _openblas_setters() -> tuple[Callable[[ctypes.c_int], object], ...]:
    """Each loaded OpenBLAS's thread-count setter, looked up once per process: the page calls
    ``use_one_thread`` on every run, and reading the process's memory map each time was a
    measurable share of a full run."""
    setters = []
    for path in _loaded_openblas():
        lib = ctypes.CDLL(path)
        setter = next((getattr(lib, name) for name in _SETTERS if hasattr(lib, name)), None)
        if setter is not None:
            setters.append(setter)
    return tuple(setters)


def use_one_thread() -> bool:
    """Limit numpy's OpenBLAS (and torch, once imported) to one thread each; True if OpenBLAS
    was found."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    setters = _openblas_setters()
    for setter in setters:
        setter(ctypes.c_int(1))
    return bool(setters)


def import_torch() -> ModuleType:
    """torch, on one thread. Importing it is most of a cold visit's time and a large share of
    the server's memory (``benchmarks/cold_start.py``), so only saving, loading and the PyTorch
    export import it, when first used: a visit that uses none of them pays nothing."""
    import torch

    torch.set_num_threads(1)
    return torch

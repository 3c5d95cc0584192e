"""Run the engine's math on one thread.

The engine multiplies matrices of a few thousand numbers. Spreading such a product over threads
costs more in synchronisation than it saves, and on a busy machine (a shared server, many
visitors) waiting threads make it far worse: measured here under load, one evaluation took 75 ms
with numpy's default OpenBLAS threads and 4 ms with one. torch has an API for this; numpy's
bundled OpenBLAS has only a C function, found and called here, as threadpoolctl does.
"""

from __future__ import annotations

import ctypes
import re
import sys

import numpy as np
import torch

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def _loaded_openblas() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    np.ones(1) @ np.ones(1)  # make sure numpy's BLAS is loaded
    with open("/proc/self/maps") as maps:
        return sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))


def use_one_thread() -> bool:
    """Limit torch and numpy's OpenBLAS to one thread each; True if OpenBLAS was found."""
    torch.set_num_threads(1)
    found = False
    for path in _loaded_openblas():
        lib = ctypes.CDLL(path)
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(1))
                found = True
                break
    return found

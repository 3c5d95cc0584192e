"""What one attempt costs a fresh Python process: its outcome, its time and the peak RSS it
adds, for the hostile files of ``harness/hostile_csv.py`` and ``harness/hostile_uploads.py``.

A fresh process, so nothing an earlier attempt left behind is counted; the peak is VmHWM after
the attempt minus VmRSS before it, the peak reset first.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

_BEFORE = """
import json, sys, time

def status_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
"""

_AFTER = """
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from the RSS now
base, start = status_kb("VmRSS"), time.perf_counter()
try:
    outcome = attempt()
except Refusal as exc:
    outcome = f"refused: {exc}"
except BaseException as exc:
    outcome = f"crashed: {type(exc).__name__}: {str(exc)[:120]}"
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - start,
                  "peak_mb": (status_kb("VmHWM") - base) / 1024}))
"""


def probe(setup: str) -> str:
    """A program that runs ``setup`` (imports, and what is held before the baseline), then
    calls the ``attempt()`` it defines, which returns the outcome as a sentence or raises
    ``Refusal`` (the exception class it names so), and prints the outcome, the time and the peak
    RSS the attempt added, as JSON."""
    return _BEFORE + setup + _AFTER


def run_probe(program: str, args: list[str], code_root: Path, timeout: float,
              memory_limit: int | None = None, stderr_tail: int = 200) -> dict[str, Any]:
    """Run ``program`` (from :func:`probe`) with ``args`` in a fresh Python whose ``gan_core``
    is ``code_root``'s; its result, or ``killed`` with the end of what it wrote to stderr.
    ``memory_limit`` (bytes of address space) protects the machine from an attempt that would
    take all of it (it is set in the child before Python starts there, so call with it from
    one thread only)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True,
                          text=True, cwd=code_root,
                          env={**os.environ, "PYTHONPATH": str(code_root)},
                          preexec_fn=None if memory_limit is None else limit, timeout=timeout,
                          check=False)
    if done.returncode:
        return {"outcome": f"killed (exit {done.returncode}): "
                           f"{done.stderr.strip()[-stderr_tail:]}",
                "seconds": float("nan"), "peak_mb": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])

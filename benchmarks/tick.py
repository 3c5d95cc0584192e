"""Cost of one live tick at default settings: server time and bytes of what draws it.

A tick trains one tick's steps and records what the live view shows of it: the readouts, the
curves and the fitted-parameter histogram (``lab/frames.py``). In a browser the player shows the
frames of a run one a tick interval; under ``AppTest``, which this uses, each run of the page is
one tick drawn with Streamlit's own elements, whose serialized size is the bytes reported (the
player receives the same datasets as JSON). The panels (history, discriminator map, latent
explorer's chart) are taken about once a second. The page times its tick (``LiveState.last_tick``
in ``lab/live.py``). Run: ``python benchmarks/tick.py``. Budgets: median tick <= 100 ms, data
per tick <= 50 KB. ``--query "target=data"`` measures a run opened from that link's query (your
data's readouts: ``python benchmarks/tick.py --query "target=data&data=curves~0.1~..."``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import use_one_thread

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
TIME_BUDGET_MS, BYTES_BUDGET = 100.0, 50_000


FAST_DATASETS = {"curves", "hist"}
"""A tick's charts carry one of these datasets (the curves, with or without forces
and a ghost, and the fitted-parameter histogram)."""


def part_bytes(at: AppTest) -> tuple[int, int]:
    """Serialized size of what draws a tick (readouts, captions, curves and histogram) and of
    what draws the panels (their charts and data)."""
    fast = panels = 0
    for chart in at.get("vega_lite_chart"):
        if {d.name for d in chart.proto.datasets} & FAST_DATASETS:
            fast += chart.proto.ByteSize()
        else:
            panels += chart.proto.ByteSize()
    return fast + sum(e.proto.ByteSize() for e in [*at.metric, *at.caption]), panels


def measure(ticks: int, warmup: int, toggles: tuple[str, ...] = (),
            query: dict[str, str] | None = None) -> dict[str, float]:
    """Play at default settings (or a link's ``query``) with the ``toggles`` of the controls
    on (e.g. "forces")."""
    use_one_thread()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    for toggle in toggles:
        at.toggle(key=toggle).set_value(True).run()
    at.button(key="play").click().run()
    times, sizes, panel_sizes, steps = [], [], [], []
    for i in range(warmup + ticks):
        at.run()
        if i >= warmup:
            done, seconds = at.session_state["live"].last_tick
            times.append(1000 * seconds)
            steps.append(done)
            fast, panels = part_bytes(at)
            sizes.append(fast)
            panel_sizes.append(panels)
    return {
        "ticks": ticks,
        "steps_per_tick": statistics.median(steps),
        "median_ms": statistics.median(times),
        "p90_ms": sorted(times)[int(0.9 * (len(times) - 1))],
        "median_bytes": statistics.median(sizes),
        "max_bytes": max(sizes),
        "median_panel_bytes": statistics.median(panel_sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--forces", action="store_true", help="with D's forces drawn")
    parser.add_argument("--query", default="", help="a link's query, e.g. target=data")
    args = parser.parse_args()
    query = dict(parse_qsl(args.query))
    r = measure(args.ticks, args.warmup, ("forces",) if args.forces else (), query)
    print(f"one tick at {args.query or 'default settings'}{' with forces' if args.forces else ''} "
          f"({r['steps_per_tick']:.0f} training steps), "
          f"{r['ticks']} ticks after {args.warmup} warm-up ticks")
    print(f"  server time  median {r['median_ms']:6.1f} ms   p90 {r['p90_ms']:6.1f} ms"
          f"   budget {TIME_BUDGET_MS:.0f} ms   "
          f"{'OK' if r['median_ms'] <= TIME_BUDGET_MS else 'OVER'}")
    print(f"  data sent    median {r['median_bytes'] / 1000:6.1f} KB   max "
          f"{r['max_bytes'] / 1000:6.1f} KB   budget {BYTES_BUDGET / 1000:.0f} KB   "
          f"{'OK' if r['median_bytes'] <= BYTES_BUDGET else 'OVER'}")
    print(f"  panels       median {r['median_panel_bytes'] / 1000:6.1f} KB, at most once a second")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()

"""Cost of one live tick at default settings: server time and bytes sent to the browser.

A tick is the page's live fragment: train one chunk, evaluate, rebuild every chart's data and
send the elements. The page times itself (``st.session_state.last_tick``); the bytes are the
serialized protos of the elements a tick sends. Run: ``python benchmarks/tick.py``.
Budgets: median tick <= 100 ms, data per tick <= 50 KB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_core import use_one_thread

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
TIME_BUDGET_MS, BYTES_BUDGET = 100.0, 50_000


def tick_bytes(at: AppTest) -> int:
    """Serialized size of what the live fragment sends: readouts, charts and their data."""
    charts = at.get("vega_lite_chart")
    return sum(e.proto.ByteSize() for e in [*charts, *at.metric, *at.caption])


def measure(ticks: int, warmup: int) -> dict[str, float]:
    use_one_thread()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.button(key="play").click().run()
    times, sizes, steps = [], [], []
    for i in range(warmup + ticks):
        at.run()
        if i >= warmup:
            done, seconds = at.session_state["last_tick"]
            times.append(1000 * seconds)
            steps.append(done)
            sizes.append(tick_bytes(at))
    return {
        "ticks": ticks,
        "steps_per_tick": statistics.median(steps),
        "median_ms": statistics.median(times),
        "p90_ms": sorted(times)[int(0.9 * (len(times) - 1))],
        "median_bytes": statistics.median(sizes),
        "max_bytes": max(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    r = measure(args.ticks, args.warmup)
    print(f"one tick at default settings ({r['steps_per_tick']:.0f} training steps), "
          f"{r['ticks']} ticks after {args.warmup} warm-up ticks")
    print(f"  server time  median {r['median_ms']:6.1f} ms   p90 {r['p90_ms']:6.1f} ms"
          f"   budget {TIME_BUDGET_MS:.0f} ms   "
          f"{'OK' if r['median_ms'] <= TIME_BUDGET_MS else 'OVER'}")
    print(f"  data sent    median {r['median_bytes'] / 1000:6.1f} KB   max "
          f"{r['max_bytes'] / 1000:6.1f} KB   budget {BYTES_BUDGET / 1000:.0f} KB   "
          f"{'OK' if r['median_bytes'] <= BYTES_BUDGET else 'OVER'}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()

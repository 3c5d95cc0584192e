"""Regenerate the two example CSV files of your data in ``docs/data/`` (docs/your-data.md).

``python scripts/make_example_data.py`` writes, from fixed seeds, always the same bytes:

- ``temperatures.csv``: a year of hourly temperatures in °C, one day per row: a header
  ``day,0,1,...,23`` (the hours are the points' x) and a leading ``day`` column, which the
  reader leaves out and says so. The values lie far from the tutorial's range, so the GAN
  trains on a normalised copy and the page shows degrees.
- ``two-shapes.csv``: 600 curves of 16 points on [-1, 1], no header: half bumps, half dips,
  nothing in between. A mixture: a generator that paints only one shape reads a recall near
  one half.
- ``labelled-shapes.csv``: the same kind of curves (a header ``shape,-1,...,1``: the label
  column's name, then the points' x) with a label column: each row starts with its shape,
  ``bump`` or ``dip``, which the reader keeps as the curves' labels. A conditional run learns
  to paint the shape it is asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "data"


def temperatures(rng: np.random.Generator) -> str:
    """365 days of 24 hourly temperatures: a seasonal mean, a daily swing peaking mid-afternoon,
    weather that lasts a few days, and a little noise, to 0.1 °C."""
    days = np.arange(1, 366)
    season = 11.0 - 9.0 * np.cos(2 * np.pi * (days - 20) / 365)
    swing = 4.5 + 2.0 * np.cos(2 * np.pi * (days - 190) / 365)
    weather = np.zeros(len(days))
    for i in range(1, len(days)):
        weather[i] = 0.75 * weather[i - 1] + rng.normal(0, 1.6)
    hours = np.arange(24)
    daily = np.cos(2 * np.pi * (hours - 15) / 24)
    table = (season + weather)[:, None] + swing[:, None] * daily[None, :]
    table += rng.normal(0, 0.3, table.shape)
    lines = ["day," + ",".join(str(h) for h in hours)]
    lines += [f"{d}," + ",".join(f"{v:.1f}" for v in row) for d, row in zip(days, table,
                                                                             strict=True)]
    return "\n".join(lines) + "\n"


def two_shapes(rng: np.random.Generator, n: int = 600, points: int = 16,
               labelled: bool = False) -> str:
    """``n`` curves, half bumps and half dips of random height, width and place; with
    ``labelled``, each row starts with its shape's name."""
    x = np.linspace(-1, 1, points)
    rows = []
    for k in range(n):
        centre, width = rng.uniform(-0.3, 0.3), rng.uniform(0.25, 0.4)
        height = rng.uniform(0.8, 1.3)
        shape = height * np.exp(-((x - centre) ** 2) / (2 * width**2))
        rows.append(1.0 + shape if k % 2 == 0 else 1.0 - shape)
    order = rng.permutation(n)
    label = ["bump,", "dip,"] if labelled else ["", ""]
    header = ["shape," + ",".join(f"{v:.4g}" for v in x)] if labelled else []
    return "\n".join(header + [label[i % 2] + ",".join(f"{v:.3f}" for v in rows[i])
                               for i in order]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = {"temperatures.csv": temperatures(np.random.default_rng(2024)),
             "two-shapes.csv": two_shapes(np.random.default_rng(2025)),
             "labelled-shapes.csv": two_shapes(np.random.default_rng(2026), labelled=True)}
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name} ({len(text.encode()):,} bytes)")


if __name__ == "__main__":
    main()

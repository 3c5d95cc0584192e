"""What one run of each kind costs the server, for one or more versions of the app side by side:
a run of the live view's fragment (the readouts, curves and histogram: a frame for the player,
with the panels; in versions before the player, a tick's redraw), one of the panels fragment
where a version has one, and a full run of the page. (With the player, runs asked for back to
back find no tick due, so they train nothing and record no new frame: they cost what a run
costs apart from its ticks.)

One server per version, each with one protocol-level visitor (``harness.protocol``) playing at
one training step per tick, so that what a refresh costs apart from its training (whose time
each tick budgets) is measured on a page that changes from run to run, as a playing page does.
The visitor's own timers are held; it asks for runs back to back, and the server's CPU time
(``/proc``, the server and its children) is read around each batch. Rounds alternate the
versions, so a busy shared machine slows them alike; CPU time, unlike wall time, hardly depends
on what else runs.

    python -m benchmarks.run_cost [--runs 40] [--rounds 5] [--version NAME=GIT_REV ...]

Without ``--version``, the checkout this runs from; each ``NAME=REV`` adds the app as committed
at ``REV`` (``git archive``, in a temporary directory), the first one the base of the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.protocol import Node, Visitor, caption_with
from harness.server import (
    ARTIFACTS,
    ROOT,
    cpu_seconds,
    free_port,
    process_tree,
    start_server,
    stop_server,
)

PLAYING_QUERY = "seed=1&steps_per_tick=1&tick_seconds=5"


def fragment_ids(visitor: Visitor) -> dict[str, str]:
    """The page's kinds of run, by what they show, so that a redesign of the page does not
    break this: the fragment of the "Step" readout (a metric, or the player's frames) and, in
    versions that draw the panels in a fragment of their own, that of the latent explorer's
    chart; and a full run."""
    def live(n: Node) -> bool:
        return (n.kind == "metric" and n.label == "Step") or getattr(n, "frames", None) is not None

    fast = visitor.fragment_of(live)
    ids = {"live view": fast}
    try:
        panels = visitor.fragment_of(lambda n: n.label == "Latent direction")
    except LookupError:  # outside any fragment: the panels come with the live view's runs
        panels = fast
    if panels != fast:
        ids["panels fragment"] = panels
    ids["full run"] = ""
    return ids


async def measure_batch(visitor: Visitor, pid: int, fragment_id: str,
                        runs: int) -> dict[str, float]:
    """``runs`` runs back to back: server CPU and wall time per run, bytes sent per run."""
    server = process_tree(pid)
    cpu0, wall0, bytes0 = cpu_seconds(server), time.monotonic(), visitor.bytes_received
    for _ in range(runs):
        await visitor.rerun(fragment_id, timeout=60)
    await asyncio.sleep(0.05)  # the last messages' sends, on the server's event loop
    return {"cpu_ms": 1000 * (cpu_seconds(process_tree(pid)) - cpu0) / runs,
            "wall_ms": 1000 * (time.monotonic() - wall0 - 0.05) / runs,
            "kb": (visitor.bytes_received - bytes0) / 1000 / runs}


async def measure(versions: dict[str, Path], runs: int, rounds: int) -> dict[str, Any]:
    servers, visitors, ids = {}, {}, {}
    try:
        for name, root in versions.items():
            port = free_port()
            servers[name] = start_server(port, ARTIFACTS / f"run-cost-{len(servers)}.log",
                                         root=root)
            visitor = Visitor(f"http://127.0.0.1:{port}/", PLAYING_QUERY, name)
            visitor.timers_fire = False
            await visitor.open(timeout=300, ready=lambda v: v.number("Step") is not None)
            await visitor.click("Play", caption_with("Playing ·"), timeout=120)
            visitors[name], ids[name] = visitor, fragment_ids(visitor)
            for fragment_id in ids[name].values():  # warm: imports, caches, first charts
                for _ in range(3):
                    await visitor.rerun(fragment_id, timeout=120)
        results: dict[str, dict[str, list[dict[str, float]]]] = {
            name: {kind: [] for kind in ids[name]} for name in versions}
        names = list(versions)
        for r in range(rounds):
            turn = r % len(names)
            for name in names[turn:] + names[:turn]:
                for kind, fragment_id in ids[name].items():
                    results[name][kind].append(await measure_batch(
                        visitors[name], servers[name].pid, fragment_id, runs))
            print(f"  round {r + 1}: " + "   ".join(
                f"{name}: " + ", ".join(f"{k} {results[name][k][-1]['cpu_ms']:.1f}"
                                        for k in ids[name])
                for name in names) + " (ms CPU)", flush=True)
        errors = {name: v.errors for name, v in visitors.items()}
    finally:
        for visitor in visitors.values():
            await visitor.close()
        for proc in servers.values():
            stop_server(proc)
    return {"runs": runs, "rounds": rounds, "errors": errors, "results": {
        name: {kind: {key: statistics.median(batch[key] for batch in batches)
                      for key in ("cpu_ms", "wall_ms", "kb")}
               for kind, batches in kinds.items()}
        for name, kinds in results.items()}}


def export(rev: str, into: Path) -> Path:
    """The repository's tree at ``rev``, written under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def print_table(r: dict[str, Any]) -> None:
    names = list(r["results"])
    base = r["results"][names[0]]
    print(f"\nserver time per run, median of {r['rounds']} rounds of {r['runs']} runs "
          f"(playing, one training step per tick)")
    print(f"{'version':<24} {'run':<16} {'CPU ms':>7} {'wall ms':>8} {'KB sent':>8} "
          f"{'CPU x ' + names[0]:>16}")
    for name in names:
        for kind, v in r["results"][name].items():
            ratio = f"{v['cpu_ms'] / base[kind]['cpu_ms']:16.2f}" if kind in base else ""
            print(f"{name:<24} {kind:<16} {v['cpu_ms']:7.1f} {v['wall_ms']:8.1f} "
                  f"{v['kb']:8.1f} {ratio}")
    for name, errors in r["errors"].items():
        for error in errors[:5]:
            print(f"  error ({name}): {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each kind per batch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--version", action="append", default=[], metavar="NAME=REV",
                        help="the app at this git revision (repeat; default: this checkout)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.rounds < 1:
        parser.error("at least one run and one round")
    with tempfile.TemporaryDirectory(prefix="run-cost-") as tmp:
        versions: dict[str, Path] = {}
        for spec in args.version:
            name, sep, rev = spec.partition("=")
            if not sep or not name or not rev:
                parser.error(f"--version takes NAME=REV, not {spec!r}")
            versions[name] = export(rev, Path(tmp) / f"v{len(versions)}")
        if not versions:
            versions["this checkout"] = ROOT
        r = asyncio.run(measure(versions, args.runs, args.rounds))
    print_table(r)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 1 if any(r["errors"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

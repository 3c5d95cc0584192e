"""Serve the lab from several replicas behind HAProxy, sticky by cookie: one command.

    python scripts/replicas.py [--replicas 2] [--bind 127.0.0.1:8500]

Starts ``--replicas`` Streamlit servers of this checkout, each on a loopback port of its own,
and HAProxy on ``--bind`` in front of them (``harness/balancer.py`` writes its configuration to
``artifacts/replicas-haproxy.cfg``; the servers' logs go beside it). Visitors open the
balancer's address; each tab sticks to the replica that served its first request. Runs until
interrupted (Ctrl-C), then stops them all. Needs HAProxy (Debian: ``apt-get install haproxy``);
``docs/deploy.md`` says when a class needs more than one.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.balancer import replicas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="app servers (one per core)")
    parser.add_argument("--bind", default="127.0.0.1:8500",
                        help="HAProxy's address, host:port (0.0.0.0:8500 to serve others)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with replicas(args.replicas, bind=args.bind) as running:
        ports = ", ".join(str(p) for p in running.ports)
        print(f"serving {running.url} : HAProxy in front of {args.replicas} replicas on "
              f"127.0.0.1 ports {ports}; Ctrl-C stops them", flush=True)
        try:
            while not stop.wait(1.0):
                for proc in (running.balancer, *running.servers):
                    if proc.poll() is not None:
                        print(f"process {proc.pid} exited with {proc.returncode}: stopping",
                              file=sys.stderr)
                        return 1
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Several replicas of the app behind HAProxy, with sticky sessions by cookie.

A Streamlit session lives in the process that created it, so every request of a tab (the page,
its websocket, its uploads) must reach that one replica. HAProxy inserts a cookie naming the
replica into the first response a tab gets (``LAB_REPLICA=r1``) and routes every later request
carrying it, the websocket's upgrade included, to that replica; a new tab goes to the replica
with the fewest open connections (``balance leastconn``: a tab holds one websocket). A replica
that stops answering its health check (``/_stcore/health``) gets no new tabs.

``scripts/replicas.py`` starts this for real use; ``tests/test_replicas.py`` uses
:func:`replicas`.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .server import ARTIFACTS, ROOT, free_port, start_server, stop_server

COOKIE = "LAB_REPLICA"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Straight to the loopback balancer, never through a proxy from the environment."""


def haproxy_config(bind: str, replica_ports: list[int]) -> str:
    """HAProxy's configuration: ``bind`` (``host:port``) in front of replicas on loopback."""
    servers = "\n".join(f"    server r{i} 127.0.0.1:{port} check cookie r{i}"
                        for i, port in enumerate(replica_ports, start=1))
    return f"""\
global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    # A tab's websocket is open as long as the tab: keep idle tunnels for an hour.
    timeout tunnel 1h

frontend lab
    bind {bind}
    default_backend replicas

backend replicas
    balance leastconn
    cookie {COOKIE} insert indirect nocache
    option httpchk GET /_stcore/health
{servers}
"""


@dataclass
class Replicas:
    """A running balancer and its replicas."""

    url: str
    """The balancer's address: what visitors open."""
    balancer: subprocess.Popen[bytes]
    servers: list[subprocess.Popen[bytes]]
    ports: list[int]

    @property
    def pids(self) -> list[int]:
        return [server.pid for server in self.servers]


def find_haproxy() -> str:
    """HAProxy's executable; ``RuntimeError`` naming the package if it is missing."""
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        raise RuntimeError("haproxy is not installed (Debian: apt-get install haproxy)")
    return found


@contextlib.contextmanager
def replicas(count: int = 2, bind: str | None = None, root: Path = ROOT,
             logs: Path = ARTIFACTS, name: str = "replicas") -> Iterator[Replicas]:
    """``count`` app servers, each a ``streamlit run`` of ``root`` on a loopback port of its
    own, behind HAProxy on ``bind`` (default: a free loopback port); stopped on exit. Returns
    once the balancer answers and has seen every replica healthy."""
    haproxy = find_haproxy()
    if count < 1:
        raise ValueError(f"count: {count!r} is not a number of replicas")
    if bind is None:
        bind = f"127.0.0.1:{free_port()}"
    servers: list[subprocess.Popen[bytes]] = []
    balancer: subprocess.Popen[bytes] | None = None
    try:
        ports = []
        for i in range(1, count + 1):
            port = free_port()
            servers.append(start_server(port, logs / f"{name}-r{i}.log", root=root))
            ports.append(port)
        config = logs / f"{name}-haproxy.cfg"
        config.write_text(haproxy_config(bind, ports))
        with (logs / f"{name}-haproxy.log").open("wb") as log:
            balancer = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        host, _, port = bind.rpartition(":")
        url = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}/"
        _wait_healthy(url, balancer, count)
        yield Replicas(url, balancer, servers, ports)
    finally:
        if balancer is not None:
            balancer.terminate()
            try:
                balancer.wait(10)
            except subprocess.TimeoutExpired:
                balancer.kill()
        for server in servers:
            stop_server(server)


def _wait_healthy(url: str, balancer: subprocess.Popen[bytes], count: int,
                  timeout: float = 60.0) -> None:
    """Until the balancer has routed health checks to ``count`` different replicas (each
    request without a cookie goes to the least loaded)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < count:
        if balancer.poll() is not None:
            raise RuntimeError(f"haproxy exited with {balancer.returncode}")
        with contextlib.suppress(OSError), \
                _OPENER.open(url + "_stcore/health", timeout=2) as response:
            for cookie in response.headers.get_all("Set-Cookie") or []:
                if response.status == 200 and cookie.startswith(f"{COOKIE}="):
                    seen.add(cookie.split(";")[0])
        time.sleep(0.2)
    if len(seen) < count:
        raise RuntimeError(f"the balancer at {url} reached {len(seen)} of {count} replicas")


def replica_of(cookies: dict[str, str]) -> str | None:
    """Which replica a tab's cookies stick it to (``r1``, ``r2``, ...), if any."""
    return cookies.get(COOKIE)

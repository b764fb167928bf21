"""A central store that fails over, on loopback, for tests and benchmarks.

A thin handle on ``scripts/failover-cluster.sh``: a pg_auto_failover monitor and two
(or three) PostgreSQL 15 nodes with TimescaleDB in a throwaway directory, and the
multi-host connection string that Clearwell's processes are given, which names every
node and asks for the one that takes writes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from clearwell.migrate import migrate
from tests.support.pg_cluster import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "failover-cluster.sh"


def available() -> str | None:
    """Why the cluster cannot be made on this machine, or None when it can."""
    if shutil.which("pg_autoctl") is None:
        return "pg_autoctl is not installed (scripts/setup-test-tools.sh installs it)"
    return None


def multi_host_url(ports: list[int], dbname: str, attrs: str = "read-write") -> str:
    """Every node of the cluster in one URL; libpq connects to the first that has ``attrs``."""
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    return f"postgresql://postgres@{hosts}/{dbname}?target_session_attrs={attrs}"


def _free_block(n: int) -> int:
    """A first port whose n - 1 successors are free too (the script numbers from it)."""
    for _ in range(50):
        base = free_port()
        if base + n < 65535 and all(_is_free(base + i) for i in range(1, n)):
            return base
    raise RuntimeError(f"no {n} free loopback ports in a row")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class FailoverCluster:
    """``with FailoverCluster(nodes=2) as c:`` the cluster started, stopped and removed after."""

    def __init__(self, nodes: int = 2) -> None:
        self.nodes = nodes
        self.root = Path(tempfile.mkdtemp(prefix="clearwell-failover-"))
        self.base = _free_block(nodes + 1)
        self.ports = [self.base + i for i in range(1, nodes + 1)]

    def _script(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"failover-cluster.sh {args[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self) -> None:
        self._script("start", str(self.root), str(self.base), str(self.nodes))

    def url(self, dbname: str, attrs: str = "read-write") -> str:
        return multi_host_url(self.ports, dbname, attrs)

    def create_database(self, dbname: str) -> str:
        """A migrated database on the primary (so on every node); its multi-host URL."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = self.url(dbname)
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        return url

    def primary(self) -> int | None:
        """The port of the node the monitor holds to be primary now, if any."""
        out = self._script("primary", str(self.root), timeout=30)
        return int(out.splitlines()[0]) if out else None

    def kill(self, port: int) -> None:
        """The node's keeper and Postgres killed at once: a server lost, not stopped."""
        self._script("kill", str(self.root), str(port), timeout=30)

    def state(self) -> str:
        return self._script("state", str(self.root), timeout=30)

    def wait_writable(self, timeout: float = 60.0) -> tuple[int, float]:
        """The port of the node that takes writes, once one does, and when (monotonic)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=1) as conn:
                    port = conn.info.port
                return port, time.monotonic()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self._script("stop", str(self.root), timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> FailoverCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

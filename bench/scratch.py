"""A database a benchmark may fill and throw away.

On the server ``CLEARWELL_DATABASE_URL`` names, a scratch database (its role needs
CREATEDB) dropped afterwards unless kept; without one, a throwaway local cluster (fsync
off), as the tests use. Yields the database's URL and a line saying where it is, for the
report.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# How long a plain DROP DATABASE is retried while a session of the database ends.
DROP_TRIES, DROP_PAUSE_S = 20, 0.5


@contextlib.contextmanager
def scratch_database(label: str = "bench", keep: bool = False) -> Iterator[tuple[str, str]]:
    """``keep`` leaves the database on ``CLEARWELL_DATABASE_URL``'s server afterwards (a
    throwaway cluster goes with everything in it)."""
    base = os.environ.get("CLEARWELL_DATABASE_URL")
    if base:
        name = f"clearwell_bench_{label}_{os.getpid()}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # A URL, not a key=value conninfo: the web server the benches start reads a URL.
        url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
        try:
            yield url, f"CLEARWELL_DATABASE_URL's server, scratch database {name}"
        finally:
            if not keep:
                drop_database(base, name)
        return
    from tests.support.pg_cluster import LocalCluster

    with LocalCluster() as cluster:
        with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        yield cluster.url("bench"), "throwaway local cluster (fsync off)"


def drop_database(admin_url: str, name: str) -> None:
    """Drops ``name`` as a role that may create databases but not end other roles' sessions.

    ``DROP DATABASE … WITH (FORCE)`` refuses such a role while an autovacuum worker is in
    the database (a worker has no role: ending it needs ``pg_signal_backend``), which a
    freshly filled database often has. So: no new connections, the role's own sessions
    ended (a web server a benchmark left), then a plain DROP, which stops autovacuum
    workers itself and waits a few seconds for other sessions to end.
    """
    ident = sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            return
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()",
            (name,),
        )
        for attempt in range(DROP_TRIES):
            try:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))
                return
            except psycopg.errors.ObjectInUse:
                if attempt == DROP_TRIES - 1:
                    raise
                time.sleep(DROP_PAUSE_S)

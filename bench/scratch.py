"""A database a benchmark may fill and throw away.

On the server ``CLEARWELL_OWNER_DATABASE_URL`` (else ``CLEARWELL_DATABASE_URL``) names, a
scratch database (its role needs CREATEDB, which the owner role has and a new runtime role
has not) dropped afterwards unless kept; without one, a throwaway local cluster (fsync
off), as the tests use. Yields the database's URL and a line saying where it is, for the
report.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.support.database import drop_database


@contextlib.contextmanager
def scratch_database(label: str = "bench", keep: bool = False) -> Iterator[tuple[str, str]]:
    """``keep`` leaves the database on ``CLEARWELL_DATABASE_URL``'s server afterwards (a
    throwaway cluster goes with everything in it)."""
    base = os.environ.get("CLEARWELL_OWNER_DATABASE_URL") or os.environ.get(
        "CLEARWELL_DATABASE_URL"
    )
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

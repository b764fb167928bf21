"""Database access: connections with errors a person can act on, and the app's pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from clearwell.errors import DatabaseError

CONNECT_TIMEOUT_S = 5


def describe_target(dsn: str) -> str:
    """``user@host:port/db`` of a connection string, never its password; every node
    (``user@h1:p1,h2:p2/db``) of one that names several, as a failover cluster's does."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if info.get("service") and not info.get("host"):
        return f"service {info['service']}"
    hosts = str(info.get("host") or info.get("hostaddr") or "localhost").split(",")
    ports = str(info.get("port") or "5432").split(",")
    # libpq: one port for every host, or one port each.
    if len(ports) == 1:
        ports = ports * len(hosts)
    nodes = ",".join(f"{h or 'localhost'}:{p or 5432}" for h, p in zip(hosts, ports, strict=False))
    return f"{info.get('user', '')}@{nodes}/{info.get('dbname', '')}"


def explain_connect_error(dsn: str, exc: BaseException) -> DatabaseError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseError(f"cannot connect to the database {describe_target(dsn)}: {first}")


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    try:
        return psycopg.connect(dsn, **kwargs)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise explain_connect_error(dsn, exc) from None


@contextmanager
def connection(dsn: str, **kwargs: Any) -> Iterator[psycopg.Connection[Any]]:
    conn = connect(dsn, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def make_pool(dsn: str, max_size: int = 10) -> AsyncConnectionPool:
    """The web app's pool; opened by the app's lifespan, not here.

    A connection is checked as it is handed out: after a failover the pool's
    connections to the lost primary are broken, and each would fail a request; checked,
    they are replaced by new ones, which the URL's ``target_session_attrs`` sends to
    the new primary.
    """
    return AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max_size,
        open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
        name="clearwell",
    )


def timescaledb_info(conn: psycopg.Connection[Any]) -> dict[str, str | None]:
    row = conn.execute(
        "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),"
        " current_setting('timescaledb.license', true), current_setting('server_version')"
    ).fetchone()
    assert row is not None
    return {"timescaledb": row[0], "license": row[1], "postgresql": row[2]}

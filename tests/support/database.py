"""A TimescaleDB server for the test session, and fresh databases cloned from a template.

Where the server comes from, in order: ``CLEARWELL_TEST_DATABASE_URL`` (a role
that may create databases), testcontainers with the ``timescale/timescaledb``
image when a Docker engine answers, else a throwaway local cluster.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from clearwell.migrate import migrate
from tests.support.pg_cluster import LocalCluster

TIMESCALE_IMAGE = "timescale/timescaledb:2.19.3-pg15"


def with_dbname(url: str, dbname: str) -> str:
    """The same ``postgresql://`` URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class DatabaseServer:
    """Creates migrated databases quickly by cloning one migrated template."""

    def __init__(self, admin_url: str, origin: str) -> None:
        self.admin_url = admin_url
        self.origin = origin
        self._tag = uuid.uuid4().hex[:8]
        self._counter = itertools.count()
        self.template = f"cw_tmpl_{self._tag}"
        self._created: list[str] = []

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def prepare_template(self) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        with psycopg.connect(with_dbname(self.admin_url, self.template), autocommit=True) as conn:
            migrate(conn)
        # TimescaleDB's scheduler keeps a background worker connected to each
        # database with the extension, and CREATE DATABASE … TEMPLATE needs the
        # template to itself: refusing connections keeps the workers out.
        ident = sql.Identifier(self.template)
        with self._admin() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true").format(
                    ident
                )
            )
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.template,),
            )

    def make_database(self, migrated: bool = True) -> str:
        name = f"cw_t_{self._tag}_{next(self._counter)}"
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(self.template if migrated else "template1")
        )
        with self._admin() as conn:
            for attempt in range(50):
                try:
                    conn.execute(stmt)
                    break
                except psycopg.errors.ObjectInUse:
                    # A worker that connected just before the template was closed.
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
        self._created.append(name)
        return with_dbname(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = str(conninfo_to_dict(url)["dbname"])
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def drop_all(self) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(
                    sql.Identifier(self.template)
                )
            )
            for name in [*self._created, self.template]:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextlib.contextmanager
def database_server() -> Iterator[DatabaseServer]:
    url = os.environ.get("CLEARWELL_TEST_DATABASE_URL")
    if url:
        server = DatabaseServer(url, "CLEARWELL_TEST_DATABASE_URL")
        server.prepare_template()
        try:
            yield server
        finally:
            server.drop_all()
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(TIMESCALE_IMAGE, driver=None) as pg:
            server = DatabaseServer(pg.get_connection_url(), "testcontainers")
            server.prepare_template()
            yield server
        return
    with LocalCluster() as cluster:
        server = DatabaseServer(cluster.admin_url, "local cluster")
        server.prepare_template()
        yield server

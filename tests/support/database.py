"""A TimescaleDB server for the test session, and fresh databases cloned from a template.

Where the server comes from, in order: ``CLEARWELL_TEST_DATABASE_URL`` (a role
that may create databases and roles), testcontainers with the ``timescale/timescaledb``
image when a Docker engine answers, else a throwaway local cluster.

As in an install, two roles of the session's own: an owner that owns each database and
runs the migrations, and a runtime role with the grants ``clearwell db migrate`` gives
the app. A test's database URL names the runtime role, so that the tests prove the
grants suffice; a test that must do what the app never does (tamper, set up a working
table the app only reads) asks for the owner's URL of the same database.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from clearwell.migrate import grant_runtime, migrate
from tests.support.pg_cluster import LocalCluster

TIMESCALE_IMAGE = "timescale/timescaledb:2.19.3-pg15"
OWNER_PREFIX, RUNTIME_PREFIX = "cw_owner_", "cw_app_"
# How long a plain DROP DATABASE is retried while a session of the database ends.
DROP_TRIES, DROP_PAUSE_S = 20, 0.5


def with_dbname(url: str, dbname: str) -> str:
    """The same ``postgresql://`` URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def with_user(url: str, user: str, password: str) -> str:
    """The same ``postgresql://`` URL as another role."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def owner_of(url: str) -> str:
    """The owner's URL of a test database given by its runtime role's URL (the session's
    two roles share their tag and password), for a test that sets up what the app only
    reads or tampers."""
    parts = urlsplit(url)
    user = parts.username or ""
    if not user.startswith(RUNTIME_PREFIX):
        raise ValueError(f"not a test database's runtime URL: {user}")
    return with_user(url, OWNER_PREFIX + user[len(RUNTIME_PREFIX) :], parts.password or "")


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
        self.owner = f"{OWNER_PREFIX}{self._tag}"
        self.runtime = f"{RUNTIME_PREFIX}{self._tag}"
        self._password = secrets.token_hex(12)
        self._roles_made = False

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def owner_url(self, url: str) -> str:
        """The owner's URL of the database ``url`` names."""
        return with_user(url, self.owner, self._password)

    def runtime_url(self, url: str) -> str:
        """The runtime role's URL of the database ``url`` names."""
        return with_user(url, self.runtime, self._password)

    def superuser_url(self, url: str) -> str:
        """The server's own role on the database ``url`` names (a superuser on a local
        cluster or a container; CLEARWELL_TEST_DATABASE_URL's role need not be one)."""
        return with_dbname(self.admin_url, str(conninfo_to_dict(url)["dbname"]))

    def _make_roles(self, conn: psycopg.Connection) -> None:
        for role in (self.owner, self.runtime):
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(self._password)
                )
            )
        self._roles_made = True
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not superuser.fetchone()[0]:  # type: ignore[index]
            # CREATE DATABASE … OWNER and ending the roles' sessions need membership.
            conn.execute(
                sql.SQL("GRANT {}, {} TO current_user").format(
                    sql.Identifier(self.owner), sql.Identifier(self.runtime)
                )
            )

    def _create_database(self, name: str, template: str) -> None:
        stmt = sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(self.owner), sql.Identifier(template)
        )
        with self._admin() as conn:
            for attempt in range(50):
                try:
                    conn.execute(stmt)
                    break
                except psycopg.errors.ObjectInUse:
                    # A session of the template still ending (the migration's).
                    if attempt == 49:
                        raise
                    time.sleep(0.1)

    def _add_extension(self, name: str) -> None:
        # As the server's role: TimescaleDB is not a trusted extension, and the owner is
        # not a superuser (setup-timescaledb.sh puts it in template1 the same way).
        with psycopg.connect(with_dbname(self.admin_url, name), autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")

    def prepare_template(self) -> None:
        # Marked a template from the start: TimescaleDB's scheduler refuses to run in a
        # template database, so none connects when the extension is created, and CREATE
        # DATABASE … TEMPLATE needs the template to itself. Ending a scheduler would need
        # a superuser, which CLEARWELL_TEST_DATABASE_URL's role need not be.
        ident = sql.Identifier(self.template)
        with self._admin() as conn:
            self._make_roles(conn)
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} IS_TEMPLATE true").format(
                    ident, sql.Identifier(self.owner)
                )
            )
        self._add_extension(self.template)
        owner_url = self.owner_url(with_dbname(self.admin_url, self.template))
        with psycopg.connect(owner_url, autocommit=True) as conn:
            migrate(conn)
            grant_runtime(conn, self.runtime)
        with self._admin() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident))

    def make_database(self, migrated: bool = True) -> str:
        """A fresh database owned by the owner; its URL as the runtime role. Unmigrated
        (``migrated=False``), it has the extension and nothing else: migrate it as the
        owner (``owner_url``)."""
        name = f"cw_t_{self._tag}_{next(self._counter)}"
        self._create_database(name, self.template if migrated else "template1")
        self._created.append(name)
        if not migrated:
            self._add_extension(name)
        return self.runtime_url(with_dbname(self.admin_url, name))

    def drop_database(self, url: str) -> None:
        drop_database(
            self.admin_url, str(conninfo_to_dict(url)["dbname"]), (self.owner, self.runtime)
        )

    def drop_all(self) -> None:
        with self._admin() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.template,)
            ).fetchone()
            if exists:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(
                        sql.Identifier(self.template)
                    )
                )
        for name in [*self._created, self.template]:
            drop_database(self.admin_url, name, (self.owner, self.runtime))
        if self._roles_made:
            with self._admin() as conn:
                for role in (self.runtime, self.owner):
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def drop_database(admin_url: str, name: str, roles: tuple[str, ...] = ()) -> None:
    """Drops ``name`` as a role that may create databases but not end other roles' sessions.

    ``DROP DATABASE … WITH (FORCE)`` refuses such a role while an autovacuum worker is in
    the database (a worker has no role: ending it needs ``pg_signal_backend``), which a
    freshly filled database often has. So: no new connections, the sessions of the role
    and of ``roles`` ended (a server a test or benchmark left), then a plain DROP, which
    stops autovacuum workers and TimescaleDB's scheduler itself and waits a few seconds
    for other sessions to end.
    """
    ident = sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            return
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(ident))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
            " AND (usename = current_user OR usename = ANY(%s)) AND pid <> pg_backend_pid()",
            (name, list(roles)),
        )
        for attempt in range(DROP_TRIES):
            try:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))
                return
            except psycopg.errors.ObjectInUse:
                if attempt == DROP_TRIES - 1:
                    raise
                time.sleep(DROP_PAUSE_S)


@contextlib.contextmanager
def database_server() -> Iterator[DatabaseServer]:
    url = os.environ.get("CLEARWELL_TEST_DATABASE_URL")
    if url:
        server = DatabaseServer(url, "CLEARWELL_TEST_DATABASE_URL")
        try:
            server.prepare_template()
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

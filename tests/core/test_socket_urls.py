"""Connection strings as PostgreSQL writes them, against the tests' server over its
Unix socket: a URI with ?host=, a key=value string, a host list whose first host is
down, and a service file."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from clearwell.db import describe_target
from tests.core.test_cli import run_cli
from tests.support.pg_cluster import free_port


@pytest.fixture
def socket_target(db_server, db_url: str) -> tuple[str, str, str, str]:
    """(socket directory, port, user, database) of the test database, or a skip where
    the server's socket is not on this machine (a container)."""
    with psycopg.connect(db_url) as conn:
        port = str(conn.execute("SHOW port").fetchone()[0])
        user, dbname = conn.execute("SELECT current_user, current_database()").fetchone()
    # Where the sockets are is the server's own setting, which the runtime role may not read.
    with psycopg.connect(db_server.superuser_url(db_url)) as conn:
        try:
            dirs = str(conn.execute("SHOW unix_socket_directories").fetchone()[0])
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("the tests' server role may not read unix_socket_directories")
    for directory in (d.strip() for d in dirs.split(",")):
        if directory and (Path(directory) / f".s.PGSQL.{port}").exists():
            return directory, port, user, dbname
    pytest.skip(f"the tests' server has no Unix socket on this machine ({dirs!r})")


def _status(url: str, **env: str) -> str:
    result = run_cli("db", "status", env={"CLEARWELL_DATABASE_URL": url, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_uri_with_socket_host_connects(socket_target):
    directory, port, user, dbname = socket_target
    out = _status(f"postgresql://{user}@/{dbname}?host={directory}&port={port}")
    assert f"database    {user}@{directory}:{port}/{dbname}" in out
    assert "0 pending" in out


def test_key_value_string_connects(socket_target):
    directory, port, user, dbname = socket_target
    out = _status(f"host={directory} port={port} user={user} dbname={dbname}")
    assert "0 pending" in out


def test_host_list_tries_the_next_host(socket_target):
    directory, port, user, dbname = socket_target
    down = free_port()
    out = _status(f"host=127.0.0.1,{directory} port={down},{port} user={user} dbname={dbname}")
    assert "0 pending" in out


def test_service_file_connects(socket_target, tmp_path):
    directory, port, user, dbname = socket_target
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[plant]\nhost={directory}\nport={port}\nuser={user}\ndbname={dbname}\n")
    out = _status("service=plant", PGSERVICEFILE=str(services))
    assert "database    service plant" in out
    assert "0 pending" in out


def test_socket_url_is_described_without_its_password():
    url = "postgresql://clearwell:secret@/clearwell?host=/var/run/postgresql"
    assert conninfo_to_dict(url)["host"] == "/var/run/postgresql"
    assert describe_target(url) == "clearwell@/var/run/postgresql:5432/clearwell"

import os
import subprocess
import sys

import psycopg

from tests.support.pg_cluster import free_port


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_db_migrate_applies_as_the_owner_then_reports_nothing_pending(db_server):
    url = db_server.make_database(migrated=False)
    env = {"CLEARWELL_DATABASE_URL": url, "CLEARWELL_OWNER_DATABASE_URL": db_server.owner_url(url)}
    first = run_cli("db", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "applied 0003_readings.sql" in first.stdout
    assert f"{db_server.owner}@" in first.stdout
    second = run_cli("db", "migrate", env=env)
    assert second.returncode == 0
    assert "(0 applied)" in second.stdout
    # The runtime role was granted what it may do, and owns nothing.
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 3
        assert conn.execute(
            "SELECT has_table_privilege('entries', 'INSERT'),"
            " has_table_privilege('entries', 'UPDATE'),"
            " (SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole)"
        ).fetchone() == (True, False, 0)
    db_server.drop_database(url)


def test_db_migrate_as_the_runtime_role_is_refused(db_server):
    url = db_server.make_database(migrated=False)
    result = run_cli("db", "migrate", env={"CLEARWELL_DATABASE_URL": url})
    assert result.returncode == 1
    assert "permission denied" in result.stderr
    db_server.drop_database(url)


def test_database_down_is_one_line_naming_the_target():
    port = free_port()
    url = f"postgresql://clearwell:secret@127.0.0.1:{port}/plant"
    result = run_cli("db", "migrate", env={"CLEARWELL_DATABASE_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"clearwell: error: cannot connect to the database clearwell@127.0.0.1:{port}/plant"
    )
    assert "secret" not in result.stderr


def test_missing_database_url_is_one_line():
    result = run_cli("db", "migrate", env={})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "clearwell: error: CLEARWELL_DATABASE_URL is not set "
        "(PostgreSQL/TimescaleDB connection URL, postgresql://user:pass@host:port/db)"
    )


def test_db_status_reports_timescaledb(db_url):
    result = run_cli("db", "status", env={"CLEARWELL_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    assert "timescaledb 2." in result.stdout
    assert "0 pending" in result.stdout

from pathlib import Path

import psycopg
import pytest

from clearwell.errors import MigrationError
from clearwell.migrate import Migration, applied, discover, migrate


def test_readings_is_a_hypertable_with_one_narrow_unique_index(db_url):
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'readings'"
        ).fetchone()
        assert row == ("readings",)
        # The hypertable's only index (none on time alone: chunks are found by their range).
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'readings'"
        ).fetchall()
        assert [d for (d,) in indexes] == [
            "CREATE UNIQUE INDEX readings_tag_time ON public.readings"
            ' USING btree (tag_id, "time" DESC)'
        ]
        (interval,) = conn.execute(
            "SELECT time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_name = 'readings'"
        ).fetchone()
        assert interval.days == 1


def test_migrate_is_idempotent(db_owner_url):
    with psycopg.connect(db_owner_url, autocommit=True) as conn:
        before = applied(conn)
        assert set(before) == {m.version for m in discover()}
        assert migrate(conn) == []
        assert applied(conn) == before


def test_duplicate_reading_is_absorbed_by_on_conflict(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO sites (code, name, timezone) VALUES ('a', 'A', 'UTC')")
        row = ("2026-01-01T00:00:00Z", 1, 2.5)
        for _ in range(2):
            conn.execute(
                "INSERT INTO readings (time, tag_id, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (tag_id, time) DO NOTHING",
                row,
            )
        assert conn.execute("SELECT count(*) FROM readings").fetchone() == (1,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO readings (time, tag_id, value) VALUES (%s, %s, %s)", row)


def _m(version: str, sql: str) -> Migration:
    return Migration(version, f"test_{version}", Path(f"{version}_test.sql"), sql)


def test_failing_migration_leaves_nothing_behind(db_server):
    url = db_server.owner_url(db_server.make_database(migrated=False))
    good = _m("0001", "CREATE TABLE a (x int);")
    bad = _m("0002", "CREATE TABLE b (x int);\nINSERT INTO b VALUES (1);\nSELECT nope FROM b;")
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(MigrationError) as err:
            migrate(conn, [good, bad])
        message = str(err.value)
        assert message.startswith("0002_test.sql at line 3:")
        assert "rolled back" in message
        assert set(applied(conn)) == {"0001"}
        # The failed migration's first statement is gone with it.
        assert conn.execute("SELECT to_regclass('b')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('a')").fetchone() is not None
        # Fixing the migration and running again applies only what is pending.
        fixed = _m("0002", "CREATE TABLE b (x int);")
        assert migrate(conn, [good, fixed]) == ["0002_test.sql"]
    db_server.drop_database(url)


def test_an_applied_migration_that_changed_is_refused(db_server):
    url = db_server.owner_url(db_server.make_database(migrated=False))
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, [_m("0001", "CREATE TABLE a (x int);")])
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate(conn, [_m("0001", "CREATE TABLE a (x bigint);")])
    db_server.drop_database(url)


def test_migration_numbers_are_unique_and_ranges_respected():
    ranges = {
        "clearwell": (1, 99),
        "ingest": (100, 199),
        "logbook": (200, 299),
        "compliance": (300, 399),
        "dashboards": (400, 499),
    }
    for m in discover():
        # The top-level package: the dashboards' migrations are in dashboards/trends/.
        package = m.path.resolve().relative_to(Path(__file__).resolve().parents[2]).parts[0]
        low, high = ranges[package]
        assert low <= int(m.version) <= high, f"{m.path} is outside {package}'s range"

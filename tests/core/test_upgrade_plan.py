"""What ``clearwell db status`` says an upgrade will do: the plan (pure) and the command
on a database a few migrations behind."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from clearwell.migrate import Migration, discover, migrate, plan, summary
from tests.core.test_cli import run_cli
from tests.support.database import owner_of


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "-- Shifts per facility. Closing is appended.\nCREATE TABLE x ();",
            "Shifts per facility.",
        ),
        (
            "-- A tag is one quantity (see\n-- sitefile/ranges.py) of a site.\n--\n-- More.\n",
            "A tag is one quantity (see sitefile/ranges.py) of a site.",
        ),
        ("--\n-- After a blank comment line.\nSELECT 1;", "After a blank comment line."),
        ("-- No full stop\nSELECT 1;", "No full stop"),
        ("CREATE TABLE x ();\n-- a comment later is not the summary.", ""),
        ("-- " + "word " * 60 + ".", ("word " * 40)[:199].rstrip() + "…"),
    ],
)
def test_summary_is_the_first_sentence_of_the_leading_comment(sql, expected):
    assert summary(sql) == expected


def _m(version: str, sql: str = "SELECT 1;") -> Migration:
    return Migration(version, f"m{version}", Path(f"{version}_m{version}.sql"), sql)


def test_plan_names_pending_changed_and_unknown_migrations():
    ms = [_m("0001"), _m("0002"), _m("0003"), _m("0004")]
    done = {"0001": ms[0].checksum, "0002": "edited", "0099": "x"}
    p = plan(ms, done)
    assert [m.version for m in p.applied] == ["0001", "0002"]
    assert [m.version for m in p.pending] == ["0003", "0004"]
    assert [m.version for m in p.changed] == ["0002"]
    assert p.unknown == ["0099"]
    assert plan(ms, {m.version: m.checksum for m in ms}).pending == []


def test_db_status_lists_what_migrate_will_apply_and_exits_2(db_server):
    url = db_server.make_database(migrated=False)
    # Migrating and asking what migrating would do are the owner's.
    owner = owner_of(url)
    env = {"CLEARWELL_DATABASE_URL": url, "CLEARWELL_OWNER_DATABASE_URL": owner}
    try:
        everything = discover()
        with psycopg.connect(owner, autocommit=True) as conn:
            migrate(conn, everything[:-2])
        behind = run_cli("db", "status", env=env)
        assert behind.returncode == 2, behind.stderr
        lines = behind.stdout.splitlines()
        assert f"migrations  {len(everything) - 2} applied, 2 pending" in lines
        for m in everything[-2:]:
            assert f"  pending {m.path.name}: {m.summary}" in lines
        assert m.summary
        migrated = run_cli("db", "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
        done = run_cli("db", "status", env=env)
        assert done.returncode == 0, done.stderr
        assert "0 pending" in done.stdout and "pending " not in done.stdout.replace("0 pending", "")
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(
                "UPDATE schema_migrations SET checksum = 'edited' WHERE version = %s",
                (everything[0].version,),
            )
        changed = run_cli("db", "status", env=env)
        assert changed.returncode == 1
        assert f"  CHANGED {everything[0].path.name} since it was applied" in changed.stdout
    finally:
        db_server.drop_database(url)

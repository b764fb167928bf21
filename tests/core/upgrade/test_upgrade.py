"""Upgrades keep everything: the fixture (a plant that the release in ``release/RELEASE``
wrote with its own code, kept as a ``clearwell backup``; ``make_fixture.py`` makes it) is
restored, ``clearwell db status`` names what will be applied, ``clearwell db migrate``
applies it, and then the audit chain verifies, every record is still there, the
compliance stamps recomputed from the migrated records are the ones in force, and the
release's export bundle verifies against the restored site key."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

from clearwell.backup import count_rows
from clearwell.migrate import discover
from clearwell.signing_key import load_or_create
from compliance.adapter import resolve_site
from compliance.stamping import recompute
from logbook.records import TRACKED_BY
from tests.core.commands import run_cli, skip_unless_superuser

FIXTURE = Path(__file__).parent / "release"
# Append-only records: a migration may add columns to them, never remove or add rows;
# the one exception is the audit log, to which migration 0210 appends baseline rows.
RECORDS = (
    "readings", "audit_log", "entries", "amendments", "entry_countersignatures",
    "shift_signatures", "shifts", "shift_crew", "samples", "sample_results",
    "operator_certificates", "entry_staffing", "people", "person_roles",
)  # fmt: skip
# Migration 0210 names the rows written before it by baseline audit rows, appended after
# the release's: one per record table for each 10,000 of its rows.
BASELINE_ROWS = 10_000
# What migrations themselves append to the audit chain: 0210's baselines, and 0211's
# one row for the site memberships it derives from the records.
MIGRATION_ACTIONS = {"audit.baseline", "site.membership_baseline"}


def _migrations_rows(conn: psycopg.Connection, manifest: dict) -> int:
    """How many audit rows the migrations appended after the release's, each one of
    ``MIGRATION_ACTIONS``."""
    rows = conn.execute(
        "SELECT action, count(*) FROM audit_log WHERE seq > %s GROUP BY action",
        (manifest["rows"]["audit_log"],),
    ).fetchall()
    assert {a for a, _ in rows} <= MIGRATION_ACTIONS, rows
    return sum(n for _, n in rows)


@pytest.fixture(scope="module")
def upgraded(db_server, tmp_path_factory):
    """(URL, data directory, the manifest, db status before migrating) of the fixture
    restored into a fresh database and migrated."""
    manifest = json.loads((FIXTURE / "clearwell-backup.json").read_text())
    skip_unless_superuser(db_server.admin_url)
    url = db_server.make_database(migrated=False)
    data_dir = tmp_path_factory.mktemp("upgraded") / "data"
    # The fixture's owner is the role that made it, which this server need not have.
    # Restored by the superuser, who then owns it all and migrates; migrating grants the
    # runtime role (url's) what it may do, as on a site that moved to two roles.
    superuser = db_server.superuser_url(url)
    restored = run_cli(
        "restore", "--no-owner", str(FIXTURE), url=url, data_dir=data_dir, owner=superuser
    )
    assert restored.returncode == 0, restored.stderr
    status = run_cli("db", "status", url=url, data_dir=data_dir, owner=superuser)
    migrated = run_cli("db", "migrate", url=url, data_dir=data_dir, owner=superuser)
    assert migrated.returncode == 0, migrated.stderr
    yield url, data_dir, manifest, status
    db_server.drop_database(url)


def test_db_status_named_what_the_upgrade_would_apply(upgraded):
    _, _, manifest, status = upgraded
    pending = [m for m in discover() if f"{m.version}_{m.name}" not in manifest["migrations"]]
    assert status.returncode == (2 if pending else 0), status.stderr
    for m in pending:
        assert f"  pending {m.path.name}: {m.summary}" in status.stdout.splitlines()
    assert f"{len(pending)} pending" in status.stdout


def _baselines(conn: psycopg.Connection, manifest: dict) -> int:
    """How many baseline audit rows migration 0210 owes the release's record rows."""
    tracked = conn.execute(
        "SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
        " WHERE g.tgname = %s",
        (TRACKED_BY,),
    ).fetchall()
    return sum(-(-manifest["rows"].get(table, 0) // BASELINE_ROWS) for (table,) in tracked)


def test_the_audit_chain_verifies_after_the_upgrade(upgraded):
    url, data_dir, manifest, _ = upgraded
    with psycopg.connect(url) as conn:
        appended = _migrations_rows(conn, manifest)
    done = run_cli("verify", url=url, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert f"audit chain ok: {manifest['rows']['audit_log'] + appended} rows" in done.stdout
    # Every record row of the release is named by the chain (0210's baseline rows).
    assert "record rows ok" in done.stdout


def test_every_record_of_the_release_is_still_there(upgraded):
    url, _, manifest, _ = upgraded
    with psycopg.connect(url) as conn:
        now = count_rows(conn)
        baselines = _baselines(conn, manifest)
        appended = _migrations_rows(conn, manifest)
        added = conn.execute(
            "SELECT min(seq), count(*) FROM audit_log WHERE action = 'audit.baseline'"
        ).fetchone()
    # The release's audit rows are all still there, 0210's baselines after them.
    assert baselines > 0
    assert added == (manifest["rows"]["audit_log"] + 1, baselines)
    for table in RECORDS:
        assert manifest["rows"][table] > 0, table
        added_rows = appended if table == "audit_log" else 0
        assert now.get(table) == manifest["rows"][table] + added_rows, table
    gone = sorted(t for t in manifest["rows"] if t not in now)
    assert not gone, f"tables the upgrade dropped: {gone}"


async def _recomputed(url: str) -> tuple[int, int]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        site = await resolve_site(conn, "demo-wwtp")
        cur = await conn.execute("SELECT min(occurred_at), max(occurred_at) FROM entries")
        start, end = await cur.fetchone()
        result = await recompute(conn, site, start, end + timedelta(seconds=1), "test")
        await conn.rollback()
        return result


def test_compliance_stamps_recomputed_from_the_migrated_records_are_those_in_force(upgraded):
    url, _, _, _ = upgraded
    assert asyncio.run(_recomputed(url)) == (0, 0)


def test_the_releases_export_bundle_verifies_against_the_restored_site_key(upgraded, tmp_path):
    url, data_dir, _, _ = upgraded
    public = tmp_path / "site.pub"
    key = load_or_create(data_dir).public_key()
    public.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (bundle,) = FIXTURE.glob("*-bundle-*.zip")
    done = run_cli("verify", str(bundle), "--public-key", str(public), url=url, data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_fixture_was_made_by_a_release_and_is_small():
    assert len((FIXTURE / "RELEASE").read_text().strip()) == 40
    assert sum(p.stat().st_size for p in FIXTURE.iterdir()) < 1_100_000

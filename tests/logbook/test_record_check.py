"""`clearwell verify` checks every record row against the audit chain, and the chain against
signed checkpoints kept in the data directory: what the tables' owner does behind the
triggers' back is named."""

import asyncio
import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from clearwell.app import create_app
from clearwell.migrate import discover, migrate
from clearwell.settings import load_settings
from logbook import audit, checkpoints
from logbook.canonical import row_hash
from logbook.records import Finding, Ref, compare, parse
from tests.logbook.scenario import full_shift
from tests.logbook.test_audit_chain import run_cli, tampering


async def checkpoint(api) -> dict:
    async with await psycopg.AsyncConnection.connect(api.db_url, autocommit=True) as conn:
        made = await checkpoints.write(conn, api.data_dir)
    assert made.refused is None and made.signed is not None
    return made.signed["checkpoint"]


def verify(api) -> subprocess.CompletedProcess:
    return run_cli("verify", db_url=api.db_url, data_dir=api.data_dir)


async def test_a_sound_database_verifies_with_its_checkpoint(api):
    await full_shift(api)
    await checkpoint(api)
    result = verify(api)
    assert result.returncode == 0, result.stderr
    assert "audit chain ok" in result.stdout
    assert "record rows ok:" in result.stdout
    assert "checkpoints ok: 1 seen" in result.stdout


async def test_an_entry_rewritten_by_the_owner_with_its_trigger_off_is_named(api):
    ids = await full_shift(api)
    with psycopg.connect(api.db_url) as conn:
        seq = conn.execute(
            "SELECT seq FROM audit_log WHERE action = 'entry.create' AND subject_id = %s",
            (str(ids["reading"]),),
        ).fetchone()[0]
    with tampering(api.owner_url, "entries") as conn:
        conn.execute(
            "UPDATE entries SET data = jsonb_set(data, '{value}', '6.1') WHERE id = %s",
            (ids["reading"],),
        )
    result = verify(api)
    assert result.returncode == 1
    # The chain itself is untouched: only the row check sees it.
    assert "audit chain ok" in result.stdout
    assert "record rows changed since the audit chain recorded them: 1" in result.stderr
    assert f"entries {ids['reading']}: changed since audit row seq {seq}" in result.stderr
    assert "NOT VERIFIED" in result.stderr


async def test_cutting_the_last_50_audit_rows_off_is_found_by_the_checkpoint(api):
    await full_shift(api)
    shift = await api.open_shift("operator")
    for i in range(45):
        r = await api.entry("operator", shift["id"], "note", {"text": f"note {i}"})
        assert r.status_code == 201, r.text
    signed = await checkpoint(api)
    assert verify(api).returncode == 0
    with tampering(api.owner_url, "audit_log") as conn:
        cut = conn.execute(
            "DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 50 FROM audit_log) RETURNING seq"
        ).fetchall()
    assert len(cut) == 50
    result = verify(api)
    assert result.returncode == 1
    assert "audit chain ok" in result.stdout  # what is left still links
    assert (
        f"the audit chain ends at seq {signed['seq'] - 50}, but the checkpoint of"
        f" {signed['made_at']} signed seq {signed['seq']}: 50 audit row(s) at its end are missing"
    ) in result.stderr
    # Their entries are still there, now named by no audit row.
    assert "record rows written without an audit row:" in result.stderr
    assert "entries " in result.stderr and "no audit row names it" in result.stderr


async def test_rows_deleted_with_their_audit_rows_show_in_the_counts(api):
    await full_shift(api)
    shift = await api.open_shift("operator")
    for i in range(3):
        assert (await api.entry("operator", shift["id"], "note", {"text": f"n{i}"})).is_success
    await checkpoint(api)
    with tampering(api.owner_url, "audit_log", "entries", "entry_staffing") as conn:
        conn.execute("DELETE FROM entry_staffing WHERE entry_id IN (SELECT max(id) FROM entries)")
        conn.execute("DELETE FROM entries WHERE id IN (SELECT max(id) FROM entries)")
        conn.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    result = verify(api)
    assert result.returncode == 1
    assert "1 audit row(s) at its end are missing" in result.stderr
    assert "entries: " in result.stderr and "1 fewer than the checkpoint of" in result.stderr


async def test_a_row_deleted_by_the_owner_is_named_gone(api):
    ids = await full_shift(api)
    with tampering(api.owner_url, "amendments") as conn:
        amendment = conn.execute("DELETE FROM amendments RETURNING id").fetchone()[0]
    result = verify(api)
    assert result.returncode == 1
    assert f"amendments {amendment}: gone (audit row seq" in result.stderr
    assert ids  # the scenario made one amendment


async def test_a_row_written_around_the_chain_is_named(api):
    await full_shift(api)
    with psycopg.connect(api.db_url) as conn:
        # The runtime role may append, but an append without an audit row shows.
        person = conn.execute(
            "INSERT INTO person_roles (person_id, role) SELECT id, 'admin' FROM people"
            " WHERE username = 'operator' RETURNING id"
        ).fetchone()[0]
    result = verify(api)
    assert result.returncode == 1
    assert f"person_roles {person}: no audit row names it" in result.stderr


async def test_a_disabled_row_trigger_is_named(api):
    await full_shift(api)
    with psycopg.connect(api.owner_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE shifts DISABLE TRIGGER audit_rows")
    result = verify(api)
    assert result.returncode == 1
    assert "shifts: its new rows are not named to the audit chain (trigger disabled)" in (
        result.stderr
    )


async def test_a_chain_rewritten_whole_is_caught_by_the_checkpoint(api):
    """Rehashing every row after an edit makes the chain add up again; the checkpoint's
    signed row_hash does not."""
    await full_shift(api)
    signed = await checkpoint(api)
    with tampering(api.owner_url, "audit_log") as conn:
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute("SELECT * FROM audit_log WHERE seq >= 3 ORDER BY seq")
            .fetchall()
        )
        prev = rows[0]["prev_hash"]
        rows[0]["actor"] = "someone-else"
        for row in rows:
            row["prev_hash"] = prev
            row["row_hash"] = prev = row_hash(row, prev)
            conn.execute(
                "UPDATE audit_log SET actor = %s, prev_hash = %s, row_hash = %s WHERE seq = %s",
                (row["actor"], row["prev_hash"], row["row_hash"], row["seq"]),
            )
    result = verify(api)
    assert result.returncode == 1
    assert "audit chain ok" in result.stdout
    assert (
        f"audit row seq {signed['seq']} is not the row the checkpoint of {signed['made_at']}"
        " signed: the chain was rewritten" in result.stderr
    )


async def test_a_forged_checkpoint_is_not_used(api):
    await full_shift(api)
    await checkpoint(api)
    path = api.data_dir / "checkpoints" / "latest.json"
    signed = json.loads(path.read_text())
    signed["checkpoint"]["seq"] += 10
    path.write_text(json.dumps(signed))
    result = verify(api)
    assert result.returncode == 1
    assert "latest.json: NOT USED: its signature does not match the site key" in result.stderr


async def test_a_checkpoint_is_not_written_over_a_broken_chain(api):
    await full_shift(api)
    await checkpoint(api)
    shift = await api.open_shift("operator")
    assert (await api.entry("operator", shift["id"], "note", {"text": "after"})).is_success
    with tampering(api.owner_url, "audit_log") as conn:
        conn.execute(
            "UPDATE audit_log SET actor = 'x' WHERE seq = (SELECT max(seq) - 1 FROM audit_log)"
        )
    before = (api.data_dir / "checkpoints" / "latest.json").read_bytes()
    async with await psycopg.AsyncConnection.connect(api.db_url, autocommit=True) as conn:
        made = await checkpoints.write(conn, api.data_dir)
    assert made.signed is None
    assert made.refused and "the chain breaks at seq" in made.refused
    assert (api.data_dir / "checkpoints" / "latest.json").read_bytes() == before


async def test_the_web_app_writes_checkpoints_while_it_runs(db_url, tmp_path: Path):
    app = create_app(load_settings(database_url=db_url, data_dir=tmp_path))
    app.state.checkpoint_interval_s = 0.2
    app.state.rollup_refresh_interval_s = None
    async with app.router.lifespan_context(app):
        async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
            await audit.append(conn, audit.SYSTEM, "test.one")
        for _ in range(50):
            if (tmp_path / "checkpoints" / "latest.json").exists():
                break
            await asyncio.sleep(0.1)
    latest = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert latest["checkpoint"]["seq"] == 1
    assert (tmp_path / "checkpoints" / "history.jsonl").read_text().count("\n") == 1


def test_rows_written_before_the_records_were_tracked_get_a_baseline(db_server):
    url = db_server.make_database(migrated=False)
    owner = db_server.owner_url(url)
    try:
        before = [m for m in discover() if m.version < "0210"]
        with psycopg.connect(owner, autocommit=True) as conn:
            migrate(conn, before)
            conn.execute("INSERT INTO people (username, full_name) VALUES ('old', 'Old Timer')")
            conn.execute(
                "INSERT INTO sites (code, name, timezone) VALUES ('s', 'S', 'America/Denver')"
            )
            conn.execute(
                "INSERT INTO site_logbook_settings (site_id, backdate_limit)"
                " SELECT id, '36 hours' FROM sites"
            )
            migrate(conn)
            rows = conn.execute(
                "SELECT detail ->> 'table', records FROM audit_log"
                " WHERE action = 'audit.baseline' ORDER BY seq"
            ).fetchall()
        assert [r[0] for r in rows] == ["people", "site_logbook_settings"]
        assert rows[0][1][0].startswith("people 1 5 ")
        with psycopg.connect(owner) as conn:
            result = audit.verify(conn)
        assert result.ok, (result.broken, result.records)
    finally:
        db_server.drop_database(url)


async def test_a_column_added_later_leaves_old_rows_verifiable(api):
    await full_shift(api)
    with psycopg.connect(api.owner_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE entries ADD COLUMN later text NOT NULL DEFAULT 'x'")
    shift = await api.open_shift("operator")
    assert (await api.entry("operator", shift["id"], "note", {"text": "new"})).is_success
    with psycopg.connect(api.db_url) as conn:
        result = audit.verify(conn)
    assert result.ok, result.records


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("1", {7: "a"})], []),
        ([("1", {7: "b"})], [Finding("changed", "t", "1", 3)]),
        ([], [Finding("gone", "t", "1", 3)]),
        ([("1", {7: "a"}), ("2", {7: "c"})], [Finding("unaudited", "t", "2")]),
    ],
)
def test_compare_names_each_kind_of_finding(rows, expected):
    refs = {("t", "1"): Ref("t", "1", 7, "a", 3), ("u", "1"): Ref("u", "1", 7, "z", 4)}
    assert list(compare("t", refs, rows)) == expected


def test_a_reference_reads_back():
    assert parse("sample_samplers 3,7 4 " + "f" * 64, 12) == Ref(
        "sample_samplers", "3,7", 4, "f" * 64, 12
    )


def test_compare_checkpoints_is_pure():
    cp = {"seq": 10, "row_hash": "h10", "made_at": "T", "tables": {"entries": 5, "shifts": 2}}
    assert checkpoints.compare([cp], 10, {10: "h10"}, {"entries": 6, "shifts": 2}) == []
    assert checkpoints.compare([cp], 8, {}, {"entries": 4, "shifts": 2}) == [
        "the audit chain ends at seq 8, but the checkpoint of T signed seq 10:"
        " 2 audit row(s) at its end are missing",
        "entries: 4 rows, 1 fewer than the checkpoint of T counted",
    ]
    assert checkpoints.compare([cp], 12, {10: "other"}, {"entries": 5, "shifts": 2}) == [
        "audit row seq 10 is not the row the checkpoint of T signed: the chain was"
        " rewritten at or before seq 10"
    ]

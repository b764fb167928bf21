"""The audit log: every write lands in it, chained; tampering is caught by `clearwell verify`."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from logbook import audit
from tests.logbook.scenario import full_shift
from tests.support.api import PASSWORDS


def run_cli(
    *args: str, db_url: str, stdin: str | None = None, data_dir: Path | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = db_url
    if data_dir is not None:
        env["CLEARWELL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        input=stdin,
    )


async def test_every_kind_of_write_is_audited(api):
    ids = await full_shift(api)
    # The writes the full shift does not make:
    shift = await api.open_shift("operator")
    r = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew",
        {"person_id": await api.id("operator2"), "shift_role": "operator"},
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        "operator",
        f"/api/samples/{ids['sample']}/custody",
        {"relinquished_by": "plant lab", "received_by": "contract lab", "at": now_iso()},
    )
    assert r.status_code == 201, r.text
    me = await api.id("operator")
    r = await api.post(
        "operator",
        f"/api/people/{me}/password",
        {"value": "another-password", "current_password": PASSWORDS["operator"]},
    )
    assert r.status_code == 204
    r = await api.post(
        "operator",
        f"/api/people/{me}/pin",
        {"value": "2580", "current_password": "another-password"},
    )
    assert r.status_code == 204
    r = await api.post("chief", "/api/sites/demo-wwtp/logbook-settings", {"allow_pin_login": True})
    assert r.status_code == 200
    forbidden = await api.post(
        "regulator", "/api/entries", {"shift_id": 1, "kind": "note", "data": {"text": "x"}}
    )
    assert forbidden.status_code == 403
    with psycopg.connect(api.db_url) as conn:
        actions = {r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_log")}
    assert actions == {
        "person.create",
        "person.role_change",
        "auth.reenter",
        "person.set_password",
        "person.set_pin",
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "site.create",
        "site.logbook_settings",
        "shift.open",
        "shift.crew_add",
        "shift.crew_departure",
        "shift.handoff_note",
        "shift.handoff_ack",
        "shift.close",
        "shift.sign",
        "entry.create",
        "entry.countersign",
        "sample.create",
        "sample.custody",
        "sample.countersign",
        "result.create",
        "result.countersign",
        "amendment.create",
        "forbidden",
    }


@contextmanager
def tampering(owner_url: str, *tables: str) -> Iterator[psycopg.Connection[Any]]:
    """The tables' owner, with their triggers switched off for the block: what the
    append-only triggers cannot stop."""
    with psycopg.connect(owner_url) as conn:
        for table in tables:
            conn.execute(
                sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table))
            )
        yield conn
        for table in tables:
            conn.execute(
                sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table))
            )


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def test_verify_reports_ok_then_the_first_row_the_owner_edited(api):
    await full_shift(api)
    ok = run_cli("verify", db_url=api.db_url)
    assert ok.returncode == 0, ok.stderr
    assert "audit chain ok" in ok.stdout
    r = await api.get("chief", "/api/audit/verify")
    assert r.json()["ok"] is True

    with tampering(api.owner_url, "audit_log") as conn:
        seq = conn.execute("SELECT min(seq) FROM audit_log WHERE action = 'shift.sign'").fetchone()[
            0
        ]
        total = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        # The tables' owner switches the triggers off and edits history.
        conn.execute(
            "UPDATE audit_log SET detail = jsonb_set(detail, '{meaning}', '\"nothing\"')"
            " WHERE seq = %s",
            (seq,),
        )
    broken = run_cli("verify", db_url=api.db_url)
    assert broken.returncode == 1
    assert f"BROKEN at seq {seq}" in broken.stderr
    assert "action=shift.sign" in broken.stderr
    r = await api.get("chief", "/api/audit/verify")
    assert r.json()["ok"] is False and r.json()["first_bad_seq"] == seq
    assert r.json()["rows"] > 0 and total > seq


async def test_a_deleted_row_is_caught(api):
    await full_shift(api)
    with tampering(api.owner_url, "audit_log") as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 5")
    result = run_cli("verify", db_url=api.db_url)
    assert result.returncode == 1
    assert "BROKEN at seq 6" in result.stderr


async def test_a_rehashed_row_still_breaks_the_next_link(api):
    """Recomputing the edited row's own hash does not help: the next row names the old one."""
    from logbook.canonical import row_hash

    await full_shift(api)
    with tampering(api.owner_url, "audit_log") as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        row = cur.execute("SELECT * FROM audit_log WHERE seq = 7").fetchone()
        row["actor"] = "someone-else"
        conn.execute(
            "UPDATE audit_log SET actor = %s, row_hash = %s WHERE seq = 7",
            (row["actor"], row_hash(row, row["prev_hash"])),
        )
    result = run_cli("verify", db_url=api.db_url)
    assert result.returncode == 1
    assert "BROKEN at seq 8" in result.stderr


def test_verify_with_a_path_checks_that_bundle_and_names_a_missing_one(db_url, tmp_path):
    missing = tmp_path / "bundle.zip"
    result = run_cli("verify", str(missing), db_url=db_url)
    assert result.returncode == 1
    assert f"{missing}: cannot read" in result.stderr


async def test_concurrent_appends_do_not_fork_the_chain(db_url):
    async def one(i: int) -> None:
        async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
            await audit.append(conn, audit.Actor(None, f"w{i}"), "test.append", detail={"i": i})

    await asyncio.gather(*(one(i) for i in range(30)))
    with psycopg.connect(db_url) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM audit_log ORDER BY seq")]
        workers = {r[0] for r in conn.execute("SELECT actor FROM audit_log")}
        result = audit.verify(conn)
        assert result.broken is None
        assert result.head is not None and result.head["seq"] == seqs[-1]
        assert audit.chain_head(conn)["row_hash"] == result.head["row_hash"]
    assert seqs == list(range(1, 31))
    assert workers == {f"w{i}" for i in range(30)}


async def test_the_database_links_rows_as_the_pure_module_does(db_url):
    from logbook.canonical import GENESIS, row_hash

    async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
        await audit.append(conn, audit.SYSTEM, "test.one", "thing", 7, None, {"x": 1.5, "y": 2.0})
        await audit.append(conn, audit.Actor(3, "op"), "test.two", detail={"s": "caf\u00e9"})
    with psycopg.connect(db_url) as conn:
        rows = (
            conn.cursor(row_factory=psycopg.rows.dict_row)
            .execute("SELECT * FROM audit_log ORDER BY seq")
            .fetchall()
        )
    assert rows[0]["prev_hash"] == GENESIS
    assert rows[0]["row_hash"] == row_hash(rows[0], GENESIS)
    assert rows[1]["prev_hash"] == rows[0]["row_hash"]
    assert rows[1]["row_hash"] == row_hash(rows[1], rows[0]["row_hash"])

"""Staffing stamps: in the entry's own transaction, pending ones, recomputes, the command."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from compliance import stamping
from compliance.adapter import resolve_site
from compliance.stamping import recompute, stamp_entries, stamp_pending
from logbook import audit
from tests.compliance.db.helpers import SITE, ago, certify, crew_shift, run_cli, set_profile
from tests.support.api import Api

READING = {"instrument": "effluent pH", "value": 7.1, "unit": "pH"}


async def _staffed_shift(api: Api) -> dict[str, Any]:
    await set_profile(api)
    await certify(api, "chief")
    crew = [("chief", "drc"), ("operator", "operator"), ("trainee", "trainee")]
    return await crew_shift(api, crew, ago(hours=2))


async def _entry(api: Api, who: str, shift_id: int) -> int:
    r = await api.entry(who, shift_id, "reading", READING)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _unstamped_entry(api: Api, who: str, shift_id: int) -> int:
    """An entry written straight to the table, as before stamping existed: left for the pass."""
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        cur = await conn.execute(
            "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
            " recorded_by) SELECT site_id, id, 'reading', %s, true, now(), %s"
            " FROM shifts WHERE id = %s RETURNING id",
            (Jsonb(READING), await api.id(who), shift_id),
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


def _ids(people: list[dict[str, Any]]) -> list[int]:
    return [p["person_id"] for p in people]


async def test_stamp_inside_the_writing_transaction_in_pipeline_mode(api: Api) -> None:
    """As the logbook will call it: same connection, pipeline mode, entry not committed."""
    shift = await _staffed_shift(api)
    chief, op = await api.id("chief"), await api.id("operator")
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        async with conn.pipeline(), conn.transaction():
            cur = await conn.execute(
                "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
                " recorded_by) SELECT site_id, id, 'note', '{\"text\": \"x\"}', false, now(), %s"
                " FROM shifts WHERE id = %s RETURNING id",
                (op, shift["id"]),
            )
            row = await cur.fetchone()
            assert row is not None
            assert await stamp_entries(conn, [row[0]]) == 1
            # The logbook's audit append stays last in the transaction, after the hook.
            await audit.append(conn, audit.SYSTEM, "entry.create", "entry", row[0])
        # Stamped once: a second call leaves it alone.
        async with conn.transaction():
            assert await stamp_entries(conn, [row[0]]) == 0
    with psycopg.connect(api.db_url) as sync_conn:
        assert audit.verify(sync_conn).broken is None
    r = await api.get("chief", f"/api/entries/{row[0]}")
    staffing = r.json()["staffing"]
    assert _ids(staffing["drc"]) == [chief]
    # The operator holds no certificate: only the chief is certified on duty.
    assert _ids(staffing["certified_on_duty"]) == [chief]
    assert staffing["rules"] == "UT" and staffing["facility_class"] == "II"


async def test_the_logbook_stamps_each_entry_it_writes(api: Api) -> None:
    shift = await _staffed_shift(api)
    entry_id = await _entry(api, "trainee", shift["id"])
    staffing = (await api.get("chief", f"/api/entries/{entry_id}")).json()["staffing"]
    assert _ids(staffing["drc"]) == [await api.id("chief")]
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        assert await stamp_pending(conn) == 0
    with psycopg.connect(api.db_url) as sync_conn:
        assert audit.verify(sync_conn).broken is None


async def test_pending_entries_are_stamped_then_recomputed(api: Api) -> None:
    shift = await _staffed_shift(api)
    ids = [
        await _unstamped_entry(api, "operator", shift["id"]),
        await _unstamped_entry(api, "trainee", shift["id"]),
    ]
    chief, op = await api.id("chief"), await api.id("operator")
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        assert await stamp_pending(conn) == 2
        assert await stamp_pending(conn) == 0
    for entry_id in ids:
        staffing = (await api.get("chief", f"/api/entries/{entry_id}")).json()["staffing"]
        assert _ids(staffing["certified_on_duty"]) == [chief]

    # The operator's certificate is entered late: a recompute revises both stamps.
    await certify(api, "operator")
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        async with conn.transaction():
            site = await resolve_site(conn, SITE)
            span = (ago(hours=3), ago(seconds=-1))
            assert await recompute(conn, site, *span, "late cert") == (0, 2)
        async with conn.transaction():
            assert await recompute(conn, site, *span, "again") == (0, 0)
        cur = await conn.execute(
            "SELECT entry_id, stamp, reason FROM entry_staffing_revisions ORDER BY entry_id"
        )
        rows = await cur.fetchall()
    assert [r[0] for r in rows] == ids
    assert all(_ids(r[1]["certified_on_duty"]) == sorted([chief, op]) for r in rows)
    assert {r[2] for r in rows} == {"late cert"}
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        cur = await conn.execute(
            "SELECT entry_id, stamp, revised, first_stamp FROM entry_staffing_current"
            " ORDER BY entry_id"
        )
        current = await cur.fetchall()
    assert [(c[0], c[1], c[2]) for c in current] == [(r[0], r[1], True) for r in rows]
    assert all(_ids(c[3]["certified_on_duty"]) == [chief] for c in current)
    # The logbook shows the stamp in force; the first one is kept beside it.
    staffing = (await api.get("chief", f"/api/entries/{ids[0]}")).json()["staffing"]
    assert _ids(staffing["certified_on_duty"]) == sorted([chief, op])


async def test_no_profile_no_stamp(api: Api) -> None:
    crew = [("chief", "drc")]
    shift = await crew_shift(api, crew, ago(hours=1))
    entry_id = await _entry(api, "chief", shift["id"])
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        async with conn.transaction():
            assert await stamp_entries(conn, [entry_id]) == 0
        assert await stamp_pending(conn) == 0
    await set_profile(api)
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        assert await stamp_pending(conn) == 1


async def test_stamp_command(api: Api) -> None:
    shift = await _staffed_shift(api)
    await _unstamped_entry(api, "operator", shift["id"])
    result = run_cli("compliance", "stamp", "--facility", SITE, db_url=api.db_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stamped 1 entries"
    result = run_cli(
        "compliance",
        "stamp",
        "--facility",
        SITE,
        "--recompute",
        "--start",
        ago(hours=3).isoformat(),
        "--end",
        ago(seconds=-60).isoformat(),
        db_url=api.db_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stamped 0 entries, revised 0 stamps"
    result = run_cli("compliance", "stamp", "--recompute", db_url=api.db_url)
    assert result.returncode == 1
    assert "clearwell: error: --recompute needs --facility" in result.stderr


async def test_a_failing_stamp_never_costs_the_entry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine error or a failed statement rolls back the savepoint only."""
    shift = await _staffed_shift(api)
    first = await _unstamped_entry(api, "operator", shift["id"])
    second = await _unstamped_entry(api, "operator", shift["id"])

    def broken(*_: object, **__: object) -> None:
        raise ValueError("engine bug")

    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        with monkeypatch.context() as m:
            m.setattr(stamping, "check", broken)
            async with conn.pipeline(), conn.transaction():
                assert await stamp_entries(conn, [first]) == 0
                await conn.execute(
                    "INSERT INTO entry_countersignatures VALUES (%s, %s, %s)",
                    (first, await api.id("chief"), "0" * 64),
                )
        with monkeypatch.context() as m:
            m.setattr(stamping, "_INSERT_SQL", "INSERT INTO no_such_table VALUES (%s, %s)")
            async with conn.transaction():
                assert await stamp_entries(conn, [second]) == 0
                await conn.execute("SELECT 1")
            async with conn.transaction():
                with pytest.raises(psycopg.errors.UndefinedTable):
                    await stamp_entries(conn, [second], strict=True)
        cur = await conn.execute("SELECT count(*) FROM entry_countersignatures")
        assert (await cur.fetchone()) == (1,)
        assert await stamp_pending(conn) == 2

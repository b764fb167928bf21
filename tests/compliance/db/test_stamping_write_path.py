"""Staffing stamps on the logbook's write path: one pipelined transaction with the entry."""

from __future__ import annotations

import psycopg
import pytest

from compliance import stamping
from logbook import audit
from tests.compliance.db.helpers import ago, certify, crew_shift, set_profile
from tests.support.api import Api

NOTE = {"text": "aeration basin 2 back in service"}


async def _shift(api: Api) -> int:
    await set_profile(api)
    await certify(api, "chief")
    shift = await crew_shift(api, [("chief", "drc"), ("operator", "operator")], ago(hours=1))
    return int(shift["id"])


def _stamps_and_chain(db_url: str, entry_id: int) -> tuple[int, bool, list[str]]:
    """(stamps of the entry, whether it exists, actions audited on it); checks the chain."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM entry_staffing WHERE entry_id = %s),"
            " EXISTS (SELECT 1 FROM entries WHERE id = %s)",
            (entry_id, entry_id),
        ).fetchone()
        assert row is not None
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE subject = 'entry' AND subject_id = %s",
                (str(entry_id),),
            )
        ]
        assert audit.verify(conn).broken is None
    return int(row[0]), bool(row[1]), actions


async def test_an_entry_write_stamps_it_and_appends_to_the_chain(api: Api) -> None:
    shift_id = await _shift(api)
    r = await api.entry("operator", shift_id, "note", NOTE)
    assert r.status_code == 201, r.text
    stamps, exists, actions = _stamps_and_chain(api.db_url, r.json()["id"])
    assert (stamps, exists, actions) == (1, True, ["entry.create"])
    staffing = (await api.get("chief", f"/api/entries/{r.json()['id']}")).json()["staffing"]
    assert [p["person_id"] for p in staffing["drc"]] == [await api.id("chief")]


@pytest.mark.parametrize(
    "broken_insert",
    [
        # Fails in the database, after the stamp was computed: the statement's error
        # must be met inside the savepoint, not at the entry's COMMIT.
        "INSERT INTO entry_staffing (entry_id, stamp) SELECT u.i, 'not json'::jsonb"
        " FROM unnest(%s::bigint[]) AS u(i) WHERE %s::jsonb IS NOT NULL RETURNING entry_id",
        "INSERT INTO no_such_table VALUES (%s, %s) RETURNING 1",
    ],
    ids=["bad-value", "no-table"],
)
async def test_a_stamp_failing_in_the_database_never_costs_the_entry(
    api: Api, monkeypatch: pytest.MonkeyPatch, broken_insert: str
) -> None:
    shift_id = await _shift(api)
    monkeypatch.setattr(stamping, "_INSERT_SQL", broken_insert)
    r = await api.entry("operator", shift_id, "note", NOTE, client_key="k-1")
    assert r.status_code == 201, r.text
    entry_id = r.json()["id"]
    assert _stamps_and_chain(api.db_url, entry_id) == (0, True, ["entry.create"])
    # The connection went back to the pool in a usable state: the next write works,
    # and a retry with the same key is still answered from the first write.
    monkeypatch.undo()
    again = await api.entry("operator", shift_id, "note", NOTE, client_key="k-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["id"] == entry_id
    r = await api.entry("operator", shift_id, "note", NOTE, client_key="k-2")
    assert r.status_code == 201, r.text
    assert _stamps_and_chain(api.db_url, r.json()["id"]) == (1, True, ["entry.create"])


async def test_an_engine_error_in_the_write_leaves_the_entry_unstamped(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    shift_id = await _shift(api)

    def broken(*_: object, **__: object) -> None:
        raise ValueError("engine bug")

    monkeypatch.setattr(stamping, "check", broken)
    r = await api.entry("operator", shift_id, "note", NOTE)
    assert r.status_code == 201, r.text
    assert _stamps_and_chain(api.db_url, r.json()["id"]) == (0, True, ["entry.create"])

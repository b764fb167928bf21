"""Reading records back with their amendments: a shift's state and content, entries,
samples with their custody and results, a site's logbook settings."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from clearwell.jsontext import dumps
from logbook.amend import fold
from logbook.samples import ResultFields, SampleFields
from logbook.shift_content import shift_content_hash

# How far back an entry's occurred_at may be at a site that never set its own limit
# (the column's default in site_logbook_settings).
DEFAULT_BACKDATE_LIMIT = timedelta(hours=24)


@dataclass(frozen=True)
class ShiftState:
    id: int
    site_id: int
    label: str
    opened_at: datetime
    opened_by: int
    recorded_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    signed: bool

    @property
    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "label": self.label,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
            "closed_at": self.closed_at,
        }


# A shift's lock is an advisory one, on (SHIFT_LOCK, its id): a row lock (SELECT … FOR
# SHARE) needs the UPDATE privilege, which the runtime role has on no record table.
SHIFT_LOCK = 0x73686674  # "shft"
_LOCKS = {
    "share": "SELECT pg_advisory_xact_lock_shared(%s::int, %s::int)",
    "update": "SELECT pg_advisory_xact_lock(%s::int, %s::int)",
}


async def lock_shift(conn: psycopg.AsyncConnection[Any], shift_id: int, lock: str) -> None:
    """Holds the shift's lock until the transaction ends: ``"share"`` for anything that
    adds to the shift, ``"update"`` for closing and signing, so that a signature never
    misses a concurrent addition. Taken before the shift is read, so the read sees what
    the holder before committed. Nothing is read back (it travels in a pipeline)."""
    # Ids past 2**31 share a lock with a smaller one: harmless, they only wait.
    await conn.execute(_LOCKS[lock], (SHIFT_LOCK, shift_id % 2**31))


async def shift_state(
    conn: psycopg.AsyncConnection[Any], shift_id: int, lock: str | None = None
) -> ShiftState | None:
    """The shift with its closure and whether it is signed, locked as ``lock`` says
    (:func:`lock_shift`) when given."""
    if lock is not None:
        await lock_shift(conn, shift_id, lock)
    query = sql.SQL(
        "SELECT s.id, s.site_id, s.label, s.opened_at, s.opened_by, s.recorded_at,"
        " c.closed_at, c.closed_by,"
        " EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id)"
        " FROM shifts s LEFT JOIN shift_closures c ON c.shift_id = s.id WHERE s.id = %s"
    )
    cur = await conn.execute(query, (shift_id,))
    row = await cur.fetchone()
    return ShiftState(*row) if row else None


@dataclass(frozen=True)
class EntryTarget:
    """What writing an entry needs to know, in one query."""

    shift: ShiftState | None
    backdate_limit: timedelta
    seen_id: int | None
    seen_sha: str | None


async def entry_target(
    conn: psycopg.AsyncConnection[Any], shift_id: int, person_id: int, client_key: str | None
) -> EntryTarget:
    """The shift (share-locked), its site's backdate limit, and a record already made
    with this client key, if any."""
    await lock_shift(conn, shift_id, "share")
    cur = await conn.execute(
        "SELECT x.*, k.id, k.request_sha FROM (SELECT 1) one"
        " LEFT JOIN (SELECT s.id, s.site_id, s.label, s.opened_at, s.opened_by, s.recorded_at,"
        "  c.closed_at, c.closed_by,"
        "  EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id),"
        "  coalesce((SELECT backdate_limit FROM site_logbook_settings l"
        "   WHERE l.site_id = s.site_id ORDER BY l.id DESC LIMIT 1), interval '24 hours')"
        "  FROM shifts s LEFT JOIN shift_closures c ON c.shift_id = s.id"
        "  WHERE s.id = %s) x ON true"
        " LEFT JOIN entries k ON k.recorded_by = %s AND k.client_key = %s",
        (shift_id, person_id, client_key),
    )
    row = await cur.fetchone()
    assert row is not None
    shift = ShiftState(*row[:9]) if row[0] is not None else None
    limit = DEFAULT_BACKDATE_LIMIT if row[9] is None else row[9]
    return EntryTarget(shift, limit, row[10], row[11])


def new_entry(
    entry_id: int,
    shift: ShiftState,
    kind: str,
    data: dict[str, Any],
    operational: bool,
    occurred_at: datetime,
    recorded_at: datetime,
    person_id: int,
    by_trainee: bool,
    event_id: int | None,
) -> dict[str, Any]:
    """An entry as just written (no amendments or countersignature yet), like ``entry``."""
    return {
        "id": entry_id,
        "site_id": shift.site_id,
        "shift_id": shift.id,
        "kind": kind,
        "operational": operational,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "recorded_by": person_id,
        "by_trainee": by_trainee,
        "event_id": event_id,
        "data": data,
        "countersignature": None,
        "needs_countersignature": by_trainee,
        "staffing": None,
        "amended": False,
        "original": None,
        "history": [],
        "plausibility": [],
    }


async def amendments_for(
    conn: psycopg.AsyncConnection[Any], target: str, ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    cur = await conn.execute(
        "SELECT id, target_id, changes, reason, amended_by, amended_at, after_signing"
        " FROM amendments WHERE target = %s AND target_id = ANY(%s) ORDER BY id",
        (target, ids),
    )
    for r in await cur.fetchall():
        out[r[1]].append(
            {
                "id": r[0],
                "changes": r[2],
                "reason": r[3],
                "amended_by": r[4],
                "amended_at": r[5],
                "after_signing": r[6],
            }
        )
    return out


# Each entry rendered to JSON text by the database; only amended entries are
# parsed and folded in Python (listing a month is thousands of rows). With the
# session in UTC, PostgreSQL writes timestamps in JSON exactly as Python's
# isoformat() does (see clearwell.jsontext).
ENTRY_SELECT = (
    "SELECT e.id, e.occurred_at,"
    " EXISTS (SELECT 1 FROM amendments a WHERE a.target = 'entry' AND a.target_id = e.id),"
    " json_build_object("
    "  'id', e.id, 'site_id', e.site_id, 'shift_id', e.shift_id, 'kind', e.kind,"
    "  'operational', e.operational, 'occurred_at', e.occurred_at,"
    "  'recorded_at', e.recorded_at, 'recorded_by', e.recorded_by,"
    "  'by_trainee', e.by_trainee, 'event_id', e.event_id, 'data', e.data,"
    "  'countersignature', CASE WHEN cs.entry_id IS NOT NULL THEN json_build_object("
    "    'person_id', cs.person_id, 'signed_at', cs.signed_at) END,"
    "  'needs_countersignature', e.by_trainee AND cs.entry_id IS NULL,"
    "  'staffing', st.stamp, 'amended', false, 'original', NULL, 'history', '[]'::json,"
    "  'plausibility', coalesce((SELECT json_agg(p.body ORDER BY p.id)"
    "   FROM plausibility_json p WHERE p.entry_id = e.id), '[]'::json)"
    " )::text"
    " FROM entries e"
    " LEFT JOIN entry_countersignatures cs ON cs.entry_id = e.id"
    " LEFT JOIN entry_staffing_current st ON st.entry_id = e.id"
)


def _typed_entry(body: dict[str, Any]) -> dict[str, Any]:
    for name in ("occurred_at", "recorded_at"):
        body[name] = datetime.fromisoformat(body[name])
    if body["countersignature"]:
        cs = body["countersignature"]
        cs["signed_at"] = datetime.fromisoformat(cs["signed_at"])
    for c in body["plausibility"]:
        c["confirmed_at"] = datetime.fromisoformat(c["confirmed_at"])
    return body


def _fold_entry(body: dict[str, Any], amendments: list[dict[str, Any]]) -> dict[str, Any]:
    original = {"data": body["data"], "occurred_at": body["occurred_at"]}
    current, history = fold(original, amendments)
    return {
        **body,
        "occurred_at": current["occurred_at"],
        "data": current["data"],
        "amended": bool(history),
        "original": original if history else None,
        "history": history,
    }


async def _entry_rows(
    conn: psycopg.AsyncConnection[Any], where: sql.Composable, params: list[Any], limit: int
) -> list[Any]:
    query = sql.SQL("{} WHERE {} ORDER BY e.occurred_at, e.id LIMIT %s").format(
        sql.SQL(ENTRY_SELECT), where
    )
    await conn.execute("SET LOCAL TimeZone = 'UTC'")
    cur = await conn.execute(query, [*params, limit])
    return await cur.fetchall()


async def entries_where(
    conn: psycopg.AsyncConnection[Any], where: sql.Composable, params: list[Any], limit: int
) -> list[dict[str, Any]]:
    """Entries matching ``where`` in (occurred_at, id) order, with amendments folded in."""
    rows = await _entry_rows(conn, where, params, limit)
    amendments = await amendments_for(conn, "entry", [r[0] for r in rows if r[2]])
    return [_fold_entry(_typed_entry(json.loads(r[3])), amendments.get(r[0], [])) for r in rows]


async def entries_json(
    conn: psycopg.AsyncConnection[Any], where: sql.Composable, params: list[Any], limit: int
) -> tuple[list[str], list[Any]]:
    """Like ``entries_where``, as JSON texts; also the rows (id, occurred_at) for paging."""
    rows = await _entry_rows(conn, where, params, limit)
    amendments = await amendments_for(conn, "entry", [r[0] for r in rows if r[2]])
    texts = [
        dumps(_fold_entry(_typed_entry(json.loads(r[3])), amendments[r[0]])) if r[2] else r[3]
        for r in rows
    ]
    return texts, rows


async def entry(conn: psycopg.AsyncConnection[Any], entry_id: int) -> dict[str, Any] | None:
    found = await entries_where(conn, sql.SQL("e.id = %s"), [entry_id], 1)
    return found[0] if found else None


async def crew(conn: psycopg.AsyncConnection[Any], shift_id: int) -> list[dict[str, Any]]:
    return [member for _, member in await crews(conn, [shift_id])]


async def crews(
    conn: psycopg.AsyncConnection[Any], shift_ids: Sequence[int]
) -> list[tuple[int, dict[str, Any]]]:
    """(shift id, crew member as :func:`crew` gives it) of these shifts' crews, in crew id
    order, amendments folded in."""
    cur = await conn.execute(
        "SELECT c.id, c.person_id, p.username, p.full_name, c.shift_role, c.arrived_at,"
        " d.left_at, c.added_by, c.recorded_at, c.shift_id"
        " FROM shift_crew c JOIN people p ON p.id = c.person_id"
        " LEFT JOIN crew_departures d ON d.crew_id = c.id"
        " WHERE c.shift_id = ANY(%s) ORDER BY c.id",
        (list(shift_ids),),
    )
    rows = await cur.fetchall()
    amendments = await amendments_for(conn, "crew", [r[0] for r in rows])
    out = []
    for r in rows:
        original = {"shift_role": r[4], "arrived_at": r[5], "left_at": r[6]}
        current, history = fold(original, amendments.get(r[0], []))
        member = {
            "id": r[0],
            "person_id": r[1],
            "username": r[2],
            "full_name": r[3],
            **current,
            "added_by": r[7],
            "recorded_at": r[8],
            "original": original if history else None,
            "history": history,
        }
        out.append((r[9], member))
    return out


async def handoff_notes(conn: psycopg.AsyncConnection[Any], shift_id: int) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT n.id, n.from_shift_id, n.body, n.written_by, n.written_at,"
        " a.to_shift_id, a.acknowledged_by, a.acknowledged_at"
        " FROM handoff_notes n LEFT JOIN handoff_acks a ON a.note_id = n.id"
        " WHERE n.from_shift_id = %s ORDER BY n.id",
        (shift_id,),
    )
    return [
        {
            "id": r[0],
            "from_shift_id": r[1],
            "body": r[2],
            "written_by": r[3],
            "written_at": r[4],
            "acknowledgement": (
                {"to_shift_id": r[5], "acknowledged_by": r[6], "acknowledged_at": r[7]}
                if r[5] is not None
                else None
            ),
        }
        for r in await cur.fetchall()
    ]


def _before_signing(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: h[k] for k in ("id", "changes", "reason", "amended_by", "amended_at")}
        for h in history
        if not h["after_signing"]
    ]


async def content_hash(conn: psycopg.AsyncConnection[Any], state: ShiftState) -> str:
    """The sha256 a signature binds: the shift as it stood before any signature."""
    crew_rows = await crew(conn, state.id)
    entries = await entries_where(conn, sql.SQL("e.shift_id = %s"), [state.id], 1_000_000)
    notes = await handoff_notes(conn, state.id)
    crew_content = [
        {**c, **(c["original"] or {}), "amendments": _before_signing(c["history"])}
        for c in crew_rows
    ]
    entry_content = [
        {
            **e,
            **(e["original"] or {}),
            "countersigned_by": (e["countersignature"] or {}).get("person_id"),
            "amendments": _before_signing(e["history"]),
        }
        for e in entries
    ]
    return shift_content_hash(state.row, crew_content, entry_content, notes)


async def signatures(conn: psycopg.AsyncConnection[Any], shift_id: int) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT g.id, g.person_id, p.username, g.content_sha256, g.signed_at, g.meaning"
        " FROM shift_signatures g JOIN people p ON p.id = g.person_id"
        " WHERE g.shift_id = %s ORDER BY g.id",
        (shift_id,),
    )
    keys = ("id", "person_id", "username", "content_sha256", "signed_at", "meaning")
    return [dict(zip(keys, r, strict=True)) for r in await cur.fetchall()]


def _folded(
    row: dict[str, Any], fields: tuple[str, ...], amendments: list[dict[str, Any]]
) -> dict[str, Any]:
    original = {f: row[f] for f in fields}
    current, history = fold(original, amendments)
    rest = {
        k: v for k, v in row.items() if k not in fields and k not in ("client_key", "request_sha")
    }
    return {
        **rest,
        **current,
        "amended": bool(history),
        "original": original if history else None,
        "history": history,
    }


_SAMPLE_FIELDS = tuple(SampleFields.model_fields)
_RESULT_FIELDS = tuple(ResultFields.model_fields)


async def load_samples(
    conn: psycopg.AsyncConnection[Any], where: sql.Composable, params: list[Any], limit: int
) -> list[dict[str, Any]]:
    """Samples matching ``where`` in (sampled_at, id) order, with their samplers, custody
    and results, amendments folded in."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            sql.SQL("SELECT * FROM samples WHERE {} ORDER BY sampled_at, id LIMIT %s").format(
                where
            ),
            [*params, limit],
        )
        samples = await cur.fetchall()
        ids = [s["id"] for s in samples]
        await cur.execute(
            "SELECT * FROM sample_results WHERE sample_id = ANY(%s) ORDER BY id", (ids,)
        )
        results = await cur.fetchall()
        await cur.execute(
            "SELECT sample_id, relinquished_by, received_by, at, condition, temperature_c,"
            " recorded_by, recorded_at FROM custody_transfers WHERE sample_id = ANY(%s)"
            " ORDER BY at, id",
            (ids,),
        )
        custody = await cur.fetchall()
        await cur.execute(
            "SELECT sample_id, person_id FROM sample_samplers WHERE sample_id = ANY(%s)"
            " ORDER BY person_id",
            (ids,),
        )
        samplers = await cur.fetchall()
        await cur.execute(
            "SELECT sample_id, person_id, content_sha256, signed_at FROM sample_countersignatures"
            " WHERE sample_id = ANY(%s)",
            (ids,),
        )
        sample_signed = {r.pop("sample_id"): r for r in await cur.fetchall()}
        await cur.execute(
            "SELECT result_id, person_id, content_sha256, signed_at FROM result_countersignatures"
            " WHERE result_id = ANY(%s)",
            ([r["id"] for r in results],),
        )
        result_signed = {r.pop("result_id"): r for r in await cur.fetchall()}
    sample_amends = await amendments_for(conn, "sample", ids)
    result_ids = [r["id"] for r in results]
    result_amends = await amendments_for(conn, "result", result_ids)
    confirmations = await confirmations_of_results(conn, result_ids)
    out = []
    for s in samples:
        body = _folded(s, _SAMPLE_FIELDS, sample_amends.get(s["id"], []))
        body["sampled_by"] = [x["person_id"] for x in samplers if x["sample_id"] == s["id"]]
        body["custody"] = [
            {k: v for k, v in c.items() if k != "sample_id"}
            for c in custody
            if c["sample_id"] == s["id"]
        ]
        body["results"] = [
            {
                **_folded(r, _RESULT_FIELDS, result_amends.get(r["id"], [])),
                "plausibility": confirmations.get(r["id"], []),
                "countersignature": result_signed.get(r["id"]),
            }
            for r in results
            if r["sample_id"] == s["id"]
        ]
        body["countersignature"] = sample_signed.get(s["id"])
        out.append(body)
    return out


async def confirmations_of_results(
    conn: psycopg.AsyncConnection[Any], result_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each result's values confirmed outside their plausible range, in order."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not result_ids:
        return out
    cur = await conn.execute(
        "SELECT result_id, body FROM plausibility_json WHERE result_id = ANY(%s) ORDER BY id",
        (result_ids,),
    )
    for result_id, body in await cur.fetchall():
        body["confirmed_at"] = datetime.fromisoformat(body["confirmed_at"])
        out[result_id].append(body)
    return out


async def one_sample(conn: psycopg.AsyncConnection[Any], sample_id: int) -> dict[str, Any] | None:
    found = await load_samples(conn, sql.SQL("id = %s"), [sample_id], 1)
    return found[0] if found else None


async def site_settings(conn: psycopg.AsyncConnection[Any], site_id: int) -> tuple[bool, timedelta]:
    """(allow_pin_login, backdate_limit) in force for a site; defaults if never set."""
    cur = await conn.execute(
        "SELECT allow_pin_login, backdate_limit FROM site_logbook_settings WHERE site_id = %s"
        " ORDER BY id DESC LIMIT 1",
        (site_id,),
    )
    row = await cur.fetchone()
    return (bool(row[0]), row[1]) if row else (False, DEFAULT_BACKDATE_LIMIT)

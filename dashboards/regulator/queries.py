"""Reading a facility's records for a period: entries and samples with their amendment
history (the logbook's own folding), the names of the people in them, and of the tags and
alarms entries name by id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dashboards.regulator.view import Refs, referenced
from logbook import store
from logbook.store import load_samples

AsyncConn = psycopg.AsyncConnection[Any]


async def sites(conn: AsyncConn) -> list[dict[str, Any]]:
    """Every site, with whether it has a compliance profile (the coverage needs one)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT s.id, s.code, s.name, s.timezone, EXISTS (SELECT 1 FROM facility_profiles f"
            " WHERE f.site_id = s.id) AS has_profile FROM sites s ORDER BY s.name, s.code"
        )
        return await cur.fetchall()


async def names(conn: AsyncConn, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    cur = await conn.execute("SELECT id, full_name FROM people WHERE id = ANY(%s)", (wanted,))
    return {int(r[0]): str(r[1]) for r in await cur.fetchall()}


async def refs(
    conn: AsyncConn, entries: Iterable[dict[str, Any]], people: Mapping[int, str]
) -> Refs:
    """The tags (by description, else name) and alarms (by message) the entries name, with
    the names of ``people`` (read already)."""
    tag_ids, event_ids = referenced(list(entries))
    tags: dict[int, str] = {}
    events: dict[int, str] = {}
    if tag_ids:
        cur = await conn.execute(
            "SELECT id, coalesce(nullif(description, ''), name) FROM tags WHERE id = ANY(%s)",
            (sorted(tag_ids),),
        )
        tags = {int(r[0]): str(r[1]) for r in await cur.fetchall()}
    if event_ids:
        cur = await conn.execute(
            "SELECT id, message FROM events WHERE id = ANY(%s)", (sorted(event_ids),)
        )
        events = {int(r[0]): str(r[1]) for r in await cur.fetchall()}
    return Refs(tags, events, people)


async def entries_in(
    conn: AsyncConn, site_id: int, start: datetime, end: datetime, limit: int
) -> list[dict[str, Any]]:
    """Entries that occurred in [start, end) as first recorded, with amendments folded in."""
    return await store.entries_where(
        conn,
        sql.SQL("e.site_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s"),
        [site_id, start, end],
        limit,
    )


async def samples_in(
    conn: AsyncConn, site_id: int, start: datetime, end: datetime, limit: int
) -> list[dict[str, Any]]:
    """Samples taken in [start, end), with custody, results and amendment histories."""
    return await load_samples(
        conn,
        sql.SQL("site_id = %s AND sampled_at >= %s AND sampled_at < %s"),
        [site_id, start, end],
        limit,
    )


def people_in(records: Iterable[dict[str, Any]]) -> set[int]:
    """Everyone that entries or samples name by id: authors, signers, amenders, samplers,
    who confirmed an implausible value."""
    out: set[int] = set()
    for r in records:
        for key in ("recorded_by", "analyst_id"):
            if r.get(key) is not None:
                out.add(int(r[key]))
        out.update(int(p) for p in r.get("sampled_by") or ())
        cs = r.get("countersignature")
        if cs:
            out.add(int(cs["person_id"]))
        out.update(int(h["amended_by"]) for h in r.get("history") or ())
        out.update(int(c["confirmed_by"]) for c in r.get("plausibility") or ())
        out |= people_in(r.get("results") or ())
    return out

"""What the floor terminal reads: the open shift and those awaiting signature, alarms,
sparklines, the collectors' sources, form helpers.

Every query is bounded by an index (a site's newest rows, a tag's recent minutes), so
the page costs the same with a year of data as with a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dashboards.regulator import queries as regulator_queries
from logbook import store

# A closed shift stays listed on the terminal as awaiting signature for this long.
UNSIGNED_SHOWN = timedelta(days=14)
# ... the newest this many of them, with how many there are.
AWAITING_SHOWN = 6
# Cleared alarms stay on the terminal, unacknowledged, for this long.
CLEARED_ALARMS_SHOWN = timedelta(hours=12)
ALARM_SEVERITIES = ["warning", "alarm", "critical"]
MAX_ALARMS = 30
# Last values offered in the forms come from entries this recent.
LAST_VALUES_WINDOW = timedelta(days=7)
RECENT_SAMPLES = timedelta(hours=48)
CREW_ROLES = ["operator", "trainee", "chief_operator"]

Conn = psycopg.AsyncConnection[Any]


async def _all(conn: Conn, query: str, params: Any = ()) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def _one(conn: Conn, query: str, params: Any = ()) -> dict[str, Any] | None:
    rows = await _all(conn, query, params)
    return rows[0] if rows else None


async def site(conn: Conn, code: str) -> dict[str, Any] | None:
    return await _one(conn, "SELECT id, code, name, timezone FROM sites WHERE code = %s", (code,))


async def site_code_by_id(conn: Conn, site_id: int) -> str | None:
    row = await _one(conn, "SELECT code FROM sites WHERE id = %s", (site_id,))
    return row["code"] if row else None


async def first_site_code(conn: Conn, among: list[int] | None = None) -> str | None:
    """The first site by name (of the sites ``among``, when given)."""
    row = await _one(
        conn,
        "SELECT code FROM sites WHERE %(among)s::int[] IS NULL OR id = ANY(%(among)s)"
        " ORDER BY name, code LIMIT 1",
        {"among": among},
    )
    return row["code"] if row else None


async def current_shift(conn: Conn, site_id: int) -> dict[str, Any] | None:
    """The site's newest open shift, with its crew. A closed shift waiting to be signed is
    not current: it is listed apart (``awaiting_signature``) and blocks nothing."""
    row = await _one(
        conn,
        """SELECT s.id, s.label, s.opened_at, NULL::timestamptz AS closed_at, false AS signed
           FROM shifts s
           WHERE s.site_id = %s AND s.opened_at > now() - interval '14 days'
             AND NOT EXISTS (SELECT 1 FROM shift_closures c WHERE c.shift_id = s.id)
           ORDER BY s.opened_at DESC, s.id DESC LIMIT 1""",
        (site_id,),
    )
    if row is not None:
        row["crew"] = await store.crew(conn, row["id"])
    return row


async def awaiting_signature(conn: Conn, site_id: int) -> tuple[list[dict[str, Any]], int]:
    """The site's closed shifts nobody signed yet (of late), the newest ``AWAITING_SHOWN``
    of them with their crew and how many trainee entries on each still wait for
    verification; and how many there are in all."""
    rows = await _all(
        conn,
        """SELECT s.id, s.label, s.opened_at, c.closed_at, c.closed_by, count(*) OVER () AS n,
                  (SELECT count(*) FROM entries e WHERE e.shift_id = s.id AND e.by_trainee
                     AND NOT EXISTS (SELECT 1 FROM entry_countersignatures x
                                     WHERE x.entry_id = e.id)) AS unverified
           FROM shifts s JOIN shift_closures c ON c.shift_id = s.id
           WHERE s.site_id = %s AND c.closed_at > now() - %s
             AND NOT EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id)
           ORDER BY c.closed_at DESC, s.id DESC LIMIT %s""",
        (site_id, UNSIGNED_SHOWN, AWAITING_SHOWN),
    )
    crews: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for shift_id, member in await store.crews(conn, list(crews)):
        crews[shift_id].append(member)
    for r in rows:
        r["crew"] = crews[r["id"]]
    return rows, int(rows[0]["n"]) if rows else 0


async def site_shift(conn: Conn, site_id: int, shift_id: int) -> dict[str, Any] | None:
    """One shift of the site (open or closed, signed or not), with its crew."""
    row = await _one(
        conn,
        """SELECT s.id, s.label, s.opened_at, c.closed_at,
                  EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id) AS signed
           FROM shifts s LEFT JOIN shift_closures c ON c.shift_id = s.id
           WHERE s.site_id = %s AND s.id = %s""",
        (site_id, shift_id),
    )
    if row is not None:
        row["crew"] = await store.crew(conn, row["id"])
    return row


async def pending_handoff(
    conn: Conn, site_id: int, before: datetime | None
) -> dict[str, Any] | None:
    """The newest handoff note from an earlier shift at the site that nobody acknowledged."""
    return await _one(
        conn,
        """SELECT n.id, n.body, n.written_at, n.from_shift_id, p.full_name AS written_by
           FROM handoff_notes n JOIN shifts s ON s.id = n.from_shift_id
           JOIN people p ON p.id = n.written_by
           WHERE s.site_id = %s AND (%s::timestamptz IS NULL OR s.opened_at < %s)
             AND s.opened_at > now() - interval '14 days'
             AND NOT EXISTS (SELECT 1 FROM handoff_acks a WHERE a.note_id = n.id)
           ORDER BY n.written_at DESC, n.id DESC LIMIT 1""",
        (site_id, before, before),
    )


async def own_handoff(conn: Conn, shift_id: int) -> dict[str, Any] | None:
    """The note the current shift wrote for the next one, if any (newest)."""
    return await _one(
        conn,
        "SELECT id, body, written_at FROM handoff_notes WHERE from_shift_id = %s"
        " ORDER BY id DESC LIMIT 1",
        (shift_id,),
    )


async def alarms(conn: Conn, site_id: int) -> list[dict[str, Any]]:
    """Unacknowledged warnings and alarms: every active one, and cleared ones of late."""
    # An acknowledgement is an entry linked to the event (index entries_event).
    return await _all(
        conn,
        """SELECT e.id, e.severity, e.message, e.tag_id, coalesce(t.name, '') AS tag_name,
                  e.started_at, e.ended_at, e.occurrences
           FROM events e LEFT JOIN tags t ON t.id = e.tag_id
           WHERE e.site_id = %s AND e.severity = ANY(%s)
             AND (e.ended_at IS NULL OR e.started_at > now() - %s)
             AND NOT EXISTS (SELECT 1 FROM entries a WHERE a.event_id = e.id
                             AND a.site_id = e.site_id AND a.kind = 'alarm_ack')
           ORDER BY e.started_at DESC LIMIT %s""",
        (site_id, ALARM_SEVERITIES, CLEARED_ALARMS_SHOWN, MAX_ALARMS),
    )


async def spark_points(
    conn: Conn, tag_ids: list[int], since: datetime, step_s: int
) -> dict[int, list[tuple[float, float | None]]]:
    """Per tag, (bucket start in epoch seconds, average of its good samples) since ``since``,
    in ``step_s`` buckets re-aggregated exactly from the minute rollups."""
    out: dict[int, list[tuple[float, float | None]]] = {t: [] for t in tag_ids}
    if not tag_ids:
        return out
    async with conn.cursor() as cur:
        await cur.execute(
            """SELECT tag_id, extract(epoch FROM time_bucket(make_interval(secs => %s), bucket))
                      ::float8 AS t, sum(sum) / nullif(sum(n_good), 0)
               FROM readings_1m WHERE tag_id = ANY(%s) AND bucket >= %s
               GROUP BY 1, 2 ORDER BY 1, 2""",
            (step_s, tag_ids, since),
            prepare=False,
        )
        for tag_id, t, avg in await cur.fetchall():
            out[tag_id].append((t, avg))
    return out


async def crew_candidates(conn: Conn) -> list[dict[str, Any]]:
    """People whose role in force lets them be on a crew, by name."""
    return await _all(
        conn,
        """SELECT p.id, p.full_name, r.role FROM people p
           JOIN LATERAL (SELECT role FROM person_roles WHERE person_id = p.id
                         ORDER BY id DESC LIMIT 1) r ON true
           WHERE r.role = ANY(%s) ORDER BY p.full_name, p.id""",
        (CREW_ROLES,),
    )


async def last_values(conn: Conn, site_id: int) -> dict[str, dict[str, Any]]:
    """Per entry kind, the fields of the site's newest entry of that kind (to offer again)."""
    rows = await _all(
        conn,
        """SELECT DISTINCT ON (kind) kind, data FROM entries
           WHERE site_id = %s AND occurred_at > now() - %s AND kind <> 'alarm_ack'
           ORDER BY kind, occurred_at DESC, id DESC""",
        (site_id, LAST_VALUES_WINDOW),
    )
    return {r["kind"]: r["data"] for r in rows}


async def recent_samples(conn: Conn, site_id: int) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT id, sample_point, sample_type, sampled_at FROM samples
           WHERE site_id = %s AND sampled_at > now() - %s ORDER BY sampled_at DESC, id DESC
           LIMIT 20""",
        (site_id, RECENT_SAMPLES),
    )


async def shift_entries(conn: Conn, shift_id: int) -> list[dict[str, Any]]:
    """The shift's entries as they stand (amendments applied)."""
    return await store.entries_where(conn, sql.SQL("e.shift_id = %s"), [shift_id], 1000)


async def shift_tally(conn: Conn, shift_id: int) -> tuple[int, int, dict[str, Any] | None]:
    """(entries, trainee entries not yet verified, the latest entry as it stands)."""
    row = await _one(
        conn,
        """SELECT count(*) AS n,
                  count(*) FILTER (WHERE e.by_trainee AND NOT EXISTS (
                      SELECT 1 FROM entry_countersignatures c WHERE c.entry_id = e.id))
                      AS unverified,
                  (array_agg(e.id ORDER BY e.occurred_at DESC, e.id DESC))[1] AS latest
           FROM entries e WHERE e.shift_id = %s""",
        (shift_id,),
    )
    assert row is not None
    latest = await store.entry(conn, row["latest"]) if row["latest"] is not None else None
    return int(row["n"]), int(row["unverified"]), latest


async def shift_samples(conn: Conn, shift_id: int) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT s.id, s.sample_point, s.sample_type, s.sampled_at,
                  (SELECT count(*) FROM sample_results r WHERE r.sample_id = s.id) AS results
           FROM samples s WHERE s.shift_id = %s ORDER BY s.sampled_at, s.id""",
        (shift_id,),
    )


async def alarm_messages(conn: Conn, event_ids: list[int]) -> dict[int, str]:
    """The messages of these events (an acknowledgement names its alarm by them)."""
    if not event_ids:
        return {}
    rows = await _all(conn, "SELECT id, message FROM events WHERE id = ANY(%s)", (event_ids,))
    return {r["id"]: r["message"] for r in rows}


async def people_names(conn: Conn, ids: list[int]) -> dict[int, str]:
    return await regulator_queries.names(conn, ids)


async def pin_allowed(conn: Conn, site_id: int) -> bool:
    allowed, _ = await store.site_settings(conn, site_id)
    return allowed


async def sources(conn: Conn, site_code: str) -> dict[str, dict[str, Any]]:
    """The collectors' devices and servers at the site, as the ingest process last
    published them (``ingest_health``): per component ("modbus:plc-1"), its state, the
    last good read and how long ago the row was written."""
    rows = await _all(
        conn,
        """SELECT component, state, detail->>'last_good_read' AS last_good_read,
                  extract(epoch FROM now() - updated_at)::float8 AS silent_s, updated_at
           FROM ingest_health WHERE site_code = %s AND kind <> 'writer'""",
        (site_code,),
    )
    return {r["component"]: r for r in rows}


async def tag_addresses(conn: Conn, tag_ids: list[int]) -> dict[int, str]:
    """Each tag's address as the collectors' configuration writes it ("plc-1;coil;0")."""
    if not tag_ids:
        return {}
    rows = await _all(conn, "SELECT id, address FROM tags WHERE id = ANY(%s)", (tag_ids,))
    return {r["id"]: r["address"] for r in rows}


async def tag_names(conn: Conn, site_id: int) -> dict[int, tuple[str, str]]:
    """Every tag of the site (retired ones too: old entries name them): (name, description)."""
    rows = await _all(conn, "SELECT id, name, description FROM tags WHERE site_id = %s", (site_id,))
    return {r["id"]: (r["name"], r["description"]) for r in rows}

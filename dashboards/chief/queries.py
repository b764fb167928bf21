"""What the chief operator's page reads besides the coverage report: the month's amendments
and values confirmed outside their plausible range at a facility, and trainee entries
still waiting for a countersignature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from logbook import store

AsyncConn = psycopg.AsyncConnection[Any]

# A month of amendments is a handful; this many means the page is not the place to read them.
MAX_AMENDMENTS = 500
MAX_AWAITING = 200

# Amendments of every kind of record at one site; each target joins to its site its own way.
AMENDMENTS_SQL = """
SELECT a.id, a.target, a.target_id, a.changes, a.reason, a.amended_by, p.full_name AS by_name,
       a.amended_at, a.after_signing, e.kind AS entry_kind,
       coalesce(r.unit, e.data->>'unit') AS unit,
       coalesce(e.shift_id, c.shift_id) AS shift_id,
       coalesce(r.sample_id, s.id) AS sample_id
FROM amendments a
JOIN people p ON p.id = a.amended_by
LEFT JOIN entries e ON a.target = 'entry' AND e.id = a.target_id
LEFT JOIN sample_results r ON a.target = 'result' AND r.id = a.target_id
LEFT JOIN samples s ON s.id = CASE a.target WHEN 'sample' THEN a.target_id
                                            WHEN 'result' THEN r.sample_id END
LEFT JOIN shift_crew c ON a.target = 'crew' AND c.id = a.target_id
LEFT JOIN shifts sh ON sh.id = c.shift_id
WHERE a.amended_at >= %(start)s AND a.amended_at < %(end)s
  AND coalesce(e.site_id, s.site_id, sh.site_id) = %(site)s
ORDER BY a.amended_at DESC, a.id DESC
LIMIT %(limit)s
"""


async def amendments_at(
    conn: AsyncConn, site_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Amendments made in [start, end) to the site's entries, samples, results and crews."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            AMENDMENTS_SQL, {"start": start, "end": end, "site": site_id, "limit": MAX_AMENDMENTS}
        )
        return await cur.fetchall()


# Values confirmed outside their plausible range at one site, shaped as a record's
# ``plausibility`` lists them, with the record they belong to.
CONFIRMATIONS_SQL = """
SELECT p.id, p.field, p.value, ARRAY[p.plausible_low, p.plausible_high] AS plausible, p.unit,
       p.subject AS of, p.reason, p.confirmed_by, p.confirmed_at, p.amendment_id,
       p.entry_id, p.result_id, r.sample_id, r.analyte
FROM plausibility_confirmations p
LEFT JOIN entries e ON e.id = p.entry_id
LEFT JOIN sample_results r ON r.id = p.result_id
LEFT JOIN samples s ON s.id = r.sample_id
WHERE p.confirmed_at >= %(start)s AND p.confirmed_at < %(end)s
  AND coalesce(e.site_id, s.site_id) = %(site)s
ORDER BY p.confirmed_at DESC, p.id DESC
LIMIT %(limit)s
"""


async def confirmations_at(
    conn: AsyncConn, site_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Values confirmed outside their plausible range in [start, end) at the site, newest
    first, each with its entry, or its result and sample."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            CONFIRMATIONS_SQL,
            {"start": start, "end": end, "site": site_id, "limit": MAX_AMENDMENTS},
        )
        return await cur.fetchall()


async def awaiting_countersignature(
    conn: AsyncConn, site_id: int, viewer_id: int
) -> list[dict[str, Any]]:
    """Trainee entries at the site with no countersignature yet, oldest first, each with
    ``viewer_on_duty``: whether the viewer is crew (not as trainee) of the entry's shift,
    which the logbook requires of whoever countersigns."""
    entries = await store.entries_where(
        conn,
        sql.SQL("e.site_id = %s AND e.by_trainee AND cs.entry_id IS NULL"),
        [site_id],
        MAX_AWAITING,
    )
    if not entries:
        return entries
    cur = await conn.execute(
        "SELECT s.id, s.label,"
        " EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id),"
        " EXISTS (SELECT 1 FROM shift_crew m WHERE m.shift_id = s.id AND m.person_id = %s"
        " AND m.shift_role <> 'trainee')"
        " FROM shifts s WHERE s.id = ANY(%s)",
        (viewer_id, sorted({e["shift_id"] for e in entries})),
    )
    rows = await cur.fetchall()
    shifts = {r[0]: {"label": r[1], "signed": r[2]} for r in rows}
    on_duty = {r[0] for r in rows if r[3]}
    for e in entries:
        e["viewer_on_duty"] = e["shift_id"] in on_duty
        e["shift"] = shifts.get(e["shift_id"], {"label": "", "signed": False})
    return entries

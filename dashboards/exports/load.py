"""What a report reads from the database: hourly rollups, lab results, shifts and crews.

Rollups are made fresh first: :func:`ensure_fresh` runs the rollup refresh until
no dirty mark made before the report was asked for is left for its tags and range,
so a report never reads an hour whose readings changed before it began and were not
rolled up since (it does not fall back to raw readings: a report waits for the
refresh, which the CLI's progress bar shows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
from psycopg import sql

from clearwell.errors import ClearwellError
from dashboards.exports.in_charge import Certificate, ShiftSpan, Stint
from dashboards.exports.mor import HOURLY_COLUMNS, LAB_COLUMNS
from dashboards.trends.rollups import LOCK_RETRY_S, refresh_once
from logbook import store
from sitefile.ranges import analyte_key

AsyncConn = psycopg.AsyncConnection[Any]
# Amended times may move a record into the month; records this far outside are read too.
AMEND_MARGIN = timedelta(days=31)


@dataclass(frozen=True)
class SiteRow:
    id: int
    code: str
    name: str
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


async def site(conn: AsyncConn, code: str) -> SiteRow:
    cur = await conn.execute("SELECT id, code, name, timezone FROM sites WHERE code = %s", (code,))
    row = await cur.fetchone()
    if row is None:
        raise ClearwellError(f"--site {code}: no such site")
    return SiteRow(*row)


async def tag_ids(conn: AsyncConn, site_id: int, names: Sequence[str]) -> dict[str, int]:
    cur = await conn.execute(
        "SELECT name, id FROM tags WHERE site_id = %s AND name = ANY(%s)", (site_id, list(names))
    )
    return {r[0]: r[1] for r in await cur.fetchall()}


async def pending_marks(
    conn: AsyncConn, ids: Sequence[int], lo: datetime, hi: datetime, through_seq: int
) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM rollup_dirty WHERE tag_id = ANY(%s)"
        " AND bucket_hour >= %s AND bucket_hour < %s AND seq <= %s",
        (list(ids), lo - timedelta(hours=1), hi, through_seq),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def ensure_fresh(
    conn: AsyncConn,
    ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Refresh rollups until no mark made before the call is left for these tags in
    [lo, hi); returns rounds run.

    Marks made meanwhile are for readings that arrived after the report was asked for:
    a live plant's writer marks the current hour of every tag each second, and waiting
    for those too kept a report of the current month refreshing for hundreds of rounds.
    ``conn`` must be in autocommit mode (each refresh round is its own transaction).
    ``progress(done, total)`` is told the marks handled so far.
    """
    cur = await conn.execute("SELECT coalesce(max(seq), 0) FROM rollup_dirty")
    row = await cur.fetchone()
    through = int(row[0]) if row else 0
    total = await pending_marks(conn, ids, lo, hi, through)
    rounds = 0
    left = total
    while left:
        result = await refresh_once(conn)
        rounds += 1
        if result.locked_out:
            await asyncio.sleep(LOCK_RETRY_S)
        left = await pending_marks(conn, ids, lo, hi, through)
        if progress:
            progress(max(total - left, 0), total)
    return rounds


async def hourly_frame(
    conn: AsyncConn, site_id: int, names: Sequence[str], lo: datetime, hi: datetime
) -> pd.DataFrame:
    """``readings_1h`` rows of the named tags in [lo, hi), columns HOURLY_COLUMNS."""
    cur = conn.cursor(binary=True)
    await cur.execute(
        "SELECT t.name, h.bucket, h.n_good, h.sum, h.min, h.max, h.last"
        " FROM readings_1h h JOIN tags t ON t.id = h.tag_id"
        " WHERE t.site_id = %s AND t.name = ANY(%s) AND h.bucket >= %s AND h.bucket < %s",
        (site_id, list(names), lo, hi),
    )
    rows = await cur.fetchall()
    frame = pd.DataFrame(rows, columns=list(HOURLY_COLUMNS))
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True)
    for col in ("sum", "min", "max", "last"):
        frame[col] = frame[col].astype("float64")
    frame["n_good"] = frame["n_good"].astype("int64")
    return frame


async def samples(
    conn: AsyncConn, site_id: int, lo: datetime, hi: datetime
) -> list[dict[str, Any]]:
    """Samples with their results, custody and amendments folded in, sampled (as amended)
    within [lo, hi)."""
    from logbook.store import load_samples

    found = await load_samples(
        conn,
        sql.SQL("site_id = %s AND sampled_at >= %s AND sampled_at < %s"),
        [site_id, lo - AMEND_MARGIN, hi + AMEND_MARGIN],
        1_000_000,
    )
    return [s for s in found if lo <= s["sampled_at"] < hi]


def lab_frame(found: Sequence[dict[str, Any]], analytes: Sequence[str]) -> pd.DataFrame:
    """Current results (after amendments) of the analytes, columns LAB_COLUMNS; an analyte
    is matched by :func:`analyte_key` and reported under the permit's spelling."""
    wanted = {analyte_key(a): a for a in analytes}
    rows = [
        (
            wanted[analyte_key(r["analyte"])],
            pd.Timestamp(s["sampled_at"]).tz_convert(UTC),
            r["value"],
            r["qualifier"],
            r["detection_limit"],
        )
        for s in found
        for r in s["results"]
        if analyte_key(r["analyte"]) in wanted
    ]
    frame = pd.DataFrame(rows, columns=list(LAB_COLUMNS))
    frame["sampled_at"] = pd.to_datetime(frame["sampled_at"], utc=True)
    return frame


async def shifts_and_crews(
    conn: AsyncConn, site_id: int, lo: datetime, hi: datetime, now: datetime
) -> tuple[list[ShiftSpan], list[Stint]]:
    cur = await conn.execute(
        "SELECT s.id, s.label, s.opened_at, c.closed_at FROM shifts s"
        " LEFT JOIN shift_closures c ON c.shift_id = s.id"
        " WHERE s.site_id = %s AND s.opened_at < %s AND coalesce(c.closed_at, %s) > %s"
        " ORDER BY s.opened_at, s.id",
        (site_id, hi + AMEND_MARGIN, now, lo - AMEND_MARGIN),
    )
    shifts = [ShiftSpan(r[0], r[1], r[2], r[3] or now) for r in await cur.fetchall()]
    stints = [
        Stint(
            shift_id,
            m["person_id"],
            m["full_name"],
            m["shift_role"],
            m["arrived_at"],
            m["left_at"],
        )
        for shift_id, m in await store.crews(conn, [s.id for s in shifts])
    ]
    return [s for s in shifts if s.start < hi and s.end > lo], stints


async def certificates(conn: AsyncConn, person_ids: Sequence[int]) -> list[Certificate]:
    """Certificates in force (neither superseded nor retracted) of these people."""
    cur = await conn.execute(
        "SELECT oc.person_id, oc.state, oc.category, oc.grade, oc.number, oc.kind, oc.issued,"
        " oc.expires FROM operator_certificates oc"
        " WHERE oc.person_id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM operator_certificates s WHERE s.supersedes = oc.id)"
        " AND NOT EXISTS (SELECT 1 FROM operator_certificate_retractions r"
        "                 WHERE r.certificate_id = oc.id)",
        (list(person_ids),),
    )
    return [Certificate(*r) for r in await cur.fetchall()]


async def person(conn: AsyncConn, username: str) -> tuple[int, str, str] | None:
    """(id, full name, role in force) of a username."""
    cur = await conn.execute(
        "SELECT p.id, p.full_name, r.role FROM people p CROSS JOIN LATERAL"
        " (SELECT role FROM person_roles WHERE person_id = p.id ORDER BY id DESC LIMIT 1) r"
        " WHERE p.username = %s",
        (username,),
    )
    row = await cur.fetchone()
    return (row[0], row[1], row[2]) if row else None


async def name(conn: AsyncConn, person_id: int) -> str:
    """A person's full name."""
    cur = await conn.execute("SELECT full_name FROM people WHERE id = %s", (person_id,))
    row = await cur.fetchone()
    return str(row[0]) if row else f"person {person_id}"

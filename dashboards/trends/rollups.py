"""Per-minute and per-hour rollups of readings, kept up to date from dirty-hour marks.

The ingest writer marks the (tag, hour) pairs of every batch it inserts, in the
same transaction (:class:`DirtyHours`; other writers use :func:`mark_dirty` or the
SQL in :func:`mark_dirty_sql`); the refresh job (:func:`refresh_once`, run every
few seconds by the web app and on demand by ``clearwell rollups refresh``) takes a
bounded set of marks, recomputes those hours of ``readings_1m`` from ``readings``
and of ``readings_1h`` from the fresh minutes, and deletes exactly the marks it
took, all in one transaction.

Why this is safe against a writer marking the same hour meanwhile: the marks are
taken by a ``DELETE … RETURNING``, which only sees committed marks, and the
writer commits its readings with its marks; so every mark taken has its readings
visible to the recompute statements that follow (each takes a newer snapshot),
and a mark committed after the take stays in the table for the next round. A
transaction-level advisory lock keeps two refreshers (the web app and the CLI,
or two app processes) from recomputing the same hour from different snapshots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

HOUR = timedelta(hours=1)
# (tag, hour) pairs taken per transaction: bounds a refresh transaction to a few
# hundred hours of readings (about a second of work for 1 s tags on this machine).
DEFAULT_BATCH = 200
# pg_try_advisory_xact_lock key that serialises refreshers ("rlup").
_LOCK_KEY = 0x726C7570
LOCK_RETRY_S = 0.2


_MARK_DIRTY = "SELECT clearwell_mark_dirty(%s::int4[], %s::timestamptz[])"
_COPY_MARKS = "COPY rollup_dirty (tag_id, bucket_hour, from_time) FROM STDIN (FORMAT BINARY)"
_MARK_TYPES = ("int4", "timestamptz", "timestamptz")

# Picks the (tag, hour) pairs marked longest ago and takes every mark of them,
# so a backlog of many marks per pair goes in one round. Each pair comes with the
# minute to recompute from: the earliest from_time of its marks, or the whole hour
# if any mark has none.
_TAKE = """
WITH pick AS (
    SELECT tag_id, bucket_hour FROM rollup_dirty
    GROUP BY tag_id, bucket_hour ORDER BY min(seq) LIMIT %(limit)s
), taken AS (
    DELETE FROM rollup_dirty d USING pick p
    WHERE d.tag_id = p.tag_id AND d.bucket_hour = p.bucket_hour
    RETURNING d.tag_id, d.bucket_hour, d.from_time
)
SELECT tag_id, bucket_hour,
       CASE WHEN bool_or(from_time IS NULL) THEN bucket_hour
            ELSE time_bucket(INTERVAL '1 minute', min(from_time)) END
FROM taken GROUP BY tag_id, bucket_hour ORDER BY bucket_hour, tag_id
"""

# The dirty pairs are passed as parallel arrays, unnested as d (tag_id, hour,
# from_minute): the minute rollups are recomputed from from_minute to the end of
# the hour, then the hour from its minutes. Each hour is read through a LATERAL
# subquery, which keeps the plan a loop of index range scans, one per dirty
# hour, whatever the planner estimates: a join on tag_id alone with the time
# range as a filter grows with the square of the hours per tag (measured: 62 s
# instead of about 7 s for a month of one 1 s tag).
# The extra bounds lo/hi (the earliest and one past the latest hour taken) let
# TimescaleDB skip, at plan time, the chunks no dirty hour falls in.
# A sample is good when its OPC UA severity bits (the top two) are 00 and it has
# a value; -1073741824 is 0xC0000000 as a signed 32-bit integer.

# The minutes to clear come as one (tag_id, bucket) pair per minute (see
# minute_keys), so the join is on the whole key, which every plan the planner may
# pick does in time linear in the minutes and the rows of the chunks in [lo, hi)
# (hash join, merge join, or an index probe per minute), and the unnested arrays'
# length is known to the planner. The earlier form joined the dirty hours to a
# generate_series of minute offsets: the minute was an expression of both, so on
# chunks without statistics (every fresh chunk until autovacuum analyses it) the
# planner joined on tag_id alone and filtered 60 x (rows x dirty hours of the tag)
# pairs: 77 million for one round of a backfill, 16 s instead of 0.1 s (measured).
# The keys go in binary: up to 12,000 times a round took 50-80 ms to dump as text.
_DELETE_1M = """
DELETE FROM readings_1m m
USING unnest(%(minute_tags)b::int4[], %(minutes)b::timestamptz[]) AS k (tag_id, bucket)
WHERE m.tag_id = k.tag_id AND m.bucket = k.bucket AND m.bucket >= %(lo)s AND m.bucket < %(hi)s
"""

_INSERT_1M = """
INSERT INTO readings_1m (tag_id, bucket, n_good, n_bad, sum, min, max, first, last,
                         first_time, last_time, last_status)
SELECT d.tag_id, s.*
FROM unnest(%(tags)s::int4[], %(hours)s::timestamptz[], %(froms)s::timestamptz[])
         AS d (tag_id, hour, from_minute)
CROSS JOIN LATERAL (
    SELECT time_bucket(INTERVAL '1 minute', r.time) AS bucket,
           count(*) FILTER (WHERE r.good), count(*) FILTER (WHERE NOT r.good),
           sum(r.value) FILTER (WHERE r.good), min(r.value) FILTER (WHERE r.good),
           max(r.value) FILTER (WHERE r.good),
           first(r.value, r.time) FILTER (WHERE r.good),
           last(r.value, r.time) FILTER (WHERE r.good),
           min(r.time), max(r.time), last(r.status, r.time)
    FROM (
        SELECT time, value, status, ((status & -1073741824) = 0 AND value IS NOT NULL) AS good
        FROM readings
        WHERE tag_id = d.tag_id AND time >= d.from_minute AND time < d.hour + INTERVAL '1 hour'
          AND time >= %(lo)s AND time < %(hi)s
    ) r
    GROUP BY 1
) s
"""

_DELETE_1H = """
DELETE FROM readings_1h h
USING unnest(%(tags)s::int4[], %(hours)s::timestamptz[]) AS d (tag_id, hour)
WHERE h.tag_id = d.tag_id AND h.bucket = d.hour AND h.bucket >= %(lo)s AND h.bucket < %(hi)s
"""

_INSERT_1H = """
INSERT INTO readings_1h (tag_id, bucket, n_good, n_bad, sum, min, max, first, last,
                         first_time, last_time, last_status)
SELECT d.tag_id, d.hour, s.*
FROM unnest(%(tags)s::int4[], %(hours)s::timestamptz[]) AS d (tag_id, hour)
CROSS JOIN LATERAL (
    SELECT sum(m.n_good), sum(m.n_bad), sum(m.sum), min(m.min), max(m.max),
           first(m.first, m.bucket) FILTER (WHERE m.n_good > 0),
           last(m.last, m.bucket) FILTER (WHERE m.n_good > 0),
           min(m.first_time) AS first_time, max(m.last_time), last(m.last_status, m.bucket)
    FROM readings_1m m
    WHERE m.tag_id = d.tag_id AND m.bucket >= d.hour AND m.bucket < d.hour + INTERVAL '1 hour'
      AND m.bucket >= %(lo)s AND m.bucket < %(hi)s
) s
WHERE s.first_time IS NOT NULL
"""

_HORIZON = "SELECT dropped_before FROM retention_horizon WHERE hypertable = 'readings'"

_MARK_RANGE = """
INSERT INTO rollup_dirty (tag_id, bucket_hour)
SELECT tag_id, hour FROM (
    SELECT DISTINCT tag_id, time_bucket(INTERVAL '1 hour', time) AS hour
    FROM readings
    WHERE time >= %(since)s AND time < %(until)s
      AND (%(tags)s::int4[] IS NULL OR tag_id = ANY(%(tags)s::int4[]))
    UNION
    -- Hours rolled up before their readings were deleted: recomputed to nothing
    -- (but not those retention dropped: refresh_once keeps their rollups).
    SELECT tag_id, bucket FROM readings_1h
    WHERE bucket >= %(since)s AND bucket < %(until)s
      AND (%(tags)s::int4[] IS NULL OR tag_id = ANY(%(tags)s::int4[]))
) h
ORDER BY hour, tag_id
"""


def hour_of(t: datetime) -> datetime:
    """The UTC hour a time falls in (what ``time_bucket('1 hour', …)`` gives)."""
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: readings times must carry a zone")
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class DirtyHours:
    """The (tag, hour) pairs of a batch of ingest rows, and the marks that say so.

    The ingest writer's reaction to a batch (``clearwell.hooks.READINGS_WRITTEN``):
    it is fed the batch's rows ``(time, tag_id, …)`` as collectors submit them
    (:meth:`add`), and :meth:`write` marks each pair once, inside the transaction
    that inserts the rows, with the earliest time the batch holds in that hour, so
    the refresh recomputes from that minute on.
    """

    __slots__ = ("_earliest", "_hour", "_last")

    def __init__(self) -> None:
        self._earliest: dict[tuple[int, float], datetime] = {}
        self._last: datetime | None = None
        self._hour = 0.0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        # Every ingested row passes here: the rows of one poll cycle share one time, so
        # the hour is computed once per run of equal times, and keys hold the hour as a
        # float, which hashes far faster than a datetime.
        earliest = self._earliest
        get = earliest.get
        last, hour = self._last, self._hour
        for row in rows:
            t = row[0]
            if t != last:
                if t.tzinfo is None:
                    hour_of(t)  # raises: naive times are refused
                hour = t.timestamp() // 3600
                last = t
            key = (row[1], hour)
            seen = get(key)
            if seen is None or t < seen:
                earliest[key] = t
        self._last, self._hour = last, hour

    def __len__(self) -> int:
        return len(self._earliest)

    def pairs(self) -> tuple[list[int], list[datetime]]:
        """Tag ids and each pair's earliest time, as parallel lists in (tag, hour) order."""
        keys = sorted(self._earliest)
        return [k[0] for k in keys], [self._earliest[k] for k in keys]

    def write(self, conn: psycopg.Connection[Any]) -> int:
        """Mark the pairs dirty in the connection's current transaction; returns how many."""
        if not self._earliest:
            return 0
        # Every ingest batch waits for this: a binary COPY of ready (tag, hour, earliest)
        # rows took 7.6 ms for 1,000 marks, clearwell_mark_dirty's unnest and grouping 12.
        starts: dict[float, datetime] = {}  # a batch spans an hour or two: made once each
        with conn.cursor() as cur, cur.copy(_COPY_MARKS) as copy:
            copy.set_types(_MARK_TYPES)
            for (tag, hour), t in self._earliest.items():
                start = starts.get(hour)
                if start is None:
                    start = starts[hour] = datetime.fromtimestamp(hour * 3600, UTC)
                copy.write_row((tag, start, t))
        return len(self._earliest)


def dirty_hours(rows: Iterable[Sequence[Any]]) -> tuple[list[int], list[datetime]]:
    """Each (tag id, hour) of ingest rows ``(time, tag_id, …)``, as its earliest time.

    Returned as two parallel lists (tag ids, times), the parameters of
    :func:`mark_dirty_sql`; the earliest time lets the refresh start from that minute.
    """
    marks = DirtyHours()
    marks.add(rows)
    return marks.pairs()


def mark_dirty_sql() -> str:
    """SQL marking hours dirty; parameters: a list of tag ids and a parallel list of times.

    Times need not be distinct (the function groups them by tag and hour and keeps
    the earliest), but passing :func:`dirty_hours` of a batch keeps the arrays small.
    """
    return _MARK_DIRTY


def mark_dirty(conn: psycopg.Connection[Any], rows: Iterable[Sequence[Any]]) -> int:
    """Mark the hours of these ingest rows dirty, in the connection's current transaction."""
    marks = DirtyHours()
    marks.add(rows)
    return marks.write(conn)


MINUTE = timedelta(minutes=1)


def minute_keys(
    taken: Iterable[tuple[int, datetime, datetime]],
) -> tuple[list[int], list[datetime]]:
    """The minute buckets to recompute for dirty pairs ``(tag id, hour, from minute)``.

    Each pair stands for its minutes from ``from minute`` to the end of its hour;
    returned as two parallel lists (tag ids, UTC minute starts), in UTC so that a
    zone with a shift inside an hour cannot bend the arithmetic.
    """
    tags: list[int] = []
    minutes: list[datetime] = []
    for tag_id, hour, from_minute in taken:
        start, end = from_minute.astimezone(UTC), hour.astimezone(UTC) + HOUR
        if start.second or start.microsecond or not hour.astimezone(UTC) <= start < end:
            raise ValueError(
                f"tag {tag_id}: recompute start {from_minute.isoformat()} is not a whole"
                f" minute of the hour {hour.isoformat()}"
            )
        while start < end:
            tags.append(tag_id)
            minutes.append(start)
            start += MINUTE
    return tags, minutes


@dataclass(frozen=True)
class RefreshResult:
    marks: int  # distinct (tag, hour) pairs taken: recomputed, or past retention's horizon
    minutes: int  # readings_1m rows written
    hours: int  # readings_1h rows written
    locked_out: bool = False  # another refresher held the lock; nothing was done


async def refresh_once(
    conn: psycopg.AsyncConnection[Any], batch: int = DEFAULT_BATCH
) -> RefreshResult:
    """Take the marks of up to ``batch`` (tag, hour) pairs and recompute them, in one transaction.

    ``conn`` must not be inside a transaction (the pool's connections are not).
    """
    async with conn.transaction():
        cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_LOCK_KEY,))
        got = await cur.fetchone()
        if not got or not got[0]:
            return RefreshResult(0, 0, 0, locked_out=True)
        cur = await conn.execute(_TAKE, {"limit": batch}, prepare=False)
        taken = await cur.fetchall()
        if not taken:
            return RefreshResult(0, 0, 0)
        marks = len(taken)
        # Hours whose raw readings retention dropped are the rollups' alone now: a mark
        # there (late readings, a backfill's range) must not recompute them from the
        # little that is left, so it is taken and dropped.
        cur = await conn.execute(_HORIZON, prepare=False)
        horizon = await cur.fetchone()
        if horizon is not None:
            taken = [t for t in taken if t[1] >= horizon[0]]
            if not taken:
                return RefreshResult(marks, 0, 0)
        params: dict[str, Any] = {
            "tags": [t for t, _, _ in taken],
            "hours": [h for _, h, _ in taken],
            "froms": [f for _, _, f in taken],
            "lo": min(h for _, h, _ in taken),
            "hi": max(h for _, h, _ in taken) + HOUR,
        }
        params["minute_tags"], params["minutes"] = minute_keys(taken)
        # Never prepared: after a prepared statement's fifth run PostgreSQL may switch
        # to a generic plan, which cannot see the hours or skip chunks; measured, a
        # round of 300 tag-hours went from 0.2 s to 30-50 s on its eleventh run on the
        # same connection (the web app's refresher keeps its connections).
        await conn.execute(_DELETE_1M, params, prepare=False)
        minutes = (await conn.execute(_INSERT_1M, params, prepare=False)).rowcount
        await conn.execute(_DELETE_1H, params, prepare=False)
        hours = (await conn.execute(_INSERT_1H, params, prepare=False)).rowcount
        return RefreshResult(marks, minutes, hours)


async def refresh_all(
    conn: psycopg.AsyncConnection[Any],
    batch: int = DEFAULT_BATCH,
    wait_for_lock: bool = False,
) -> int:
    """Refresh until no mark is left; returns the (tag, hour) pairs recomputed.

    When another refresher holds the lock this returns at once (the background
    job: that refresher does the work), or with ``wait_for_lock`` retries until
    it can go on (the CLI, which promises everything is done when it exits).
    """
    done = 0
    while True:
        result = await refresh_once(conn, batch)
        done += result.marks
        if result.locked_out and wait_for_lock:
            await asyncio.sleep(LOCK_RETRY_S)
            continue
        if result.locked_out or result.marks == 0:
            return done


async def mark_range(
    conn: psycopg.AsyncConnection[Any],
    since: datetime,
    until: datetime,
    tag_ids: Sequence[int] | None = None,
) -> int:
    """Mark every hour in [since, until) that has readings or rollups; for backfills and repairs.

    Scans the readings of the range once, so a long range over many tags takes a while.
    """
    params = {"since": since, "until": until, "tags": list(tag_ids) if tag_ids else None}
    async with conn.transaction():
        cur = await conn.execute(_MARK_RANGE, params)
        return cur.rowcount


async def pending_marks(conn: psycopg.AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT count(*) FROM rollup_dirty")
    row = await cur.fetchone()
    return int(row[0]) if row else 0

"""Staffing stamps: who was certified on site and who was in DRC when an entry was made.

``stamp_entries(conn, entry_ids)`` is the hook the logbook calls in its entry-write
transaction: it loads the facility's facts around the entries' times (on the same
connection, so it sees the uncommitted entry), runs the engine over that short window and
inserts one ``entry_staffing`` row per entry. It never commits.

``stamp_pending`` stamps what is not stamped yet (entries written before a profile existed,
or while the hook was not wired); ``recompute`` re-runs the engine over a period and
appends an ``entry_staffing_revisions`` row for each entry whose stamp changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.json import Jsonb

from compliance.adapter import EntryFact, Loaded, NoProfile, Site, in_pipeline, load
from compliance.engine import check
from compliance.report import Report
from logbook import audit

log = logging.getLogger(__name__)

STAMP_VERSION = 1
# Entries stamped per engine run: bounds memory when backfilling a year.
BATCH = 5000
_TICK = timedelta(microseconds=1)

# The entries to stamp, with their (amended) times; stamped ones are skipped.
_FACTS_SQL = """
SELECT e.id, e.site_id, coalesce(m.t, e.occurred_at), e.recorded_by, e.operational,
       cs.person_id, s.code, s.name, s.timezone, s.state, s.category, e.kind, cs.signed_at
FROM entries e
JOIN sites s ON s.id = e.site_id
LEFT JOIN LATERAL (
    SELECT (a.changes->>'occurred_at')::timestamptz AS t FROM amendments a
    WHERE a.target = 'entry' AND a.target_id = e.id AND a.changes ? 'occurred_at'
    ORDER BY a.id DESC LIMIT 1
) m ON true
LEFT JOIN entry_countersignatures cs ON cs.entry_id = e.id
WHERE e.id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM entry_staffing st WHERE st.entry_id = e.id)
ORDER BY e.site_id, 3, e.id
"""

# The stamps travel as one jsonb array, paired with the ids by position: a jsonb[]
# parameter costs psycopg an adapter per element, about 0.1 ms of CPU on every write.
_INSERT_SQL = """
INSERT INTO entry_staffing (entry_id, stamp)
SELECT u.i, s.stamp
FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(i, n)
JOIN jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS s(stamp, n) USING (n)
ON CONFLICT (entry_id) DO NOTHING
RETURNING entry_id
"""


def stamps_from(report: Report, names: Mapping[int, str]) -> dict[int, dict[str, Any]]:
    """Entry id -> the stamp kept with it (pure). Class and rules are those at its time."""
    spans = report.class_spans
    starts = [s.start for s in spans]

    def people(ids: Sequence[str]) -> list[dict[str, Any]]:
        return [{"person_id": int(i), "name": names.get(int(i))} for i in ids]

    out = {}
    for e in report.entries:
        if not e.id.isdigit():  # a sample or a result, judged beside the entries
            continue
        span = spans[max(0, bisect_right(starts, e.time) - 1)] if spans else None
        out[int(e.id)] = {
            "version": STAMP_VERSION,
            "time": e.time.astimezone(UTC).isoformat(),
            "rules": report.rules,
            "facility_class": span.facility_class if span else report.facility_class,
            "certified_on_duty": people(e.certified_on_duty),
            "drc": people(e.drc),
        }
    return out


async def _compute(
    conn: psycopg.AsyncConnection[Any], site: Site, facts: Sequence[EntryFact], now: datetime
) -> dict[int, dict[str, Any]]:
    """Stamps for ``facts`` (one site, sorted by time), one engine run per batch."""
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(facts), BATCH):
        chunk = facts[i : i + BATCH]
        start, end = chunk[0].time, chunk[-1].time + _TICK
        loaded: Loaded = await load(conn, site, start, end, now, entries=chunk, with_training=False)
        out.update(stamps_from(check(loaded.scenario), loaded.names))
    return out


async def _insert(conn: psycopg.AsyncConnection[Any], stamps: Mapping[int, dict[str, Any]]) -> int:
    if not stamps:
        return 0
    # The entries were unstamped when read, in this transaction. The result is read
    # (in pipeline mode, one round trip) so that a failing insert fails here, inside the
    # savepoint, rather than at the caller's COMMIT, taking the entry with it.
    ids = list(stamps)
    cur = await conn.execute(_INSERT_SQL, (ids, Jsonb([stamps[i] for i in ids])))
    await cur.fetchall()
    return len(ids)


async def stamp_entries(
    conn: psycopg.AsyncConnection[Any],
    entry_ids: Sequence[int],
    now: datetime | None = None,
    *,
    strict: bool = False,
) -> int:
    """Stamps the given entries that have no stamp yet; returns how many it stamped.

    Runs inside the caller's transaction on ``conn`` (pipeline mode or not) and does not
    commit. Entries at a facility without a compliance profile are left unstamped (the
    background pass stamps them once a profile exists). ``now`` ends shifts still open
    (default: the clock).

    A failure to stamp never costs the caller its write: the work runs in a savepoint,
    and an error rolls the savepoint back, is logged, and leaves the entries unstamped
    for the background pass (``strict=True`` raises it instead).
    """
    if not entry_ids:
        return 0
    try:
        if _in_pipelined_transaction(conn):
            return await _stamp_in_savepoint(conn, entry_ids, now or datetime.now(UTC))
        async with conn.transaction():
            return await _stamp(conn, entry_ids, now or datetime.now(UTC))
    except Exception:
        if strict:
            raise
        log.exception("staffing stamps for entries %s failed; left for the stamp pass", entry_ids)
        return 0


def _in_pipelined_transaction(conn: psycopg.AsyncConnection[Any]) -> bool:
    return in_pipeline(conn) and conn.pgconn.transaction_status == pq.TransactionStatus.INTRANS


async def _stamp_in_savepoint(
    conn: psycopg.AsyncConnection[Any], entry_ids: Sequence[int], now: datetime
) -> int:
    """``_stamp`` in a savepoint whose commands travel in the caller's pipeline.

    ``conn.transaction()`` on a pipelined connection syncs the pipeline on the way in
    and out, twice each: four round trips on every entry write. Here SAVEPOINT and
    RELEASE are queued with the statements around them; only a failure syncs, to leave
    the aborted pipeline before rolling back to the savepoint.
    """
    await conn.execute("SAVEPOINT stamp_entries")
    try:
        stamped = await _stamp(conn, entry_ids, now)
    except BaseException:
        # Entering a nested pipeline syncs; what failed was already raised.
        with contextlib.suppress(psycopg.Error):
            async with conn.pipeline():
                pass
        await conn.execute("ROLLBACK TO SAVEPOINT stamp_entries")
        await conn.execute("RELEASE SAVEPOINT stamp_entries")
        raise
    await conn.execute("RELEASE SAVEPOINT stamp_entries")
    return stamped


async def _stamp(
    conn: psycopg.AsyncConnection[Any], entry_ids: Sequence[int], now: datetime
) -> int:
    cur = await conn.execute(_FACTS_SQL, (list(entry_ids),))
    by_site: dict[Site, list[EntryFact]] = defaultdict(list)
    for r in await cur.fetchall():
        by_site[Site(r[1], *r[6:11])].append(EntryFact(r[0], r[2], r[3], r[4], r[5], r[11], r[12]))
    stamps: dict[int, dict[str, Any]] = {}
    for site, facts in by_site.items():
        try:
            stamps.update(await _compute(conn, site, facts, now))
        except NoProfile:
            continue
    return await _insert(conn, stamps)


_PENDING_SQL = """
SELECT e.id FROM entries e
WHERE NOT EXISTS (SELECT 1 FROM entry_staffing st WHERE st.entry_id = e.id)
  AND EXISTS (SELECT 1 FROM facility_profiles p WHERE p.site_id = e.site_id)
  AND (%(site)s::int IS NULL OR e.site_id = %(site)s::int)
  AND e.id > %(after)s
ORDER BY e.id LIMIT %(limit)s
"""


async def stamp_pending(
    conn: psycopg.AsyncConnection[Any], site_id: int | None = None, batch: int = BATCH
) -> int:
    """Stamps every unstamped entry (of one site, or all), a transaction per batch.

    ``conn`` must not be inside a transaction of the caller's: each batch commits.
    """
    total = 0
    after = 0
    while True:
        async with conn.transaction():
            cur = await conn.execute(
                _PENDING_SQL, {"site": site_id, "after": after, "limit": batch}
            )
            ids = [r[0] for r in await cur.fetchall()]
            if not ids:
                return total
            stamped = await stamp_entries(conn, ids)
            if stamped:
                # Every record row is named by an audit row (logbook.records).
                await audit.append(
                    conn,
                    audit.SYSTEM,
                    "compliance.stamp",
                    "entries",
                    None,
                    site_id,
                    {"stamped": stamped, "from_entry": ids[0], "to_entry": ids[-1]},
                )
            total += stamped
            after = ids[-1]


_CURRENT_SQL = """
SELECT e.id, coalesce(r.stamp, st.stamp)
FROM entries e
LEFT JOIN entry_staffing st ON st.entry_id = e.id
LEFT JOIN LATERAL (SELECT stamp FROM entry_staffing_revisions v WHERE v.entry_id = e.id
                   ORDER BY v.id DESC LIMIT 1) r ON true
WHERE e.id = ANY(%s)
"""

_REVISE_SQL = """
INSERT INTO entry_staffing_revisions (entry_id, stamp, reason)
SELECT i, s, %s FROM unnest(%s::bigint[], %s::jsonb[]) AS u(i, s)
"""


async def recompute(
    conn: psycopg.AsyncConnection[Any],
    site: Site,
    start: datetime,
    end: datetime,
    reason: str,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Re-stamps the site's entries in ``[start, end)`` from the records as they are now.

    Unstamped entries get their first stamp; a stamp that differs from the one in force is
    superseded by a revision row with ``reason``. Returns (stamped, revised). Does not commit.
    """
    now = now or datetime.now(UTC)
    loaded = await load(conn, site, start, end, now, with_training=False)
    fresh = stamps_from(check(loaded.scenario), loaded.names)
    if not fresh:
        return 0, 0
    cur = await conn.execute(_CURRENT_SQL, (list(fresh),))
    current = {r[0]: r[1] for r in await cur.fetchall()}
    first = {i: s for i, s in fresh.items() if current.get(i) is None}
    changed = {i: s for i, s in fresh.items() if current.get(i) not in (None, s)}
    stamped = await _insert(conn, first)
    if changed:
        ids = list(changed)
        await conn.execute(_REVISE_SQL, (reason, ids, [Jsonb(changed[i]) for i in ids]))
    if stamped or changed:
        await audit.append(
            conn,
            audit.SYSTEM,
            "compliance.restamp",
            "site",
            site.id,
            site.id,
            {"stamped": stamped, "revised": len(changed), "reason": reason},
        )
    return stamped, len(changed)


async def stamp_service(dsn: str, interval: float = 60.0) -> None:
    """Stamps unstamped entries every ``interval`` seconds until cancelled."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn) as conn:
                n = await stamp_pending(conn)
                if n:
                    log.info("stamped %d entries", n)
        except psycopg.Error as exc:
            log.warning("staffing stamps: %s", str(exc).strip().splitlines()[0])
        await asyncio.sleep(interval)

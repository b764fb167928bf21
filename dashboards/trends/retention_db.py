"""Retention's database side: the sites' policies, the chunks that would go, the drop.

The drop itself is ``clearwell_drop_chunks`` (migration 0404), which holds back raw
readings the rollups still need whatever it is asked; see
:mod:`dashboards.trends.retention` for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from dashboards.trends.retention import DEFAULT, Cutoff, Policy, SitePolicy, cutoffs

_SITES = """
SELECT s.code, s.timezone, r.raw_days, r.minute_days, r.hour_days
FROM sites s LEFT JOIN site_retention r ON r.site_id = s.id ORDER BY s.code
"""
_CHUNKS = """
SELECT c.chunk_schema || '.' || c.chunk_name, c.range_start, c.range_end,
       pg_total_relation_size(format('%%I.%%I', c.chunk_schema, c.chunk_name)::regclass)
FROM timescaledb_information.chunks c
WHERE c.hypertable_schema = 'public' AND c.hypertable_name = %s AND c.range_end <= %s
ORDER BY c.range_start
"""
_SET = """
INSERT INTO site_retention (site_id, raw_days, minute_days, hour_days)
SELECT id, %s, %s, %s FROM sites WHERE code = %s
ON CONFLICT (site_id) DO UPDATE SET raw_days = excluded.raw_days,
    minute_days = excluded.minute_days, hour_days = excluded.hour_days, updated_at = now()
"""


@dataclass(frozen=True)
class Chunk:
    name: str
    start: datetime
    end: datetime
    bytes: int


@dataclass(frozen=True)
class Planned:
    cutoff: Cutoff
    chunks: list[Chunk]


async def site_policies(conn: psycopg.AsyncConnection[Any]) -> list[SitePolicy]:
    rows = await (await conn.execute(_SITES)).fetchall()
    return [
        SitePolicy(code, tz, Policy(raw, minute, hour) if raw is not None else DEFAULT)
        for code, tz, raw, minute, hour in rows
    ]


async def oldest_mark(conn: psycopg.AsyncConnection[Any]) -> datetime | None:
    row = await (await conn.execute("SELECT min(bucket_hour) FROM rollup_dirty")).fetchone()
    return row[0] if row else None


async def plan(conn: psycopg.AsyncConnection[Any]) -> list[Planned]:
    """What retention would drop now, per hypertable."""
    cur = await conn.execute("SELECT now()")
    row = await cur.fetchone()
    assert row is not None
    found = cutoffs(row[0], await site_policies(conn), await oldest_mark(conn))
    out = []
    for c in found:
        rows = await (await conn.execute(_CHUNKS, (c.table, c.before))).fetchall()
        out.append(Planned(c, [Chunk(*r) for r in rows]))
    return out


async def apply(conn: psycopg.AsyncConnection[Any]) -> list[Planned]:
    """Drops what :func:`plan` finds, a transaction per hypertable; returns what went."""
    done = []
    for p in await plan(conn):
        if not p.chunks:
            continue
        async with conn.transaction():
            cur = await conn.execute(
                "SELECT clearwell_drop_chunks(%s, %s)", (p.cutoff.table, p.cutoff.before)
            )
            dropped = {r[0] for r in await cur.fetchall()}
        done.append(Planned(p.cutoff, [c for c in p.chunks if c.name in dropped]))
    return done


async def set_policy(conn: psycopg.AsyncConnection[Any], site: str, policy: Policy) -> bool:
    """Store a site's policy; False when there is no such site."""
    cur = await conn.execute(_SET, (policy.raw_days, policy.minute_days, policy.hour_days, site))
    return cur.rowcount == 1


async def horizons(conn: psycopg.AsyncConnection[Any]) -> dict[str, datetime]:
    """Per hypertable retention has dropped from, the time before which it is gone."""
    cur = await conn.execute("SELECT hypertable, dropped_before FROM retention_horizon")
    return {str(t): d for t, d in await cur.fetchall()}

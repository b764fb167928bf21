"""Rollups of a backfill on a fresh database: the minute delete by whole key vs the old join.

A new site importing history, or the demo, writes weeks of readings in one go and
then the refresh job rolls them up, 200 tag-hours a round, into rollup chunks that
have no statistics yet (autovacuum analyses a chunk a minute or so after its first
rows). The bench loads ``--tags`` minute-data tags for ``--days`` days into a fresh
migrated database (the tests' server: ``CLEARWELL_TEST_DATABASE_URL`` or a
throwaway local cluster), marks every (tag, hour) as one writer batch of the whole
history does, and times each refresh round, in the same run, of:

* the refresh as it is (``dashboards.trends.rollups``), and with ``ANALYZE readings_1m,
  readings_1h`` after every round (what statistics would still buy);
* baseline: the same refresh with the earlier minute delete (dirty hours joined to
  a ``generate_series`` of minute offsets), which the planner turned into a join on
  tag id alone on chunks without statistics;
* the earlier delete with ``ANALYZE readings_1m, readings_1h`` after every round
  (the workaround the exports' tests and ``bench mor`` used).

Each variant gets its own fresh database with the same data.

    .venv/bin/python -m bench rollups_backfill [--tags N] [--days D] [--no-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg

import dashboards.trends.rollups as rollups
from tests.support.database import DatabaseServer, database_server

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--tags", "1", "--days", "1")

START = datetime(2025, 11, 1, tzinfo=UTC)

# The minute delete before the fix, kept here as the baseline.
OLD_DELETE_1M = """
DELETE FROM readings_1m m
USING unnest(%(tags)s::int4[], %(hours)s::timestamptz[], %(froms)s::timestamptz[])
          AS d (tag_id, hour, from_minute),
      generate_series(0, 59) AS g (minute)
WHERE m.tag_id = d.tag_id AND m.bucket = d.hour + make_interval(mins => g.minute)
  AND m.bucket >= d.from_minute AND m.bucket >= %(lo)s AND m.bucket < %(hi)s
"""


def load(url: str, tags: int, days: int) -> int:
    """Minute readings of ``tags`` tags for ``days`` days, and a mark per (tag, hour)."""
    with psycopg.connect(url, autocommit=True) as conn:
        site = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('bench', 'Bench', 'UTC') RETURNING id"
        ).fetchone()
        assert site
        conn.execute(
            "INSERT INTO tags (site_id, name, unit, source_protocol)"
            " SELECT %s, 'T' || i, 'm3/h', 'modbus' FROM generate_series(1, %s) AS i",
            (site[0], tags),
        )
        end = START + timedelta(days=days)
        conn.execute(
            """INSERT INTO readings (time, tag_id, value, status)
               SELECT t, g.id, 400 + 150 * sin(extract(epoch FROM t) / 86400 * 2 * pi()) + g.id,
                      0
               FROM tags g, generate_series(%s, %s - interval '1 minute', interval '1 minute') t""",
            (START, end),
        )
        # Marked as the writer marks one batch of the whole history (the exports' test
        # month does so): the earliest time of each (tag, hour) through
        # clearwell_mark_dirty, whose grouping leaves the marks in no particular order,
        # so a round's hours spread over the whole range and meet earlier rounds' rows.
        row = conn.execute(
            """SELECT clearwell_mark_dirty(array_agg(g.id ORDER BY g.id, h),
                                           array_agg(h ORDER BY g.id, h))
               FROM tags g, generate_series(%s, %s - interval '1 hour', interval '1 hour') h""",
            (START, end),
        ).fetchone()
        assert row
        return int(row[0])


async def refresh_rounds(url: str, analyze: bool) -> list[float]:
    samples: list[float] = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            t0 = time.perf_counter()
            result = await rollups.refresh_once(conn)
            if not result.marks:
                return samples
            samples.append(time.perf_counter() - t0)
            if analyze:
                await conn.execute("ANALYZE readings_1m")
                await conn.execute("ANALYZE readings_1h")


@contextmanager
def delete_statement(text: str) -> Iterator[None]:
    kept = rollups._DELETE_1M
    rollups._DELETE_1M = text
    try:
        yield
    finally:
        rollups._DELETE_1M = kept


def run(server: DatabaseServer, tags: int, days: int, delete: str, analyze: bool) -> list[float]:
    url = server.make_database()
    try:
        load(url, tags, days)
        with delete_statement(delete):
            samples = asyncio.run(refresh_rounds(url, analyze))
        with psycopg.connect(url) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM readings_1m), (SELECT count(*) FROM readings_1h)"
            ).fetchone()
        assert counts == (tags * days * 1440, tags * days * 24), counts
        return samples
    finally:
        server.drop_database(url)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench rollups_backfill")
    parser.add_argument("--tags", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the earlier delete (slow on many tags)"
    )
    args = parser.parse_args(argv)

    variants = [
        ("refresh (minute delete by whole key)", rollups._DELETE_1M, False),
        ("refresh + ANALYZE after each round", rollups._DELETE_1M, True),
    ]
    if not args.no_baseline:
        variants += [
            ("baseline: earlier minute delete", OLD_DELETE_1M, False),
            ("earlier minute delete + ANALYZE after each round", OLD_DELETE_1M, True),
        ]
    print(
        f"{args.tags} tags x {args.days} days of minute data, {args.tags * args.days * 24:,}"
        f" tag-hours, fresh database per variant …",
        flush=True,
    )
    results = []
    with database_server() as server:
        for name, delete, analyze in variants:
            samples = run(server, args.tags, args.days, delete, analyze)
            results.append((name, samples))
            print(f"  {name}: {' '.join(f'{s:.2f}' for s in samples)}", flush=True)
    print()
    print("| variant | total | rounds | median round | slowest round |")
    print("|---|---|---|---|---|")
    for name, samples in results:
        print(
            f"| {name} | {sum(samples):.1f} s | {len(samples)} |"
            f" {statistics.median(samples):.2f} s | {max(samples):.2f} s |"
        )
    return 0

"""Rollups made fresh for a report while a live plant's writer keeps marking (real database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg

from dashboards.exports import load
from dashboards.trends.rollups import mark_dirty
from tests.dashboards.helpers import copy_rows, make_site, make_tag, wave


async def test_the_current_months_report_does_not_wait_for_readings_arriving_after_it(db_url):
    now = datetime.now(UTC).replace(microsecond=0)
    lo, hi = now - timedelta(days=2), now + timedelta(days=30)
    with psycopg.connect(db_url) as conn:
        site = make_site(conn)
        ids = [make_tag(conn, site, f"t{i}") for i in range(3)]
        for tag in ids:  # two days already in, not yet rolled up
            rows = wave(tag, lo, 2 * 86400, step_s=60)
            copy_rows(conn, rows)
            mark_dirty(conn, rows)
        conn.commit()

    writing = True
    marked = 0

    async def live_writer() -> None:
        # The plant's writer: every batch marks the current hour of every tag again.
        nonlocal marked
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
            while writing:
                t = datetime.now(UTC)
                await aconn.execute(
                    "INSERT INTO rollup_dirty (tag_id, bucket_hour, from_time)"
                    " SELECT id, date_trunc('hour', %s::timestamptz), %s FROM unnest(%s::int[]) id",
                    (t, t, ids),
                )
                marked += 1
                await asyncio.sleep(0.002)

    writer = asyncio.create_task(live_writer())
    try:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
            while marked < 5:
                await asyncio.sleep(0.01)
            rounds = await asyncio.wait_for(load.ensure_fresh(aconn, ids, lo, hi), 30)
            cur = await aconn.execute(
                "SELECT count(*) FROM readings_1h WHERE tag_id = ANY(%s)", (ids,)
            )
            hours = await cur.fetchone()
    finally:
        writing = False
        await writer
    # 144 (tag, hour) pairs: one round of 200, two if a live hour's mark came first.
    assert 1 <= rounds <= 3
    # Everything marked before the report began is rolled up: 2 days of 3 tags.
    assert hours is not None and hours[0] >= 3 * 48

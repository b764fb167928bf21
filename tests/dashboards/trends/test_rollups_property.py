"""Rollups stay equal to the readings whatever order and batching the data arrives in."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboards.trends.rollups import refresh_all
from tests.dashboards.helpers import BAD_COMM, T0, UNCERTAIN, write_batch
from tests.dashboards.trends.test_rollups import assert_matches
from tests.support.database import owner_of

STATUSES = st.sampled_from([0, 0, 0, 0x00A80000, UNCERTAIN, BAD_COMM])
SECONDS = 3 * 3600  # three hours, so batches straddle hour boundaries


@st.composite
def arrivals(draw):
    """Distinct (tag, second) readings, split into batches that arrive in any order,
    with a refresh after some of them (so later batches land in rolled-up hours)."""
    keys = draw(
        st.sets(st.tuples(st.sampled_from([1, 2]), st.integers(0, SECONDS - 1)), max_size=300)
    )
    rows = []
    for tag, second in sorted(keys):
        status = draw(STATUSES)
        value = draw(st.none() | st.floats(-1e6, 1e6, allow_nan=False, width=32))
        rows.append((T0 + timedelta(seconds=second), tag, value, status))
    order = draw(st.permutations(rows))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=6)))
    batches = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    refresh_after = draw(st.lists(st.booleans(), min_size=len(batches), max_size=len(batches)))
    return rows, [(b, r) for b, r in zip(batches, refresh_after, strict=True) if b]


def _refresh(url: str) -> None:
    async def go() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await refresh_all(conn, batch=3)

    asyncio.run(go())


def test_rollups_equal_readings_for_any_arrival_order(db_url):
    with psycopg.connect(db_url) as conn:
        site = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('p', 'P', 'UTC') RETURNING id"
        ).fetchone()[0]
        for name in ("A", "B"):
            conn.execute(
                "INSERT INTO tags (site_id, name, source_protocol) VALUES (%s, %s, 'modbus')",
                (site, name),
            )

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(arrivals())
    def check(case):
        rows, batches = case
        with psycopg.connect(owner_of(db_url)) as owner:
            owner.execute("TRUNCATE readings, readings_1m, readings_1h, rollup_dirty")
        with psycopg.connect(db_url) as conn:
            for batch, refresh_now in batches:
                write_batch(conn, batch)
                if refresh_now:
                    _refresh(db_url)
            _refresh(db_url)
            assert_matches(conn, rows)
            assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (0,)

    check()

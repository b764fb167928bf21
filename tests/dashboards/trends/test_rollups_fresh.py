"""The minutes a refresh clears, and how it finds them on chunks without statistics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dashboards.trends.rollups import _DELETE_1M, HOUR, minute_keys, refresh_all
from tests.dashboards.helpers import T0, Row, make_site, make_tag, write_batch
from tests.support.database import owner_of

MINUTE = timedelta(minutes=1)
H = T0 + 5 * HOUR


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        ([(1, H, H)], [(1, H + i * MINUTE) for i in range(60)]),
        ([(1, H, H + 45 * MINUTE)], [(1, H + i * MINUTE) for i in range(45, 60)]),
        ([(7, H, H + 59 * MINUTE)], [(7, H + 59 * MINUTE)]),
        (
            [(1, H, H + 58 * MINUTE), (2, H + HOUR, H + HOUR + 59 * MINUTE)],
            [(1, H + 58 * MINUTE), (1, H + 59 * MINUTE), (2, H + HOUR + 59 * MINUTE)],
        ),
        ([], []),
    ],
)
def test_minute_keys_are_each_minute_from_the_start_to_the_end_of_the_hour(taken, expected):
    tags, minutes = minute_keys(taken)
    assert list(zip(tags, minutes, strict=True)) == expected


def test_minute_keys_are_in_utc_across_a_half_hour_shift():
    # Lord Howe Island moves its clocks by 30 minutes at 02:00 local: an hour in
    # local wall-clock arithmetic would not be 60 UTC minutes.
    zone = ZoneInfo("Australia/Lord_Howe")
    hour = datetime(2025, 10, 4, 15, tzinfo=UTC)  # 01:30 local, the shift inside it
    _, minutes = minute_keys([(1, hour.astimezone(zone), (hour + 20 * MINUTE).astimezone(zone))])
    assert minutes == [hour + i * MINUTE for i in range(20, 60)]
    assert all(m.utcoffset() == timedelta(0) for m in minutes)


@pytest.mark.parametrize(
    "start",
    [H + timedelta(seconds=30), H - MINUTE, H + HOUR],
    ids=["not a whole minute", "before the hour", "after the hour"],
)
def test_minute_keys_refuse_a_start_outside_the_hour_or_between_minutes(start):
    with pytest.raises(ValueError, match=r"tag 3: recompute start .* hour"):
        minute_keys([(3, H, start)])


def _join_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan] if "Join Type" in plan else []
    for child in plan.get("Plans", []):
        found += _join_nodes(child)
    return found


async def test_the_minute_delete_joins_on_the_whole_key_on_chunks_without_statistics(db_url):
    # A fresh database's rollup chunks have no statistics until autovacuum gets to
    # them; the minute delete then once joined the dirty hours on tag id alone and
    # filtered every minute of the tag's hours against each dirty hour, seconds a
    # round. Whatever join the planner picks now, its condition is the whole key.
    with psycopg.connect(db_url) as conn:
        site = make_site(conn)
        tags = [make_tag(conn, site, f"T{i}") for i in range(3)]
        # Chunks take their hypertable's storage options: autovacuum stays off them.
        with psycopg.connect(owner_of(db_url), autocommit=True) as owner:
            owner.execute("ALTER TABLE readings_1m SET (autovacuum_enabled = false)")
        conn.commit()
        rows: list[Row] = [
            (T0 + i * MINUTE, tag, float(i % 97), 0) for i in range(3 * 24 * 60) for tag in tags
        ]
        write_batch(conn, rows)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
        assert await refresh_all(aconn) == 3 * 3 * 24
    taken = [(tag, T0 + h * HOUR, T0 + h * HOUR) for tag in tags for h in range(0, 72, 2)]
    key_tags, key_minutes = minute_keys(taken)
    params = {
        "minute_tags": key_tags,
        "minutes": key_minutes,
        "lo": T0,
        "hi": T0 + 72 * HOUR,
    }
    with psycopg.connect(db_url) as conn:
        analysed = conn.execute(
            "SELECT count(*) FROM pg_stats WHERE tablename IN (SELECT chunk_name"
            " FROM timescaledb_information.chunks WHERE hypertable_name = 'readings_1m')"
        ).fetchone()
        cur = conn.execute("EXPLAIN (FORMAT JSON) " + _DELETE_1M, params, prepare=False)
        row = cur.fetchone()
        assert row is not None
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    assert analysed == (0,), "the rollup chunks were analysed before the plan was made"
    joins = _join_nodes(plan[0]["Plan"])
    assert joins
    for join in joins:
        assert "Join Filter" not in join, join
        keys = join.get("Hash Cond") or join.get("Merge Cond") or _inner_index_cond(join)
        assert "tag_id" in keys and "bucket" in keys, join


def _inner_index_cond(join: dict[str, Any]) -> str:
    conds = []
    stack = list(join["Plans"][1:])
    while stack:
        node = stack.pop()
        conds.append(node.get("Index Cond", ""))
        stack += node.get("Plans", [])
    return " ".join(conds)

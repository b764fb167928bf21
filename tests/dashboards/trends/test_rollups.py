"""Rollups against the readings they summarise, on a real TimescaleDB."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dashboards.trends.rollups import (
    _LOCK_KEY,
    DirtyHours,
    dirty_hours,
    mark_dirty_sql,
    mark_range,
    pending_marks,
    refresh_all,
    refresh_once,
)
from tests.dashboards.helpers import (
    BAD_COMM,
    T0,
    UNCERTAIN,
    copy_rows,
    make_site,
    make_tag,
    wave,
    write_batch,
)
from tests.support.database import owner_of

COLUMNS = ("n_good", "n_bad", "sum", "min", "max", "first", "last", "first_time", "last_time",
           "last_status")  # fmt: skip


def reference(rows, width_s: int) -> dict[tuple[int, float], dict]:
    """What a rollup of ``width_s`` should hold, computed in Python from the rows."""
    groups = defaultdict(list)
    for t, tag, value, status in rows:
        groups[(tag, math.floor(t.timestamp() / width_s) * width_s)].append((t, value, status))
    out = {}
    for key, items in groups.items():
        items.sort(key=lambda i: i[0])
        good = [v for _, v, st in items if (st & 0xC0000000) == 0 and v is not None]
        out[key] = {
            "n_good": len(good),
            "n_bad": len(items) - len(good),
            "sum": sum(good) if good else None,
            "min": min(good) if good else None,
            "max": max(good) if good else None,
            "first": good[0] if good else None,
            "last": good[-1] if good else None,
            "first_time": items[0][0],
            "last_time": items[-1][0],
            "last_status": items[-1][2],
        }
    return out


def stored(conn: psycopg.Connection, table: str) -> dict[tuple[int, float], dict]:
    rows = conn.execute(
        psycopg.sql.SQL(
            "SELECT tag_id, extract(epoch FROM bucket)::float8, {}, avg FROM {} ORDER BY 1, 2"
        ).format(
            psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, COLUMNS)),
            psycopg.sql.Identifier(table),
        )
    ).fetchall()
    out = {}
    for tag, bucket, *values, avg in rows:
        record = dict(zip(COLUMNS, values, strict=True))
        record["avg"] = avg
        out[(tag, bucket)] = record
    return out


def assert_matches(conn, rows) -> None:
    for table, width in (("readings_1m", 60), ("readings_1h", 3600)):
        expected = reference(rows, width)
        got = stored(conn, table)
        assert sorted(got) == sorted(expected), table
        for key, want in expected.items():
            have = got[key]
            for col in ("n_good", "n_bad", "min", "max", "first", "last", "first_time",
                        "last_time", "last_status"):  # fmt: skip
                assert have[col] == want[col], (table, key, col)
            if want["sum"] is None:
                assert have["sum"] is None and have["avg"] is None
            else:
                assert have["sum"] == pytest.approx(want["sum"], rel=1e-12)
                assert have["avg"] == pytest.approx(want["sum"] / want["n_good"], rel=1e-12)


def plant(conn) -> tuple[int, int]:
    site = make_site(conn)
    return make_tag(conn, site, "DO.Basin1"), make_tag(conn, site, "Flow.Influent", unit="MGD")


def history(a: int, b: int) -> list:
    """Three hours of two 1 s tags; tag a loses its link for 2 min and is uncertain for 30 s."""
    rows = wave(a, T0, 3 * 3600) + wave(b, T0, 3 * 3600)
    lost = T0 + timedelta(minutes=70, seconds=30)
    out = []
    for t, tag, value, status in rows:
        if tag == a and lost <= t < lost + timedelta(minutes=2):
            # The collector stores the loss once, then nothing until the link is back.
            if t == lost:
                out.append((t, tag, None, BAD_COMM))
            continue
        if tag == a and timedelta(minutes=100) <= t - T0 < timedelta(minutes=100, seconds=30):
            status = UNCERTAIN
        out.append((t, tag, value, status))
    return out


def batches(rows, size: int):
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


async def refresh(db_url: str, **kwargs) -> int:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        return await refresh_all(conn, **kwargs)


async def test_rollups_match_the_readings_they_summarise(db_url):
    with psycopg.connect(db_url) as conn:
        a, b = plant(conn)
        conn.commit()
        rows = history(a, b)
        for batch in batches(rows, 1200):
            write_batch(conn, batch)
    # 2 tags x 3 hours, marked by many batches, taken 7 marks per transaction: some
    # hours are recomputed more than once, none is missed.
    assert await refresh(db_url, batch=7) >= 6
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, rows)
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (0,)
        # The bad minute: one bad sample, and the good samples before it.
        lost_minute = (a, (T0 + timedelta(minutes=70)).timestamp())
        got = stored(conn, "readings_1m")[lost_minute]
        assert (got["n_good"], got["n_bad"], got["last_status"]) == (30, 1, BAD_COMM)


async def test_hourly_rollup_agrees_with_time_bucket_on_readings(db_url):
    with psycopg.connect(db_url) as conn:
        a, b = plant(conn)
        conn.commit()
        for batch in batches(history(a, b), 5000):
            write_batch(conn, batch)
    await refresh(db_url)
    with psycopg.connect(db_url) as conn:
        direct = conn.execute(
            """SELECT tag_id, time_bucket('1 hour', time), avg(value), min(value), max(value),
                      count(*)
               FROM readings WHERE status = 0 AND value IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall()
        rolled = conn.execute(
            "SELECT tag_id, bucket, avg, min, max, n_good FROM readings_1h ORDER BY 1, 2"
        ).fetchall()
    assert len(direct) == len(rolled) == 6
    for d, r in zip(direct, rolled, strict=True):
        assert d[:2] == r[:2]
        assert r[2] == pytest.approx(d[2], rel=1e-12)
        assert r[3:] == d[3:]


async def test_late_data_into_an_hour_already_rolled_up(db_url):
    with psycopg.connect(db_url) as conn:
        a, b = plant(conn)
        conn.commit()
        rows = history(a, b)
        # Minutes 20-25 of tag b arrive late (a spooled batch replayed after an outage).
        late_from, late_to = T0 + timedelta(minutes=20), T0 + timedelta(minutes=25)
        late = [r for r in rows if r[1] == b and late_from <= r[0] < late_to]
        on_time = [r for r in rows if not (r[1] == b and late_from <= r[0] < late_to)]
        for batch in batches(on_time, 3000):
            write_batch(conn, batch)
    await refresh(db_url)
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, on_time)
        # The late batch, with a bad sample in it, into hour 0 that is already rolled up.
        late[10] = (late[10][0], b, None, BAD_COMM)
        write_batch(conn, late)
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (1,)
    assert await refresh(db_url) == 1
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, on_time + late)


async def test_a_mark_committed_during_a_refresh_survives_it(db_url):
    with psycopg.connect(db_url) as conn:
        a, _ = plant(conn)
        conn.commit()
        first = wave(a, T0, 600)
        write_batch(conn, first)
    second = wave(a, T0 + timedelta(seconds=600), 600)
    with psycopg.connect(db_url) as writer:
        # The writer's transaction is open (readings and mark written, not committed)
        # while the refresh runs: the refresh cannot see its rows, so must keep its mark.
        copy_rows(writer, second)
        writer.execute(mark_dirty_sql(), dirty_hours(second))
        assert await refresh(db_url) == 1
        writer.commit()
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (1,)
        assert conn.execute("SELECT n_good FROM readings_1h").fetchone() == (600,)
    assert await refresh(db_url) == 1
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, first + second)


async def test_a_second_refresher_waits_its_turn(db_url):
    with psycopg.connect(db_url) as conn:
        a, _ = plant(conn)
        conn.commit()
        write_batch(conn, wave(a, T0, 60))
    with psycopg.connect(db_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            result = await refresh_once(conn)
            assert result.locked_out and result.marks == 0
            assert await pending_marks(conn) == 1
        other.rollback()
    assert await refresh(db_url) == 1


async def test_backfill_marks_hours_written_without_the_writer_and_drops_vanished_ones(db_url):
    with psycopg.connect(db_url) as conn:
        a, b = plant(conn)
        conn.commit()
        rows = history(a, b)
        copy_rows(conn, rows)  # a bulk load that marked nothing
        conn.commit()
    assert await refresh(db_url) == 0
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        assert await mark_range(conn, T0, T0 + timedelta(days=1)) == 6
        assert await refresh_all(conn) == 6
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, rows)
    # Readings vanish only by the owner's hand (retention), never the app's.
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute("DELETE FROM readings WHERE tag_id = %s AND time >= %s", (a, T0 + 2 * HOUR))
        conn.commit()
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await mark_range(conn, T0, T0 + timedelta(days=1), [a])
        await refresh_all(conn)
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, [r for r in rows if not (r[1] == a and r[0] >= T0 + 2 * HOUR)])


HOUR = timedelta(hours=1)


def test_dirty_hours_are_one_per_tag_and_hour_with_the_earliest_time():
    t = datetime(2026, 3, 1, 10, 59, 59, tzinfo=UTC)
    rows = [(t, 2, 1.0, 0), (t + timedelta(seconds=1), 2, 1.0, 0), (t, 1, None, BAD_COMM),
            (t - timedelta(minutes=30), 2, 1.0, 0)]  # fmt: skip
    tags, times = dirty_hours(rows)
    assert list(zip(tags, times, strict=True)) == [
        (1, t),
        (2, t - timedelta(minutes=30)),
        (2, datetime(2026, 3, 1, 11, tzinfo=UTC)),
    ]


def test_dirty_hours_refuse_naive_times():
    with pytest.raises(ValueError, match="naive datetime"):
        dirty_hours([(datetime(2026, 3, 1), 1, 1.0, 0)])


def test_mark_dirty_sql_groups_by_hour_and_keeps_the_earliest_time(db_url):
    t = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    with psycopg.connect(db_url) as conn:
        n = conn.execute(
            mark_dirty_sql(), ([7, 7, 7, 7], [t + HOUR / 2, t, t + timedelta(minutes=5), t + HOUR])
        ).fetchone()
        assert n == (2,)
        got = conn.execute("SELECT tag_id, bucket_hour, from_time FROM rollup_dirty").fetchall()
    hour = t.replace(minute=0)
    assert sorted(got) == [(7, hour, t), (7, hour + HOUR, t + HOUR)]


def test_the_writers_marks_are_the_sql_functions_marks(db_url):
    # DirtyHours writes its marks by COPY, the SQL function by grouping: the same rows.
    t = datetime(2026, 3, 1, 9, 59, 59, 999_999, tzinfo=UTC)
    times = [t, t + timedelta(microseconds=1), t + HOUR, t - HOUR * 30, t]
    rows = [(x, tag, 1.0, 0, None) for x in times for tag in (3, 1, 2)]
    rows.append((times[1].astimezone(ZoneInfo("America/Denver")), 9, 1.0, 0, None))
    marks = DirtyHours()
    for i in range(0, len(rows), 4):  # fed in pieces, as the writer feeds a batch
        marks.add(rows[i : i + 4])
    query = "SELECT tag_id, bucket_hour, from_time FROM rollup_dirty ORDER BY 1, 2"
    with psycopg.connect(db_url) as conn:
        assert marks.write(conn) == len(marks) == 10
        copied = conn.execute(query).fetchall()
        conn.execute("DELETE FROM rollup_dirty")
        conn.execute(mark_dirty_sql(), ([r[1] for r in rows], [r[0] for r in rows]))
        assert conn.execute(query).fetchall() == copied
    nine = t.replace(minute=0, second=0, microsecond=0)
    assert copied[:3] == [
        (1, nine - HOUR * 30, t - HOUR * 30),
        (1, nine, t),
        (1, nine + HOUR, t + timedelta(microseconds=1)),
    ]
    assert copied[-1] == (9, nine + HOUR, t + timedelta(microseconds=1))


async def test_a_late_batch_recomputes_from_its_first_minute_only(db_url):
    with psycopg.connect(db_url) as conn:
        a, _ = plant(conn)
        conn.commit()
        rows = wave(a, T0, 3600)
        write_batch(conn, [r for r in rows if r[0] < T0 + timedelta(minutes=40)])
    await refresh(db_url)
    with psycopg.connect(owner_of(db_url)) as owner:
        # A minute before the late batch's first one, changed behind the refresh's back:
        # left as it is, because the mark says the batch starts at minute 40.
        owner.execute("UPDATE readings_1m SET n_bad = 99 WHERE bucket = %s", (T0 + 39 * MINUTE,))
    with psycopg.connect(db_url) as conn:
        write_batch(conn, [r for r in rows if r[0] >= T0 + timedelta(minutes=40)])
    result = await refresh(db_url)
    assert result == 1
    with psycopg.connect(db_url) as conn:
        minutes = dict(conn.execute("SELECT bucket, n_bad FROM readings_1m").fetchall())
        assert len(minutes) == 60
        assert minutes[T0 + 39 * MINUTE] == 99
        assert conn.execute("SELECT n_good, n_bad FROM readings_1h").fetchone() == (3600, 99)


MINUTE = timedelta(minutes=1)


async def test_the_refresh_never_leaves_prepared_statements_behind(db_url):
    # A prepared statement would turn to a generic plan after a few runs on the same
    # connection, which for these queries was 100x slower (see refresh_once).
    with psycopg.connect(db_url) as conn:
        a, _ = plant(conn)
        conn.commit()
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
            for i in range(12):
                write_batch(conn, wave(a, T0 + i * MINUTE, 60))
                assert (await refresh_once(aconn)).marks == 1
            cur = await aconn.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in await cur.fetchall()]
            assert not [s for s in prepared if "readings" in s or "rollup_dirty" in s]


async def test_a_backlog_of_marks_for_one_hour_goes_in_one_round(db_url):
    with psycopg.connect(db_url) as conn:
        a, b = plant(conn)
        conn.commit()
        rows = wave(a, T0, 600) + wave(b, T0, 600)
        for i in range(0, 600, 10):  # 60 batches of 10 s: 120 marks for 2 pairs
            write_batch(conn, [r for r in rows if i <= (r[0] - T0).total_seconds() < i + 10])
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (120,)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
        first = await refresh_once(aconn, batch=1)
        assert (first.marks, first.minutes, first.hours) == (1, 10, 1)
        assert await pending_marks(aconn) == 60  # the other tag's marks, all of them
        assert (await refresh_once(aconn, batch=1)).marks == 1
        assert await pending_marks(aconn) == 0
    with psycopg.connect(db_url) as conn:
        assert_matches(conn, rows)


def test_dirty_hours_match_a_plain_reference_when_rows_share_time_objects():
    """The writer's batches hold runs of rows sharing one datetime (one poll cycle)."""
    import random

    rng = random.Random(7)
    base = datetime(2026, 3, 1, 9, 40, tzinfo=UTC)
    cycles = [base + timedelta(seconds=rng.randrange(0, 4 * 3600)) for _ in range(40)]
    rows = [(when, tag, 1.0, 0) for when in cycles for tag in rng.sample(range(1, 9), 5)]
    reference: dict[tuple[int, datetime], datetime] = {}
    for when, tag, *_ in rows:
        key = (tag, when.replace(minute=0, second=0, microsecond=0))
        reference[key] = min(when, reference.get(key, when))
    keys = sorted(reference)
    assert dirty_hours(rows) == ([k[0] for k in keys], [reference[k] for k in keys])

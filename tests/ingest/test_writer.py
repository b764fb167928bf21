"""The writer against a real database: COPY, duplicates absorbed, spool and replay, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingest.events import EventChange
from ingest.readings import Row
from ingest.spool import Spool
from ingest.status_codes import BAD_COMMUNICATION_ERROR
from ingest.writer import Writer
from sitefile.models import IngestOptions
from tests.support.database import owner_of
from tests.support.pg_cluster import free_port

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = IngestOptions(batch_rows=1000, flush_interval_s=0.05)


def rows(start: int, n: int, tags: int = 3) -> list[Row]:
    return [
        (T0 + timedelta(seconds=start + i), tag, float(start + i) + tag / 10, 0, None)
        for i in range(n)
        for tag in range(1, tags + 1)
    ]


def stored(db_url: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT time, tag_id, value, status, server_time FROM readings ORDER BY time, tag_id"
        ).fetchall()


def make_writer(dsn: str, tmp_path: Path, **kw) -> Writer:
    return Writer(dsn, Spool(tmp_path / "spool.sqlite", 10**9), OPTIONS, site_code="w", **kw)


async def test_rows_arrive_once_even_when_written_twice(db_url: str, tmp_path: Path) -> None:
    writer = make_writer(db_url, tmp_path)
    batch = rows(0, 500)
    writer.submit(batch)
    await writer.flush()
    assert writer.stats.rows_committed == 1500
    # The same readings again (a retried batch) and new ones in one go.
    writer.submit(batch[:300] + rows(500, 10))
    await writer.flush()
    await writer.close()
    assert stored(db_url) == sorted(batch + rows(500, 10), key=lambda r: (r[0], r[1]))
    assert writer.stats.rows_duplicate == 300
    assert writer.stats.staged_batches == 1


async def test_null_values_bad_status_and_server_times_are_stored(
    db_url: str, tmp_path: Path
) -> None:
    writer = make_writer(db_url, tmp_path)
    server = T0 + timedelta(milliseconds=40)
    writer.submit([(T0, 5, None, BAD_COMMUNICATION_ERROR, None), (T0, 6, 2.5, 0, server)])
    await writer.close()
    assert stored(db_url) == [(T0, 5, None, -2147155968, None), (T0, 6, 2.5, 0, server)]


@pytest.mark.parametrize("always_stage", [False, True])
async def test_unreachable_database_spools_then_replays_in_order(
    db_url: str, tmp_path: Path, always_stage: bool
) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    writer = make_writer(nowhere, tmp_path, always_stage=always_stage)
    taken: list[Row] = []
    for i in range(5):
        writer.submit(rows(i * 100, 100))
        taken += rows(i * 100, 100)
        await writer.flush()
    assert writer.stats.state == "down"
    assert writer.spool.rows == len(taken) and writer.stats.rows_committed == 0
    # The database "comes back".
    writer.dsn = db_url
    writer.retry_now()
    writer.submit(rows(500, 10))  # newer readings queue behind the spooled ones
    taken += rows(500, 10)
    await writer.flush()
    while writer.spool.rows:
        await writer.flush()
    await writer.close()
    assert writer.stats.state == "up"
    assert stored(db_url) == sorted(taken, key=lambda r: (r[0], r[1]))


async def test_crash_after_commit_before_spool_delete_replays_without_duplicates(
    db_url: str, tmp_path: Path
) -> None:
    # A spool holding a batch the database already has: what a crash between the
    # commit and the delete leaves behind.
    already = rows(0, 50)
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY readings (time, tag_id, value, status, server_time) FROM STDIN"
        ) as copy:
            for r in already:
                copy.write_row(r)
    spool = Spool(tmp_path / "spool.sqlite", 10**9)
    spool.append(already + rows(50, 5))
    spool.close()
    writer = make_writer(db_url, tmp_path)
    await writer.flush()
    await writer.close()
    assert stored(db_url) == sorted(already + rows(50, 5), key=lambda r: (r[0], r[1]))
    assert writer.stats.rows_duplicate == len(already)


def site_and_tag(db_url: str) -> tuple[int, int]:
    """A site and a tag 'x' of it, for events (which reference both): their ids."""
    with psycopg.connect(db_url) as conn:
        site = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('w', 'W', 'UTC') RETURNING id"
        ).fetchone()[0]
        tag = conn.execute(
            "INSERT INTO tags (site_id, name, source_protocol) VALUES (%s, 'x', 'modbus')"
            " RETURNING id",
            (site,),
        ).fetchone()[0]
    return site, tag


async def test_events_are_aggregated_and_closed(db_url: str, tmp_path: Path) -> None:
    site, tag = site_and_tag(db_url)

    def change(action: str, seconds: int) -> EventChange:
        return EventChange(
            action,  # type: ignore[arg-type]
            site,
            tag,
            "",
            "limit",
            "hi",
            "warning",
            "x above its hi limit 5",
            T0 + timedelta(seconds=seconds),
            6.0,
            5.0,
        )

    writer = make_writer(db_url, tmp_path)
    writer.submit_events([change("raise", 0), change("raise", 5), change("raise", 9)])
    await writer.flush()
    writer.submit_events([change("clear", 12), change("raise", 100)])
    await writer.close()
    with psycopg.connect(db_url) as conn:
        events = conn.execute(
            "SELECT started_at, last_seen_at, ended_at, occurrences FROM events ORDER BY id"
        ).fetchall()
    assert events == [
        (T0, T0 + timedelta(seconds=9), T0 + timedelta(seconds=12), 3),
        (T0 + timedelta(seconds=100), T0 + timedelta(seconds=100), None, 1),
    ]


async def test_health_is_published(db_url: str, tmp_path: Path) -> None:
    writer = make_writer(db_url, tmp_path)
    writer.publish_health(lambda: [("modbus:plc", "modbus_device", "up", {"cycles": 3})])
    await writer.flush()
    await writer.close()
    with psycopg.connect(db_url) as conn:
        rows_ = conn.execute(
            "SELECT component, kind, state, detail->>'cycles' FROM ingest_health ORDER BY 1"
        ).fetchall()
    assert rows_[0] == ("modbus:plc", "modbus_device", "up", "3")
    assert rows_[1][:3] == ("writer", "writer", "up")


async def test_a_batch_the_database_refuses_is_set_aside_not_blocking(
    db_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute(
            "CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.tag_id = 666 THEN RAISE EXCEPTION 'tag 666 refused'; END IF;"
            " RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON readings"
            " FOR EACH ROW EXECUTE FUNCTION refuse_666()"
        )
    writer = make_writer(db_url, tmp_path)
    writer.submit(rows(0, 10))
    await writer.flush()
    writer.submit([(T0, 666, 1.0, 0, None)])
    await writer.flush()  # refused: spooled, then set aside on replay
    writer.retry_now()
    writer.submit(rows(10, 10))
    for _ in range(3):
        writer.retry_now()
        await writer.flush()
    spool = writer.spool
    assert spool.rows == 0
    assert spool._db.execute("SELECT sum(rows) FROM rejected").fetchone() == (1,)
    await writer.close()
    assert stored(db_url) == sorted(rows(0, 20), key=lambda r: (r[0], r[1]))
    assert writer.stats.rows_rejected == 1


async def test_a_database_that_takes_no_writes_is_an_outage_not_a_refusal(
    db_url: str, tmp_path: Path
) -> None:
    # What a standby, or a primary being demoted in a failover, answers a write with
    # (SQLSTATE 25006): the readings wait in the spool, none is set aside as refused.
    # The owner plays the standby: the runtime role may not make triggers.
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute(
            "CREATE FUNCTION read_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'cannot execute COPY in a read-only transaction'"
            " USING ERRCODE = 'read_only_sql_transaction'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER read_only BEFORE INSERT ON readings"
            " FOR EACH STATEMENT EXECUTE FUNCTION read_only()"
        )
    writer = make_writer(db_url, tmp_path)
    writer.submit(rows(0, 10))
    await writer.flush()
    for i in range(1, 4):
        writer.retry_now()
        writer.submit(rows(10 * i, 10))
        await writer.flush()
    assert writer.stats.state == "down"
    assert writer.spool.rows == 120
    assert writer.stats.rows_rejected == 0
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute("DROP TRIGGER read_only ON readings")
    writer.retry_now()
    await writer.flush()
    assert writer.spool.rows == 0
    await writer.close()
    assert stored(db_url) == sorted(rows(0, 40), key=lambda r: (r[0], r[1]))


async def test_committed_batches_mark_their_hours_for_the_trend_rollups(
    db_url: str, tmp_path: Path
) -> None:
    from dashboards.trends.rollups import refresh_all

    writer = make_writer(db_url, tmp_path)
    # Two hours of one tag, plus a replayed overlap that takes the staging path.
    batch = [(T0 + timedelta(minutes=m), 7, float(m), 0, None) for m in range(120)]
    writer.submit(batch)
    await writer.flush()
    writer.submit(batch[-10:])
    await writer.close()
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        assert await refresh_all(conn, wait_for_lock=True) == 2
        cur = await conn.execute(
            "SELECT bucket, n_good, sum, min, max FROM readings_1h WHERE tag_id = 7 ORDER BY 1"
        )
        hours = await cur.fetchall()
    assert hours == [
        (T0, 60, float(sum(range(60))), 0.0, 59.0),
        (T0 + timedelta(hours=1), 60, float(sum(range(60, 120))), 60.0, 119.0),
    ]


class Recording:
    """A readings reaction that keeps what it was fed and whether it wrote."""

    made: list[Recording] = []
    refuse = 0  # how many writes to refuse, across instances

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.wrote: bool = False
        Recording.made.append(self)

    def add(self, rows) -> None:
        self.rows.extend(rows)

    def write(self, conn: psycopg.Connection) -> None:
        if Recording.refuse:
            Recording.refuse -= 1
            raise psycopg.errors.RaiseException("reaction refused")
        # In the batch's transaction: its rows are visible, not yet committed.
        n = conn.execute(
            "SELECT count(*) FROM readings WHERE (tag_id, time) IN"
            " (SELECT * FROM unnest(%s::int4[], %s::timestamptz[]))",
            ([r[1] for r in self.rows], [r[0] for r in self.rows]),
        ).fetchone()
        assert n == (len(self.rows),)
        self.wrote = True


@pytest.fixture
def recording() -> type[Recording]:
    Recording.made, Recording.refuse = [], 0
    return Recording


async def test_a_failing_reaction_keeps_the_batch_for_a_retry(
    db_url: str, tmp_path: Path, recording: type[Recording]
) -> None:
    recording.refuse = 1
    writer = make_writer(db_url, tmp_path, reactions=[recording])
    writer.submit(rows(0, 5))
    await writer.flush()
    assert stored(db_url) == []
    assert writer.spool.rows == 15
    writer.retry_now()
    await writer.flush()
    await writer.close()
    assert len(stored(db_url)) == 15
    # The replayed batch got a fresh reaction, fed on the database thread.
    first, replayed = recording.made
    assert not first.wrote
    assert replayed.wrote and sorted(replayed.rows) == sorted(rows(0, 5))


async def test_a_large_queue_is_written_as_batches_each_with_its_own_reactions(
    db_url: str, tmp_path: Path, recording: type[Recording]
) -> None:
    writer = make_writer(db_url, tmp_path, reactions=[recording])
    # 2,400 rows with batches of 1,000, submitted in uneven pieces that straddle the cuts.
    queued = rows(0, 800)
    for i in range(0, len(queued), 700):
        writer.submit(queued[i : i + 700])
    assert writer.queue_rows == 2400
    await writer.flush()
    await writer.close()
    assert [len(r.rows) for r in recording.made] == [1000, 1000, 400]
    assert all(r.wrote for r in recording.made)
    assert [row for r in recording.made for row in r.rows] == queued
    assert writer.stats.batches_committed == 3
    assert len(stored(db_url)) == 2400


async def test_held_readings_under_provisional_ids_are_spooled_then_written_under_their_ids(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site, tag = site_and_tag(db_url)
    writer = make_writer(db_url, tmp_path)
    ids = writer.spool.provisional_ids(["modbus:plc/holding/0", "modbus:plc/holding/1"])
    a, b = ids["modbus:plc/holding/0"], ids["modbus:plc/holding/1"]
    assert a < 0 and b < 0 and a != b
    # The same ids again for the same keys (after a restart, say).
    assert writer.spool.provisional_ids(["modbus:plc/holding/1"]) == {"modbus:plc/holding/1": b}
    writer.hold("waiting for the database")
    early = [(T0, a, 1.0, 0, None), (T0, b, 2.0, 0, None), (T0, -99, 3.0, 0, None)]
    writer.submit(early)
    raised = EventChange(
        "raise", 0, a, "", "limit", "hi", "warning", "x above", T0, 6.0, 5.0
    )  # fmt: skip
    writer.submit_events([raised])
    await writer.flush()
    assert writer.spool.rows == 3 and stored(db_url) == []
    queued = [(T0 + timedelta(seconds=1), a, 4.0, 0, None)]
    writer.submit(queued)
    writer.resolve({a: tag, b: tag + 1000}, site)
    writer.submit([(T0 + timedelta(seconds=2), tag, 5.0, 0, None)])
    with caplog.at_level("WARNING", logger="ingest.writer"):
        await writer.flush()
        await writer.flush()
    assert writer.spool.rows == 0 and writer.spool.provisional_keys() == {}
    await writer.close()
    assert stored(db_url) == [
        (T0, tag, 1.0, 0, None),
        (T0, tag + 1000, 2.0, 0, None),
        (T0 + timedelta(seconds=1), tag, 4.0, 0, None),
        (T0 + timedelta(seconds=2), tag, 5.0, 0, None),
    ]
    assert "1 spooled readings dropped" in caplog.text  # -99: no tag has that key
    with psycopg.connect(db_url) as conn:
        events = conn.execute("SELECT site_id, tag_id, code FROM events").fetchall()
    assert events == [(site, tag, "hi")]

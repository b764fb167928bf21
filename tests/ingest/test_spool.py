"""The on-disk spool: order, persistence across reopen, and behaviour at its size limit."""

from __future__ import annotations

import logging
import sqlite3
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.readings import Row
from ingest.spool import Spool, decode_rows, encode_rows
from ingest.status_codes import BAD_COMMUNICATION_ERROR

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rows(start: int, n: int) -> list[Row]:
    return [(T0 + timedelta(seconds=start + i), 7, float(start + i), 0, None) for i in range(n)]


def test_encoding_round_trip_keeps_microseconds_nulls_and_negative_status() -> None:
    data: list[Row] = [
        (T0 + timedelta(microseconds=123457), 1, 1.5, 0, None),
        (T0, 2_000_000_000, None, BAD_COMMUNICATION_ERROR, T0 + timedelta(microseconds=1)),
        (T0 - timedelta(days=20000), 3, -0.0, 5, T0 - timedelta(days=20000)),
    ]
    assert decode_rows(encode_rows(data)) == data


def test_rows_sharing_a_time_come_back_each_with_its_own_time() -> None:
    # Decoding makes one datetime per run of equal times: a time that returns after
    # another must come back as itself, not as the run before it.
    a, b = T0, T0 + timedelta(microseconds=1)
    data: list[Row] = [(t, i, float(i), 0, None) for i, t in enumerate([a, a, b, a, b, b])]
    back = decode_rows(encode_rows(data))
    assert back == data
    assert back[0][0] is back[1][0]


def test_batches_come_back_in_order_and_leave_only_when_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", max_bytes=10**9)
    for i in range(5):
        spool.append(rows(i * 10, 10))
    assert (spool.batches, spool.rows) == (5, 50)
    first = spool.peek(25)
    assert [len(r) for _, r in first] == [10, 10]  # a third batch would pass 25
    assert first[0][1] == rows(0, 10)
    assert spool.peek(25) == first  # peeking removes nothing
    spool.delete_through(first[-1][0])
    assert spool.rows == 30
    assert spool.peek(1)[0][1] == rows(20, 10)  # at least one batch, whatever the size
    spool.close()


def test_contents_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path, max_bytes=10**9)
    spool.append(rows(0, 3))
    spool.append(rows(3, 3))
    spool.close()
    again = Spool(path, max_bytes=10**9)
    assert (again.batches, again.rows) == (2, 6)
    assert [r for _, b in again.peek(100) for r in b] == rows(0, 6)
    again.close()


def test_drop_oldest_at_the_limit_keeps_the_newest_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one_batch = len(encode_rows(rows(0, 10)))
    spool = Spool(tmp_path / "s.sqlite", max_bytes=3 * one_batch, on_full="drop_oldest")
    with caplog.at_level(logging.WARNING, logger="ingest.spool"):
        for i in range(5):
            spool.append(rows(i * 10, 10))
    assert spool.rows == 30 and spool.bytes <= 3 * one_batch
    assert spool.dropped_rows == 20
    kept = [r for _, b in spool.peek(100) for r in b]
    assert kept == rows(20, 30)
    assert "drop_oldest" in caplog.text
    spool.close()


def test_drop_newest_at_the_limit_keeps_the_oldest(tmp_path: Path) -> None:
    one_batch = len(encode_rows(rows(0, 10)))
    spool = Spool(tmp_path / "s.sqlite", max_bytes=2 * one_batch, on_full="drop_newest")
    results = [spool.append(rows(i * 10, 10)) for i in range(4)]
    assert results == [True, True, False, False]
    assert [r for _, b in spool.peek(100) for r in b] == rows(0, 20)
    assert spool.dropped_rows == 20
    spool.close()


def test_batches_spooled_by_the_previous_format_still_replay(tmp_path: Path) -> None:
    """A spool left by a version without server times (payload format 1, no format column)."""
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE batches (id INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL,"
        " first_time INTEGER, last_time INTEGER, payload BLOB NOT NULL)"
    )
    us = int((T0 - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)
    payload = struct.pack("<qi?di", us, 7, True, 1.25, 0) + struct.pack(
        "<qi?di", us, 8, False, 0, 9
    )
    old.execute(
        "INSERT INTO batches (rows, first_time, last_time, payload) VALUES (2, ?, ?, ?)",
        (us, us, payload),
    )
    old.commit()
    old.close()
    spool = Spool(path, max_bytes=10**9)
    spool.append(rows(0, 1))
    (first_id, first), (_, second) = spool.peek(10)
    assert first == [(T0, 7, 1.25, 0, None), (T0, 8, None, 9, None)]
    assert second == rows(0, 1)
    assert spool.reject_through(first_id) == 2
    spool.close()

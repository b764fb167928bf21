"""The store-and-forward spool: readings the database could not take yet, on local disk.

One SQLite file in the data directory holds batches in arrival order. A batch is
removed only after the database committed it (:meth:`Spool.delete` is called by
the writer after its commit), so a crash between commit and delete replays that
batch once more, and the database absorbs the duplicate rows.

The spool is bounded by ``max_bytes`` of payload. At the limit, ``drop_oldest``
(the default) deletes the oldest batches to make room, keeping the most recent
record of the plant; ``drop_newest`` refuses the new batch instead, keeping the
first hours of the outage. Either way every drop is counted and logged (at most
once a minute, with totals) because it is data lost.

Readings taken before the collector could ask the database for its tags' ids (it
started while the database was away) carry provisional ids: negative numbers that
the spool file keeps with each tag's key (:meth:`Spool.provisional_ids`), so that
they are the same after a restart and are translated when the database is back.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from ingest.readings import Row

log = logging.getLogger(__name__)

# Payload formats, recorded per batch, so a spool written by an older version
# still replays after an upgrade.
# 1: time (µs since the epoch, UTC), tag id, has value, value, status
_ROW_V1 = struct.Struct("<qi?di")
# 2: as 1, then has server time, server time (µs since the epoch)
_ROW = struct.Struct("<qi?di?q")
FORMAT = 2
_ADD_FORMAT = tuple(
    (f"PRAGMA table_info({t})", f"ALTER TABLE {t} ADD COLUMN format INTEGER NOT NULL DEFAULT 1")
    for t in ("batches", "rejected")
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def encode_rows(rows: Sequence[Row]) -> bytes:
    out = bytearray(_ROW.size * len(rows))
    pack = _ROW.pack_into
    for i, (t, tag_id, value, status, server) in enumerate(rows):
        has = value is not None
        pack(
            out,
            i * _ROW.size,
            (t - _EPOCH) // _US,
            tag_id,
            has,
            value if has else 0.0,
            status,
            server is not None,
            (server - _EPOCH) // _US if server is not None else 0,
        )
    return bytes(out)


def decode_rows(payload: bytes, fmt: int = FORMAT) -> list[Row]:
    if fmt == 1:
        return [
            (_EPOCH + timedelta(microseconds=us), tag_id, value if has else None, status, None)
            for us, tag_id, has, value, status in _ROW_V1.iter_unpack(payload)
        ]
    if fmt != FORMAT:
        raise ValueError(f"spool batch in unknown format {fmt}: written by a newer version?")
    # Replay decodes on the writer's database thread, ahead of each COPY: the rows of a
    # poll cycle share their time, so one datetime is made per run of equal times
    # (50,000 rows of 1,000 tags: 72 ms to 17 ms).
    out: list[Row] = []
    append = out.append
    last_us = None
    t = _EPOCH
    for us, tag_id, has, value, status, has_server, server_us in _ROW.iter_unpack(payload):
        if us != last_us:
            t = _EPOCH + timedelta(microseconds=us)
            last_us = us
        server = _EPOCH + timedelta(microseconds=server_us) if has_server else None
        append((t, tag_id, value if has else None, status, server))
    return out


class Spool:
    """Not thread-safe: the writer uses it from its one database thread."""

    def __init__(
        self,
        path: str | Path,
        max_bytes: int,
        on_full: Literal["drop_oldest", "drop_newest"] = "drop_oldest",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.on_full = on_full
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # WAL with synchronous=NORMAL survives a crash of the process (not of the
        # machine's power) and keeps appends cheap.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL,"
            " first_time INTEGER, last_time INTEGER, payload BLOB NOT NULL)"
        )
        # Batches the database refused for a reason other than an outage, kept for a person.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rejected ("
            " id INTEGER PRIMARY KEY, rows INTEGER NOT NULL, first_time INTEGER,"
            " last_time INTEGER, payload BLOB NOT NULL,"
            " rejected_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        # Tags known by key only, for readings taken before the database gave their ids:
        # a reading's tag id is -id here.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tag_keys ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE)"
        )
        # Spools from before payload format 2 have no format column: their batches are 1.
        for columns_sql, add_sql in _ADD_FORMAT:
            if "format" not in {r[1] for r in self._db.execute(columns_sql)}:
                self._db.execute(add_sql)
        n, rows, size = self._db.execute(
            "SELECT count(*), coalesce(sum(rows), 0), coalesce(sum(length(payload)), 0)"
            " FROM batches"
        ).fetchone()
        self.batches, self.rows, self.bytes = int(n), int(rows), int(size)
        self.dropped_rows = 0
        self._last_drop_log = 0.0
        self._dropped_since_log = 0
        if self.rows:
            log.info("spool %s holds %d readings from before; replaying them first", path, rows)

    def provisional_ids(self, keys: Sequence[str]) -> dict[str, int]:
        """A negative id for each tag key, the same one every time until forgotten."""
        self._db.executemany(
            "INSERT INTO tag_keys (key) VALUES (?) ON CONFLICT (key) DO NOTHING",
            [(k,) for k in keys],
        )
        known = self.provisional_keys()
        wanted = set(keys)
        return {key: tag_id for tag_id, key in known.items() if key in wanted}

    def provisional_keys(self) -> dict[int, str]:
        """Every provisional id the spool knows, with its tag's key."""
        return {-int(i): str(k) for i, k in self._db.execute("SELECT id, key FROM tag_keys")}

    def forget_provisional(self) -> None:
        """Once no spooled reading carries a provisional id any more."""
        self._db.execute("DELETE FROM tag_keys")

    def append(self, rows: Sequence[Row]) -> bool:
        """Store a batch at the tail; False if it was refused because the spool is full."""
        if not rows:
            return True
        payload = encode_rows(rows)
        if self.on_full == "drop_newest" and self.bytes + len(payload) > self.max_bytes:
            self._count_drop(len(rows), "the spool is full (drop_newest): new readings refused")
            return False
        first = min(r[0] for r in rows)
        last = max(r[0] for r in rows)
        self._db.execute(
            "INSERT INTO batches (rows, first_time, last_time, payload, format)"
            " VALUES (?, ?, ?, ?, ?)",
            (len(rows), (first - _EPOCH) // _US, (last - _EPOCH) // _US, payload, FORMAT),
        )
        self.batches += 1
        self.rows += len(rows)
        self.bytes += len(payload)
        while self.on_full == "drop_oldest" and self.bytes > self.max_bytes and self.batches > 1:
            oldest = self.peek(1)
            self.delete_through(oldest[-1][0])
            self._count_drop(
                sum(len(r) for _, r in oldest), "the spool is full (drop_oldest): oldest dropped"
            )
        return True

    def peek(self, max_rows: int) -> list[tuple[int, list[Row]]]:
        """The oldest batches, at least one, up to about ``max_rows`` readings in all."""
        out: list[tuple[int, list[Row]]] = []
        total = 0
        for batch_id, n, payload, fmt in self._db.execute(
            "SELECT id, rows, payload, format FROM batches ORDER BY id"
        ):
            if out and total + n > max_rows:
                break
            out.append((int(batch_id), decode_rows(payload, fmt)))
            total += n
        return out

    def delete_through(self, last_id: int) -> None:
        """Remove the batches up to and including ``last_id``, once the database committed them.

        Batches leave from the head only (replay and dropping both take the oldest), so
        an id bound is all a delete needs.
        """
        n, rows, size = self._db.execute(
            "SELECT count(*), coalesce(sum(rows), 0), coalesce(sum(length(payload)), 0)"
            " FROM batches WHERE id <= ?",
            (last_id,),
        ).fetchone()
        self._db.execute("DELETE FROM batches WHERE id <= ?", (last_id,))
        self.batches -= int(n)
        self.rows -= int(rows)
        self.bytes -= int(size)

    def reject_through(self, last_id: int) -> int:
        """Move the batches up to ``last_id`` to the rejected table; returns their rows."""
        rows = int(
            self._db.execute(
                "SELECT coalesce(sum(rows), 0) FROM batches WHERE id <= ?", (last_id,)
            ).fetchone()[0]
        )
        self._db.execute("BEGIN")
        self._db.execute(
            "INSERT INTO rejected (id, rows, first_time, last_time, payload, format)"
            " SELECT id, rows, first_time, last_time, payload, format FROM batches WHERE id <= ?",
            (last_id,),
        )
        self.delete_through(last_id)
        self._db.execute("COMMIT")
        return rows

    def _count_drop(self, rows: int, why: str) -> None:
        self.dropped_rows += rows
        self._dropped_since_log += rows
        now = time.monotonic()
        if now - self._last_drop_log >= 60 or self._last_drop_log == 0:
            log.warning(
                "%s: %d readings lost since the last report, %d in all (limit %d bytes, %s)",
                why,
                self._dropped_since_log,
                self.dropped_rows,
                self.max_bytes,
                self.path,
            )
            self._last_drop_log = now
            self._dropped_since_log = 0

    def close(self) -> None:
        self._db.close()

"""The writer: readings from every collector into the ``readings`` hypertable, nothing lost.

Collectors append rows to an in-memory queue (:meth:`Writer.submit`, never
blocking), cut into batches of ``batch_rows``; each batch's reactions
(``clearwell.hooks.READINGS_WRITTEN``, the trend rollups' dirty hours) are fed
its rows there, on the collectors' event loop. Every ``flush_interval_s``, or
sooner when a batch is full, the queue is taken whole and written by one
database thread, a transaction per batch with its reactions' writes:

* Binary COPY straight into ``readings``, inside a savepoint. Duplicates (the
  same tag and time again, after a replay of a batch whose commit was not
  acknowledged) make that COPY fail on the unique index; the batch then goes
  through a temporary staging table and ``INSERT … SELECT … ON CONFLICT
  (tag_id, time) DO NOTHING``, which keeps one row of each. The normal path
  therefore costs what a plain COPY costs; only batches that really hold
  duplicates pay for the staging table.
* When the database cannot be reached, the queue goes to the on-disk spool
  (:mod:`ingest.spool`), and the database is tried again every ``RECONNECT_S``.
  Once anything is in the spool, newer readings are appended behind it,
  and the spool is replayed oldest first, each batch deleted only after its
  commit, until it is empty; so readings reach the database in the order taken.
* A queue grown past ``max_queue_rows`` (a database slower than the plant) is
  spooled too, so memory stays bounded.
* Started while the database is away, the collectors cannot have their tags' ids
  yet: the writer is put on :meth:`Writer.hold`, spools everything and keeps the
  events, until :meth:`Writer.resolve` gives the ids of the provisional ones
  (:data:`ingest.readings.PROVISIONAL_SITE_ID`); then queued rows and events are
  translated at once and spooled rows as they are replayed, in order.

A crash of the ingest process loses what is only in memory: the queue (at most
``flush_interval_s`` of readings, 1 s by default; with the database down it is
spooled every flush) and the batch being written (at most ``batch_rows``,
50,000 by default, which the database had not committed, or it would not be
lost). Events are kept in memory only (up to ``MAX_PENDING_EVENTS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from clearwell import hooks
from clearwell.db import CONNECT_TIMEOUT_S, describe_target
from ingest.events import EventChange, apply_events
from ingest.link import epoch_iso
from ingest.readings import COPY_TYPES, PROVISIONAL_SITE_ID, Row, is_provisional
from ingest.spool import Spool
from sitefile.models import IngestOptions

log = logging.getLogger(__name__)

MAX_PENDING_EVENTS = 10_000
# The database is tried again this often while it is away: a refused connection costs
# nothing, and a longer wait is readings held back once it is back.
RECONNECT_S = 1.0
# Spooled batches replayed per writer cycle before newer readings are queued behind them.
REPLAY_CHUNKS_PER_CYCLE = 10
# How long a stopping writer goes on replaying the spool.
FINAL_REPLAY_S = 2.0

_COPY_DIRECT = "COPY readings (time, tag_id, value, status, server_time) FROM STDIN (FORMAT BINARY)"
_STAGING = "readings_staging"
_COPY_STAGING = (
    "COPY readings_staging (time, tag_id, value, status, server_time) FROM STDIN (FORMAT BINARY)"
)
_MERGE = (
    "INSERT INTO readings (time, tag_id, value, status, server_time)"
    " SELECT time, tag_id, value, status, server_time FROM readings_staging"
    " ON CONFLICT (tag_id, time) DO NOTHING"
)
_HEALTH_UPSERT = (
    "INSERT INTO ingest_health (site_code, component, kind, state, detail, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, now())"
    " ON CONFLICT (site_code, component) DO UPDATE SET kind = excluded.kind,"
    " state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at"
)


@dataclass
class _Batch:
    """Rows queued for one transaction, and what reacts to them in it."""

    rows: list[Row]
    reactions: list[hooks.ReadingsReaction]

    def add(self, rows: Sequence[Row]) -> None:
        self.rows.extend(rows)
        for reaction in self.reactions:
            reaction.add(rows)


@dataclass
class WriterStats:
    state: str = "starting"  # starting, up, down
    since: float | None = None
    rows_committed: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    batches_committed: int = 0
    staged_batches: int = 0
    events_written: int = 0
    events_dropped: int = 0
    last_commit: float | None = None
    last_error: str | None = None
    rate_window: list[tuple[float, int]] = field(default_factory=list)

    def rows_per_s(self, now: float, window_s: float = 10.0) -> float:
        recent = [(t, n) for t, n in self.rate_window if now - t <= window_s]
        self.rate_window = recent
        return sum(n for _, n in recent) / window_s


HealthItem = tuple[str, str, str, dict[str, Any]]  # component, kind, state, detail


class Writer:
    def __init__(
        self,
        dsn: str,
        spool: Spool,
        options: IngestOptions | None = None,
        *,
        site_code: str = "",
        always_stage: bool = False,
        reactions: Sequence[hooks.ReadingsWritten] | None = None,
    ) -> None:
        self.dsn = dsn
        self.spool = spool
        self.options = options or IngestOptions()
        self.site_code = site_code
        # Benchmarks compare the staging path against the direct one.
        self.always_stage = always_stage
        # Written in each batch's transaction, after its insert (rollup marks, by
        # default), so a committed batch always has its reactions committed with it.
        self.reactions = tuple(reactions) if reactions is not None else hooks.readings_written()
        self.stats = WriterStats()
        self._queue: list[_Batch] = []
        self._events: list[EventChange] = []
        # Events the database thread holds until it can write them.
        self._events_pending: list[EventChange] = []
        self._wake = asyncio.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._next_connect = 0.0
        # Held: the tags' ids are not known yet; everything is spooled (see hold()).
        self._held = False
        # Provisional tag id -> tag id, and the site's id, once known (see resolve()).
        self._ids: dict[int, int] = {}
        self._site_id = PROVISIONAL_SITE_ID
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._health_items: Callable[[], list[HealthItem]] | None = None
        self._next_health = 0.0
        self._closed = False
        self._stopping = False

    # --- the collectors' side (event loop) ---

    def submit(self, rows: Sequence[Row]) -> None:
        size = self.options.batch_rows
        while rows:
            if not self._queue or len(self._queue[-1].rows) >= size:
                self._queue.append(self._batch())
            batch = self._queue[-1]
            room = size - len(batch.rows)
            if len(rows) <= room:
                batch.add(rows)
                break
            batch.add(rows[:room])
            rows = rows[room:]
        if self._queue and len(self._queue[0].rows) >= size:
            self._wake.set()

    def submit_events(self, changes: Sequence[EventChange]) -> None:
        self._events.extend(changes)
        self._wake.set()

    def retry_now(self) -> None:
        """Try the database at the next cycle instead of waiting for the next try."""
        self._next_connect = 0.0

    def hold(self, why: str) -> None:
        """Spool every reading and keep every event until :meth:`resolve` (the tags'
        ids are not known: the database has not answered yet)."""
        self._held = True
        self.stats.state, self.stats.since = "down", time.time()
        self.stats.last_error = why

    def resolve(self, ids: dict[int, int], site_id: int) -> None:
        """The database's ids of the provisional tag ids (and the site's): what is queued
        is translated now, what is spooled as it is replayed; then writing starts."""
        self._ids, self._site_id = dict(ids), site_id
        for batch in self._queue:
            if any(is_provisional(r[1]) for r in batch.rows):
                rows = self._translate(batch.rows)
                batch.rows, batch.reactions = [], self._reactions()
                batch.add(rows)
        self._events = [self._translate_event(e) for e in self._events]
        self._held = False
        self.retry_now()
        self._wake.set()

    def _translate(self, rows: Sequence[Row]) -> list[Row]:
        """Rows with their provisional tag ids replaced; a row of a tag the database has
        no id for (configured no more) is dropped."""
        ids = self._ids
        out = [
            r if not is_provisional(r[1]) else (r[0], ids[r[1]], r[2], r[3], r[4])
            for r in rows
            if not is_provisional(r[1]) or r[1] in ids
        ]
        if len(out) < len(rows):
            log.warning(
                "%d spooled readings dropped: their tags are configured no more and the"
                " database has no id for them",
                len(rows) - len(out),
            )
        return out

    def _translate_event(self, e: EventChange) -> EventChange:
        if e.site_id != PROVISIONAL_SITE_ID and (e.tag_id is None or not is_provisional(e.tag_id)):
            return e
        tag_id = e.tag_id
        if tag_id is not None and is_provisional(tag_id):
            tag_id = self._ids.get(tag_id)
        return replace(e, site_id=self._site_id, tag_id=tag_id)

    @property
    def queue_rows(self) -> int:
        return sum(len(b.rows) for b in self._queue)

    def publish_health(self, items: Callable[[], list[HealthItem]]) -> None:
        """Have the writer store these components' health in ``ingest_health``, periodically."""
        self._health_items = items

    def snapshot(self) -> dict[str, Any]:
        s = self.stats
        now = time.time()
        return {
            "state": s.state,
            "since": epoch_iso(s.since),
            "database": describe_target(self.dsn),
            "queue_rows": self.queue_rows,
            "spool_rows": self.spool.rows,
            "spool_bytes": self.spool.bytes,
            "spool_limit_bytes": self.spool.max_bytes,
            "spool_dropped_rows": self.spool.dropped_rows,
            "rows_committed": s.rows_committed,
            "rows_duplicate": s.rows_duplicate,
            "rows_rejected": s.rows_rejected,
            "rows_per_s": round(s.rows_per_s(now), 1),
            "batches_committed": s.batches_committed,
            "staged_batches": s.staged_batches,
            "events_written": s.events_written,
            "events_pending": len(self._events),
            "events_dropped": s.events_dropped,
            "last_commit": epoch_iso(s.last_commit),
            "last_error": s.last_error,
            # How often this is published: what tells a stopped heartbeat from a slow one.
            "health_interval_s": self.options.health_interval_s,
        }

    async def run(self) -> None:
        """Write until :meth:`stop`; then write or spool what is left and close."""
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                if not self.spool.rows or self.stats.state != "up":
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.options.flush_interval_s)
                self._wake.clear()
                if self._stopping:
                    break
                await loop.run_in_executor(self._executor, self._cycle, *self._take())
        finally:
            # Also when cancelled: the final flush must not be cut short.
            await asyncio.shield(self.close())

    def stop(self) -> None:
        """Ask :meth:`run` to finish: a flag rather than a cancellation, so that the
        last flush runs to its end however long the database takes."""
        self._stopping = True
        self._wake.set()

    async def flush(self) -> None:
        """Write what is queued now, or spool it (tests, benchmarks)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._cycle, *self._take())

    async def close(self) -> None:
        """Write or spool whatever is queued, then release the database and the spool."""
        if self._closed:
            return
        self._closed = True
        batches, events, _ = self._take()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._final, batches, events)
        finally:
            self._executor.shutdown(wait=True)

    def _reactions(self) -> list[hooks.ReadingsReaction]:
        return [make() for make in self.reactions]

    def _batch(self) -> _Batch:
        return _Batch([], self._reactions())

    def _take(self) -> tuple[list[_Batch], list[EventChange], list[HealthItem] | None]:
        batches, self._queue = self._queue, []
        events, self._events = self._events, []
        health = None
        now = time.monotonic()
        if self._health_items is not None and now >= self._next_health:
            self._next_health = now + self.options.health_interval_s
            health = self._health_items()
        return batches, events, health

    # --- the database thread ---

    def _final(self, batches: list[_Batch], events: list[EventChange]) -> None:
        try:
            self._cycle(batches, events, None)
            # What is still spooled after a while stays there for the next start: a stop
            # must not wait for hours of an outage to be replayed.
            deadline = time.monotonic() + FINAL_REPLAY_S
            while self.spool.rows and self._conn is not None and time.monotonic() < deadline:
                before = self.spool.rows
                self._replay()
                if self.spool.rows >= before:
                    break
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self.spool.rows:
                log.info("writer stopped with %d readings in the spool", self.spool.rows)
            self.spool.close()

    def _cycle(
        self, batches: list[_Batch], events: list[EventChange], health: list[HealthItem] | None
    ) -> None:
        self._pending_events(events)
        if self._held:
            self._spool(batches)
            return
        if self._ids:
            self._events_pending = [self._translate_event(e) for e in self._events_pending]
        if self._conn is None and time.monotonic() >= self._next_connect:
            self._connect()
        if self._conn is None:
            self._spool(batches)
            return
        if self.spool.rows or sum(len(b.rows) for b in batches) > self.options.max_queue_rows:
            self._spool(batches)
            batches = []
        try:
            for i, batch in enumerate(batches):
                try:
                    self._write(batch.rows, batch.reactions)
                except psycopg.Error:
                    # Keep order: this batch and the rest go to the spool, behind nothing,
                    # whatever the error; a batch the database refuses for good is set
                    # aside when its replay fails (see _replay).
                    self._spool(batches[i:])
                    raise
            for _ in range(REPLAY_CHUNKS_PER_CYCLE):
                if not self.spool.rows:
                    break
                self._replay()
            self._write_events()
            if health:
                self._write_health(health)
        except psycopg.Error as exc:
            self._down(exc)
        if self._ids and not self.spool.rows:
            # Every reading taken under a provisional id is in the database now: the
            # queue was translated when the ids came, and newer readings carry them.
            self._ids = {}
            self.spool.forget_provisional()

    def _spool(self, batches: list[_Batch]) -> None:
        # Their reactions are dropped: a replayed batch is given fresh ones (see _write).
        for batch in batches:
            self.spool.append(batch.rows)

    def _pending_events(self, events: list[EventChange]) -> None:
        self._events_pending.extend(events)
        over = len(self._events_pending) - MAX_PENDING_EVENTS
        if over > 0:
            del self._events_pending[:over]
            self.stats.events_dropped += over
            log.warning("%d events dropped: the database has been away too long", over)

    def _connect(self) -> None:
        try:
            self._conn = psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S)
            # Made once per session, outside any batch's transaction, so that a failed
            # batch cannot roll its creation back.
            self._conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS readings_staging"
                " (time timestamptz NOT NULL, tag_id integer NOT NULL,"
                "  value double precision, status integer NOT NULL, server_time timestamptz)"
                " ON COMMIT DELETE ROWS"
            )
            self._conn.commit()
        except psycopg.Error as exc:
            self._down(exc)
            return
        was = self.stats.state
        self.stats.state, self.stats.since = "up", time.time()
        if was == "down":
            log.warning(
                "database %s reachable again; replaying %d spooled readings",
                describe_target(self.dsn),
                self.spool.rows,
            )
        else:
            log.info("writer connected to %s", describe_target(self.dsn))

    def _down(self, exc: BaseException) -> None:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self.stats.last_error = first
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self.stats.state != "down":
            outage = isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
            log.warning(
                "database %s %s (%s): spooling readings to %s",
                describe_target(self.dsn),
                "unreachable" if outage else "refused a write",
                first,
                self.spool.path,
            )
            self.stats.state, self.stats.since = "down", time.time()
        self._next_connect = time.monotonic() + RECONNECT_S

    def _replay(self) -> None:
        batches = self.spool.peek(self.options.batch_rows)
        try:
            self._write([r for _, chunk in batches for r in chunk])
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error:
            # Not an outage: find the batch at fault, one at a time, and set it aside.
            for batch_id, chunk in batches:
                try:
                    self._write(chunk)
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    raise
                except psycopg.Error as exc:
                    self._reject(batch_id, exc)
                    continue
                self.spool.delete_through(batch_id)
            return
        # Only now, after the commit: a crash before this line replays the batch once
        # more, and the database absorbs the duplicates.
        self.spool.delete_through(batches[-1][0])

    def _reject(self, batch_id: int, exc: psycopg.Error) -> None:
        # The same rows would fail again and block everything behind them; they are
        # moved to the spool's rejected table for a person to look at, not deleted.
        n = self.spool.reject_through(batch_id)
        self.stats.rows_rejected += n
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.error(
            "the database refused %d spooled readings; set aside in %s (table rejected): %s",
            n,
            self.spool.path,
            first,
        )

    def _write(
        self, rows: list[Row], reactions: list[hooks.ReadingsReaction] | None = None
    ) -> None:
        # A replayed batch takes the direct path too: only a batch whose commit was not
        # acknowledged before a crash or an outage can hold rows the database has, and
        # the unique index sends exactly those batches to the staging path.
        if not rows:
            return
        if reactions is None:
            # A batch from the spool, whose reactions were not kept: fed here instead,
            # its rows taken under provisional ids given the database's.
            if self._ids:
                rows = self._translate(rows)
            reactions = self._reactions()
            for reaction in reactions:
                reaction.add(rows)
        conn = self._conn
        assert conn is not None
        with conn.transaction():
            if self.always_stage:
                inserted = self._write_staged(conn, rows)
            else:
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        with cur.copy(_COPY_DIRECT) as copy:
                            copy.set_types(COPY_TYPES)
                            for row in rows:
                                copy.write_row(row)
                    inserted = len(rows)
                except psycopg.errors.UniqueViolation:
                    inserted = self._write_staged(conn, rows)
            for reaction in reactions:
                reaction.write(conn)
        s = self.stats
        now = time.time()
        s.rows_committed += inserted
        s.rows_duplicate += len(rows) - inserted
        s.batches_committed += 1
        s.last_commit = now
        s.rate_window.append((now, inserted))

    def _write_staged(self, conn: psycopg.Connection[Any], rows: list[Row]) -> int:
        self.stats.staged_batches += 1
        with conn.cursor() as cur:
            with cur.copy(_COPY_STAGING) as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cur.execute(_MERGE)
            inserted = cur.rowcount
        return max(inserted, 0)

    def _write_events(self) -> None:
        pending = self._events_pending
        if not pending or self._conn is None:
            return
        try:
            with self._conn.transaction():
                n = apply_events(self._conn, pending)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            # Not an outage: these events would fail again on every retry.
            log.error("%d events refused by the database and dropped: %s", len(pending), exc)
            self.stats.events_dropped += len(pending)
            n = 0
        self.stats.events_written += n
        self._events_pending = []

    def _write_health(self, items: list[HealthItem]) -> None:
        assert self._conn is not None
        # The writer's own entry is taken here, after this cycle's connect and writes.
        items = [*items, ("writer", "writer", self.stats.state, self.snapshot())]
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.executemany(
                _HEALTH_UPSERT,
                [
                    (self.site_code, comp, kind, state, Jsonb(detail))
                    for comp, kind, state, detail in items
                ],
            )

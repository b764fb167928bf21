"""Appending to the hash-chained audit log, and checking the chain (database side)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from logbook import records
from logbook.canonical import GENESIS, ChainBreak, normalise, row_content_hash, verify_chain

# One key for the whole chain: appends queue on it for the rest of their
# transaction, so the head read and the insert cannot interleave.
CHAIN_LOCK = 0x636C6C67  # "cllg"

# The link is made in the database: the head is read by this statement, which
# runs after the lock is granted and so sees every earlier append committed. It takes
# the references of the record rows this transaction wrote (migration 0210) and links
# them in: sha256(prev_hash || content_hash || records_digest), canonical.py's rule.
_APPEND = """
INSERT INTO audit_log (seq, at, actor_id, actor, action, subject, subject_id, site_id, detail,
                       records, prev_hash, row_hash)
SELECT coalesce(h.seq, 0) + 1, %(at)s::timestamptz, %(actor_id)s::int, %(actor)s::text,
       %(action)s::text, %(subject)s::text, %(subject_id)s::text, %(site_id)s::int,
       %(detail)s::jsonb, r.records, coalesce(h.row_hash, %(genesis)s::text),
       encode(sha256(convert_to(coalesce(h.row_hash, %(genesis)s::text) || %(content)s::text
           || coalesce(encode(sha256(convert_to(array_to_string(r.records, E'\\n'), 'UTF8')),
                              'hex'), ''),
           'UTF8')), 'hex')
FROM (SELECT audit_take_records() AS records) AS r
LEFT JOIN LATERAL (SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1) h ON true
"""


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str


SYSTEM = Actor(None, "system")


def _now() -> datetime:
    # Microseconds, as timestamptz keeps them, so the hash survives the round trip.
    return datetime.now(UTC)


def _params(
    actor: Actor,
    action: str,
    subject: str | None,
    subject_id: Any,
    site_id: int | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    row = {
        "at": _now(),
        "actor_id": actor.id,
        "actor": actor.label,
        "action": action,
        "subject": subject,
        "subject_id": None if subject_id is None else str(subject_id),
        "site_id": site_id,
        "detail": normalise(detail or {}),
    }
    content = row_content_hash(row)
    return {**row, "detail": Jsonb(row["detail"]), "content": content, "genesis": GENESIS}


async def append(
    conn: psycopg.AsyncConnection[Any],
    actor: Actor,
    action: str,
    subject: str | None = None,
    subject_id: Any = None,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Appends one row inside the caller's transaction; call it last, just before commit.

    The chain lock is held until the transaction ends. Nothing is read back, so on a
    connection in pipeline mode the lock, the insert and the commit travel together
    (see ``clearwell.web.transaction``).
    """
    params = _params(actor, action, subject, subject_id, site_id, detail)
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
    await conn.execute(_APPEND, params)


def _stream(conn: psycopg.Connection[Any]) -> Iterator[dict[str, Any]]:
    with conn.cursor(name="audit_verify", row_factory=dict_row) as cur:
        cur.itersize = 5000
        cur.execute("SELECT * FROM audit_log ORDER BY seq")
        yield from cur


@dataclass(frozen=True)
class VerifyResult:
    rows: int
    head: dict[str, Any] | None
    broken: ChainBreak | None
    # The record rows against the chain (None: not checked).
    records: records.RecordCheck | None = None
    # The last row read, whatever the chain's state: {"seq", "row_hash", "at"}.
    last: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None and not (self.records and self.records.findings)


def verify(conn: psycopg.Connection[Any], with_records: bool = True) -> VerifyResult:
    """Walks the whole chain in seq order, then checks every record row against the
    references the chain holds (``with_records``); all in one repeatable-read
    transaction, so that writes committed meanwhile are seen by neither or by both."""
    count = 0
    last: dict[str, Any] | None = None
    refs: records.Refs = {}

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count, last
        for row in _stream(conn):
            count += 1
            last = row
            records.collect(refs, row["seq"], row["records"])
            yield row

    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    with conn.transaction():
        if idle:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        rows = counted()
        broken = verify_chain(rows)
        # The references after a break are still the best word on their rows.
        for _ in rows:
            pass
        checked = records.check(conn, refs) if with_records else None
    head = {"seq": last["seq"], "row_hash": last["row_hash"]} if last and not broken else None
    tail = None
    if last:
        tail = {"seq": last["seq"], "row_hash": last["row_hash"], "at": normalise(last["at"])}
    return VerifyResult(count, head, broken, checked, tail)


async def check_chain(
    conn: psycopg.AsyncConnection[Any], batch: int = 5000
) -> tuple[int, dict[str, Any] | None, ChainBreak | None]:
    """The whole chain walked on an asynchronous connection (outside a transaction):
    (rows, the last row's {"seq", "row_hash", "at"}, the first break or None)."""
    count, prev, last = 0, GENESIS, None
    async with conn.transaction():
        cur = conn.cursor(name="audit_check", row_factory=dict_row)
        await cur.execute("SELECT * FROM audit_log ORDER BY seq")
        while rows := await cur.fetchmany(batch):
            if last is not None and rows[0]["seq"] != last["seq"] + 1:
                jump = f"sequence jumps from {last['seq']} to {rows[0]['seq']}"
                return count, last, ChainBreak(rows[0]["seq"], jump)
            broken = verify_chain(rows, prev)
            count += len(rows)
            tail = rows[-1]
            last = {"seq": tail["seq"], "row_hash": tail["row_hash"], "at": normalise(tail["at"])}
            if broken is not None:
                return count, last, broken
            prev = tail["row_hash"]
        await cur.close()
    return count, last, None


def chain_head(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    """``{"seq", "row_hash", "at"}`` of the newest row, for export bundles."""
    row = conn.execute(
        "SELECT seq, row_hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return {"seq": row[0], "row_hash": row[1], "at": normalise(row[2])}

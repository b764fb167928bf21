"""Appending to the hash-chained audit log, and checking the chain (database side)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from logbook.canonical import GENESIS, ChainBreak, normalise, row_hash, verify_chain

# One key for the whole chain: appends queue on it for the rest of their
# transaction, so the head read and the insert cannot interleave.
CHAIN_LOCK = 0x636C6C67  # "cllg"

_INSERT = (
    "INSERT INTO audit_log (seq, at, actor_id, actor, action, subject, subject_id, site_id,"
    " detail, prev_hash, row_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_HEAD = "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1"


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str


SYSTEM = Actor(None, "system")


def _now() -> datetime:
    # Microseconds, as timestamptz keeps them, so the hash survives the round trip.
    return datetime.now(UTC)


def _row(
    seq: int,
    actor: Actor,
    action: str,
    subject: str | None,
    subject_id: Any,
    site_id: int | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": _now(),
        "actor_id": actor.id,
        "actor": actor.label,
        "action": action,
        "subject": subject,
        "subject_id": None if subject_id is None else str(subject_id),
        "site_id": site_id,
        "detail": normalise(detail or {}),
    }


def _params(row: dict[str, Any], prev: str, digest: str) -> tuple[Any, ...]:
    return (
        row["seq"],
        row["at"],
        row["actor_id"],
        row["actor"],
        row["action"],
        row["subject"],
        row["subject_id"],
        row["site_id"],
        Jsonb(row["detail"]),
        prev,
        digest,
    )


async def append(
    conn: psycopg.AsyncConnection[Any],
    actor: Actor,
    action: str,
    subject: str | None = None,
    subject_id: Any = None,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Appends one row inside the caller's transaction; returns its seq.

    Call it last in the transaction: the chain lock is held until commit.
    """
    # Two statements (the head must be read with a snapshot taken after the lock is
    # held) in one round trip: the lock is held until commit, so every trip counts.
    async with conn.pipeline():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        cur = await conn.execute(_HEAD)
        head = await cur.fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    row = _row(seq, actor, action, subject, subject_id, site_id, detail)
    digest = row_hash(row, prev)
    await conn.execute(_INSERT, _params(row, prev, digest))
    return seq


def append_sync(
    conn: psycopg.Connection[Any],
    actor: Actor,
    action: str,
    subject: str | None = None,
    subject_id: Any = None,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """``append`` for the CLI's synchronous connections."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
    head = conn.execute(_HEAD).fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    row = _row(seq, actor, action, subject, subject_id, site_id, detail)
    digest = row_hash(row, prev)
    conn.execute(_INSERT, _params(row, prev, digest))
    return seq


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


def verify(conn: psycopg.Connection[Any]) -> VerifyResult:
    """Walks the whole chain in seq order (inside one transaction for a consistent view)."""
    count = 0
    last: dict[str, Any] | None = None

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count, last
        for row in _stream(conn):
            count += 1
            last = row
            yield row

    with conn.transaction():
        broken = verify_chain(counted())
    head = {"seq": last["seq"], "row_hash": last["row_hash"]} if last and not broken else None
    return VerifyResult(count, head, broken)


def chain_head(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    """``{"seq", "row_hash", "at"}`` of the newest row, for export bundles."""
    row = conn.execute(
        "SELECT seq, row_hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return {"seq": row[0], "row_hash": row[1], "at": normalise(row[2])}

"""Client keys: one record per person and key, however often a terminal retries.

A write that takes a client key keeps the key and the sha256 of the request with
its row. The same request again is answered with the row already made; another
request with the same key is refused (409). Concurrent duplicates meet the table's
unique index on (author, client_key): the insert is ``ON CONFLICT DO NOTHING``,
never a check-then-insert. Every insert into a keyed table goes through
``insert_once``, with or without a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from pydantic import BaseModel

from clearwell.web import conflict
from logbook.canonical import content_hash

# The tables that take a client key, and the column naming who made each row.
AUTHORS = {
    "shifts": "opened_by",
    "shift_crew": "added_by",
    "handoff_notes": "written_by",
    "entries": "recorded_by",
    "samples": "recorded_by",
    "custody_transfers": "recorded_by",
    "sample_results": "recorded_by",
    "amendments": "amended_by",
}


@dataclass(frozen=True)
class RequestKey:
    """A request's client key (None: the client sent none) and the sha256 of the request."""

    value: str | None
    sha: str | None


@dataclass(frozen=True)
class Made:
    """A row's id; ``replayed`` when a request with the same client key made it earlier."""

    id: int
    replayed: bool = False


def request_detail(body: BaseModel) -> dict[str, Any]:
    """The request as sent, without its client key: what the audit log records of it."""
    return body.model_dump(mode="json", exclude={"client_key"})


def request_sha(body: BaseModel, **extra: Any) -> str:
    return content_hash({**request_detail(body), **extra})


def check_replay(stored_sha: str | None, sha: str | None) -> None:
    if stored_sha != sha:
        raise conflict("this Idempotency-Key was already used for a different request")


@cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return (
        sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}, client_key) DO NOTHING RETURNING id"
        )
        .format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            sql.Identifier(AUTHORS[table]),
        )
        .as_string()
    )


@cache
def _made_sql(table: str) -> str:
    return (
        sql.SQL("SELECT id, request_sha FROM {} WHERE {} = %s AND client_key = %s")
        .format(sql.Identifier(table), sql.Identifier(AUTHORS[table]))
        .as_string()
    )


async def already_made(
    conn: psycopg.AsyncConnection[Any], table: str, person_id: int, key: RequestKey | None
) -> Made | None:
    """The row this person already made with this client key, if any; a 409 if that
    row was made by a different request."""
    if key is None or key.value is None:
        return None
    cur = await conn.execute(_made_sql(table), (person_id, key.value))
    row = await cur.fetchone()
    if row is None:
        return None
    check_replay(row[1], key.sha)
    return Made(int(row[0]), replayed=True)


async def insert_once(
    conn: psycopg.AsyncConnection[Any],
    table: str,
    row: Mapping[str, Any],
    person_id: int,
    key: RequestKey | None = None,
) -> Made:
    """Inserts ``row`` made by ``person_id``, unless they made one with this client key.

    Without a key (``None``, or a ``RequestKey`` whose value is None) the row is always
    inserted; a ``RequestKey`` without a value still stores the request's sha256.
    """
    values = {
        **row,
        AUTHORS[table]: person_id,
        "client_key": key.value if key else None,
        "request_sha": key.sha if key else None,
    }
    cur = await conn.execute(_insert_sql(table, tuple(values)), tuple(values.values()))
    inserted = await cur.fetchone()
    if inserted is not None:
        return Made(int(inserted[0]))
    # A concurrent request with the same key won the insert: answer as it did.
    seen = await already_made(conn, table, person_id, key)
    assert seen is not None
    return seen

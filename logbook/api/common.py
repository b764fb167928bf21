"""What the logbook's routers share: site checks, idempotency, paging, site settings."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi import HTTPException, Request, status
from psycopg import sql
from pydantic import BaseModel

from clearwell.web import Denied, invalid
from logbook.auth.sessions import Principal
from logbook.canonical import content_hash

MAX_PAGE = 10_000
DEFAULT_PAGE = 100
# Clocks on floor terminals drift: allow a little future on occurred_at.
CLOCK_SKEW = timedelta(minutes=2)


def check_site(user: Principal, site_id: int) -> None:
    """A PIN session, opened on a floor terminal, writes only at that terminal's site."""
    if user.method == "pin" and user.site_id != site_id:
        raise Denied(
            "a PIN session writes only at the site it was opened at", "site", site_id, site_id
        )


def client_key(request: Request, body_key: str | None) -> str | None:
    header = request.headers.get("idempotency-key")
    if header and body_key and header != body_key:
        raise invalid("client_key", "differs from the Idempotency-Key header")
    key = header or body_key
    if key is not None and not (1 <= len(key) <= 200):
        raise invalid("client_key", "must be 1 to 200 characters")
    return key


def request_sha(body: BaseModel, **extra: Any) -> str:
    payload = body.model_dump(mode="json", exclude={"client_key"})
    return content_hash({**payload, **extra})


def check_replay(stored_sha: str | None, sha: str) -> None:
    if stored_sha != sha:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "this Idempotency-Key was already used for a different request",
        )


REPLAY = {"Idempotent-Replay": "true"}


async def already_made(
    conn: Any, table: str, author: str, person_id: int, key: str | None, sha: str
) -> int | None:
    """The id of the row this person already made with this client key, if any.

    A concurrent duplicate that slips past this check meets the unique index and
    fails as a whole, so it never leaves a second row.
    """
    if key is None:
        return None
    query = sql.SQL("SELECT id, request_sha FROM {} WHERE {} = %s AND client_key = %s").format(
        sql.Identifier(table), sql.Identifier(author)
    )
    cur = await conn.execute(query, (person_id, key))
    row = await cur.fetchone()
    if row is None:
        return None
    check_replay(row[1], sha)
    return int(row[0])


def now() -> datetime:
    return datetime.now(UTC)


def encode_cursor(at: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{at.astimezone(UTC).isoformat()}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(ident)
    except (ValueError, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor this API returned", where="query") from None


async def site_id_for(conn: psycopg.AsyncConnection[Any], code: str, field: str = "site") -> int:
    cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (code,))
    row = await cur.fetchone()
    if row is None:
        raise invalid(field, f"no site with code {code!r}")
    return int(row[0])


async def site_settings(conn: psycopg.AsyncConnection[Any], site_id: int) -> tuple[bool, timedelta]:
    """(allow_pin_login, backdate_limit) in force for a site; defaults if never set."""
    cur = await conn.execute(
        "SELECT allow_pin_login, backdate_limit FROM site_logbook_settings WHERE site_id = %s"
        " ORDER BY id DESC LIMIT 1",
        (site_id,),
    )
    row = await cur.fetchone()
    return (bool(row[0]), row[1]) if row else (False, timedelta(hours=24))

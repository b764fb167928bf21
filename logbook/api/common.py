"""What the logbook's routers share: the client key of a request, paging, site codes, the
sites a listing shows, a password re-entered."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import HTTPException, Request, status
from pydantic import BaseModel, Field

from clearwell.access import sites_for
from clearwell.http_guard import client_address
from clearwell.web import invalid, transaction
from logbook.auth.deps import record_forbidden
from logbook.auth.sessions import Principal, reenter_password
from logbook.write.idempotency import RequestKey, request_sha
from logbook.write.plausibility import RangeSource

ClientKey = Annotated[str, Field(min_length=1, max_length=200)]
MAX_PAGE = 10_000
DEFAULT_PAGE = 100
# The header of an answer given again to a request replayed with its client key.
REPLAY = {"Idempotent-Replay": "true"}

PLAUSIBILITY = Field(
    None,
    description="confirms the values outside their plausible range (the site file's), with"
    " why; without it such a value is refused (422, type implausible)",
)


class PlausibilityOut(BaseModel):
    """A value taken outside its plausible range on its recorder's confirmation."""

    id: int
    field: str = Field(description="where the value is in the record: data.value, value")
    value: float
    plausible: tuple[float | None, float | None] = Field(
        description="the range expected, [low, high]; null: open on that side"
    )
    unit: str
    of: str = Field(description="what the range is of, in words")
    reason: str
    confirmed_by: int
    confirmed_at: datetime
    amendment_id: int | None = Field(description="the amendment that set the value, if any")


def range_source(request: Request) -> RangeSource:
    """The site files this app reads ranges from: its data directory's."""
    return RangeSource(Path(request.app.state.settings.data_dir))


def client_key(request: Request, body: BaseModel, **extra: Any) -> RequestKey:
    """The client key from the ``Idempotency-Key`` header or the body's ``client_key``
    (they must agree), and the sha256 of the request (``extra``: its path parameters)."""
    header = request.headers.get("idempotency-key")
    body_key = getattr(body, "client_key", None)
    if header and body_key and header != body_key:
        raise invalid("client_key", "differs from the Idempotency-Key header")
    key = header or body_key
    if key is not None and not (1 <= len(key) <= 200):
        raise invalid("client_key", "must be 1 to 200 characters")
    return RequestKey(key, request_sha(body, **extra))


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


def readable(user: Principal, action: str) -> list[int] | None:
    """The sites whose records a listing shows ``user`` (the access matrix's); None: all."""
    found = sites_for(user, action)
    return None if found is None else sorted(found)


async def confirm_password(request: Request, user: Principal, password: str, refusal: str) -> None:
    """The person re-enters their password to sign, countersign or change a credential:
    checked, recorded and limited as a login is, in a transaction of its own so that a wrong
    one counts whatever follows. A wrong one is an audited 403 saying ``refusal``; while
    the person must wait, a 429 with Retry-After."""
    async with transaction(request, user) as conn:
        result = await reenter_password(conn, user, password, client_address(request))
    if result.outcome == "rate_limited":
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many wrong passwords; wait before trying again",
            headers={"Retry-After": str(result.retry_after_s)},
        )
    if result.outcome != "ok":
        raise await record_forbidden(request, user, refusal)

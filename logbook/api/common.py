"""What the logbook's routers share: the client key of a request, paging, site codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import Request
from pydantic import BaseModel, Field

from clearwell.web import invalid
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

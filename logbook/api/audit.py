"""The audit trail: read it, and check its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from clearwell.authorize import acting
from clearwell.params import Id
from clearwell.web import json_response, transaction
from logbook.api.common import readable
from logbook.auth.sessions import Principal
from logbook.canonical import GENESIS, verify_chain

router = APIRouter(prefix="/api/audit", tags=["audit"])

_COLS = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "subject",
    "subject_id",
    "site_id",
    "detail",
    "prev_hash",
    "row_hash",
)


class AuditRow(BaseModel):
    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    subject: str | None
    subject_id: str | None
    site_id: int | None
    detail: dict[str, Any]
    prev_hash: str
    row_hash: str


class AuditPage(BaseModel):
    items: list[AuditRow]
    next_after_seq: int | None


class ChainCheck(BaseModel):
    ok: bool
    rows: int
    head: dict[str, Any] | None
    first_bad_seq: int | None
    reason: str | None


@router.get("", response_model=AuditPage)
async def audit_rows(
    user: Annotated[Principal, Depends(acting("audit.read"))],
    request: Request,
    after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    person: Annotated[Id | None, Query(description="actor person id")] = None,
    action: Annotated[str | None, Query(description="exact action, e.g. forbidden")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> object:
    """Audit rows in chain order (chief operator, admin, regulator): an admin reads them
    all; the others the rows of the sites they belong to."""
    async with transaction(request, user) as conn:
        cur = await conn.execute(
            "SELECT seq, at, actor_id, actor, action, subject, subject_id, site_id, detail,"
            " prev_hash, row_hash FROM audit_log WHERE seq > %(after)s"
            " AND (%(start)s::timestamptz IS NULL OR at >= %(start)s)"
            " AND (%(end)s::timestamptz IS NULL OR at < %(end)s)"
            " AND (%(person)s::int IS NULL OR actor_id = %(person)s)"
            " AND (%(action)s::text IS NULL OR action = %(action)s)"
            " AND (%(sites)s::int[] IS NULL OR site_id = ANY(%(sites)s))"
            " ORDER BY seq LIMIT %(limit)s",
            {
                "after": after_seq,
                "start": start,
                "end": end,
                "person": person,
                "action": action,
                "sites": readable(user, "audit.read"),
                "limit": limit + 1,
            },
        )
        rows = await cur.fetchall()
    items = [dict(zip(_COLS, r, strict=True)) for r in rows[:limit]]
    nxt = items[-1]["seq"] if len(rows) > limit else None
    return json_response({"items": items, "next_after_seq": nxt})


@router.get("/verify", response_model=ChainCheck)
async def verify(
    user: Annotated[Principal, Depends(acting("audit.verify"))], request: Request
) -> object:
    """Recompute every link of the chain; names the first row that does not match."""
    # A server-side cursor, so not the pipelined transaction() of the other routes.
    async with request.app.state.pool.connection() as conn, conn.transaction():
        cur = conn.cursor(name="audit_api_verify")
        await cur.execute(
            "SELECT seq, at, actor_id, actor, action, subject, subject_id, site_id, detail,"
            " prev_hash, row_hash, records FROM audit_log ORDER BY seq"
        )
        rows = [dict(zip((*_COLS, "records"), r, strict=True)) async for r in cur]
        await cur.close()
    broken = verify_chain(rows, GENESIS)
    head = None
    if rows and broken is None:
        head = {"seq": rows[-1]["seq"], "row_hash": rows[-1]["row_hash"], "at": rows[-1]["at"]}
    return json_response(
        {
            "ok": broken is None,
            "rows": len(rows),
            "head": head,
            "first_bad_seq": broken.seq if broken else None,
            "reason": broken.reason if broken else None,
        }
    )

"""Corrections, never edits: an amendment names a record, the new values and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from psycopg import sql
from pydantic import BaseModel, Field

from clearwell.authorize import acting, require
from clearwell.params import Id
from clearwell.web import invalid_many, json_response, not_found, transaction
from logbook.amend import check_fields
from logbook.api.common import (
    PLAUSIBILITY,
    REPLAY,
    ClientKey,
    client_key,
    range_source,
    readable,
)
from logbook.auth.sessions import Principal
from logbook.plausibility import Confirmation
from logbook.write import amendments

router = APIRouter(prefix="/api", tags=["amendments"])

Target = Literal["entry", "sample", "result", "crew"]


class AmendmentIn(BaseModel):
    target: Target
    target_id: Id
    changes: dict[str, Any] = Field(
        min_length=1,
        description="new values of the fields to change; for an entry, 'data' holds the"
        " kind's fields to change and 'occurred_at' the corrected time",
    )
    reason: Annotated[str, Field(min_length=3, max_length=2000)]
    client_key: ClientKey | None = None
    plausibility: Confirmation | None = PLAUSIBILITY


class AmendmentOut(BaseModel):
    id: int
    target: str
    target_id: int
    changes: dict[str, Any]
    reason: str
    amended_by: int
    amended_at: datetime
    after_signing: bool


@router.post(
    "/amendments",
    status_code=201,
    response_model=AmendmentOut,
    responses={404: {}, 409: {}, 503: {"description": "the site's file is not valid"}},
)
async def amend(
    body: AmendmentIn,
    user: Annotated[Principal, Depends(acting("amendment.create"))],
    request: Request,
) -> object:
    """Correct a record. The original stays; reading the record shows both. A trainee
    corrects only their own records; a time obeys the limits it had when recorded.

    An amendment to a record on a signed shift is accepted and marked as made after signing.
    A number it changes is judged by the site file's ranges as a new record's is.
    """
    errors = check_fields(body.target, body.changes)
    if errors:
        raise invalid_many(errors)
    key = client_key(request, body)
    async with transaction(request, user) as conn:
        made = await amendments.amend(
            conn,
            user,
            body.target,
            body.target_id,
            body.changes,
            body.reason,
            key,
            range_source(request),
            body.plausibility,
        )
        return json_response(await _one(conn, made.id), 201, REPLAY if made.replayed else None)


_COLS = "id, target, target_id, changes, reason, amended_by, amended_at, after_signing"
_KEYS = tuple(_COLS.split(", "))
# The site of the record an amendment corrects.
_SITE = sql.SQL("""CASE a.target
    WHEN 'entry' THEN (SELECT site_id FROM entries WHERE id = a.target_id)
    WHEN 'sample' THEN (SELECT site_id FROM samples WHERE id = a.target_id)
    WHEN 'result' THEN (SELECT s.site_id FROM sample_results r
                        JOIN samples s ON s.id = r.sample_id WHERE r.id = a.target_id)
    WHEN 'crew' THEN (SELECT s.site_id FROM shift_crew c
                      JOIN shifts s ON s.id = c.shift_id WHERE c.id = a.target_id)
END""")


async def _one(conn: Any, amendment_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT id, target, target_id, changes, reason, amended_by, amended_at, after_signing"
        " FROM amendments WHERE id = %s",
        (amendment_id,),
    )
    row = await cur.fetchone()
    return dict(zip(_KEYS, row, strict=True)) if row else None


async def _site_of(conn: Any, amendment_id: int) -> int | None:
    query = sql.SQL("SELECT {} FROM amendments a WHERE a.id = %s").format(_SITE)
    cur = await conn.execute(query, (amendment_id,))
    row = await cur.fetchone()
    return int(row[0]) if row and row[0] is not None else None


@router.get("/amendments", response_model=list[AmendmentOut])
async def list_amendments(
    user: Annotated[Principal, Depends(acting("amendment.read"))],
    request: Request,
    target: Target | None = None,
    target_id: Id | None = None,
    person: Annotated[Id | None, Query(description="amended_by person id")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> object:
    """Amendments of the records at the sites you may read."""
    async with transaction(request, user) as conn:
        query = sql.SQL(
            "SELECT id, target, target_id, changes, reason, amended_by, amended_at,"
            " after_signing FROM amendments a"
            " WHERE (%(t)s::text IS NULL OR target = %(t)s)"
            " AND (%(i)s::bigint IS NULL OR target_id = %(i)s)"
            " AND (%(p)s::int IS NULL OR amended_by = %(p)s)"
            " AND (%(s)s::int[] IS NULL OR {} = ANY(%(s)s))"
            " ORDER BY id LIMIT %(l)s"
        ).format(_SITE)
        cur = await conn.execute(
            query,
            {
                "t": target,
                "i": target_id,
                "p": person,
                "s": readable(user, "amendment.read"),
                "l": limit,
            },
        )
        rows = await cur.fetchall()
    return json_response([dict(zip(_KEYS, r, strict=True)) for r in rows])


@router.get("/amendments/{amendment_id}", response_model=AmendmentOut, responses={404: {}})
async def get_amendment(
    amendment_id: Id,
    user: Annotated[Principal, Depends(acting("amendment.read"))],
    request: Request,
) -> object:
    async with transaction(request, user) as conn:
        found = await _one(conn, amendment_id)
        if found is None:
            raise not_found("amendment", amendment_id)
        site_id = await _site_of(conn, amendment_id)
        assert site_id is not None
        require(user, "amendment.read", site_id, subject="amendment", subject_id=amendment_id)
    return json_response(found)

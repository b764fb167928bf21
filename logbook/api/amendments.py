"""Corrections, never edits: an amendment names a record, the new values and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from clearwell.params import Id
from clearwell.web import invalid_many, json_response, not_found, transaction
from logbook.amend import check_fields
from logbook.api.common import PLAUSIBILITY, REPLAY, ClientKey, client_key, range_source
from logbook.auth.deps import CurrentUser, RecordWriter
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
async def amend(body: AmendmentIn, user: RecordWriter, request: Request) -> object:
    """Correct a record. The original stays; reading the record shows both.

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


async def _one(conn: Any, amendment_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT id, target, target_id, changes, reason, amended_by, amended_at, after_signing"
        " FROM amendments WHERE id = %s",
        (amendment_id,),
    )
    row = await cur.fetchone()
    return dict(zip(_KEYS, row, strict=True)) if row else None


@router.get("/amendments", response_model=list[AmendmentOut])
async def list_amendments(
    user: CurrentUser,
    request: Request,
    target: Target | None = None,
    target_id: Id | None = None,
    person: Annotated[Id | None, Query(description="amended_by person id")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> object:
    async with transaction(request, user) as conn:
        cur = await conn.execute(
            "SELECT id, target, target_id, changes, reason, amended_by, amended_at,"
            " after_signing FROM amendments"
            " WHERE (%(t)s::text IS NULL OR target = %(t)s)"
            " AND (%(i)s::bigint IS NULL OR target_id = %(i)s)"
            " AND (%(p)s::int IS NULL OR amended_by = %(p)s) ORDER BY id LIMIT %(l)s",
            {"t": target, "i": target_id, "p": person, "l": limit},
        )
        rows = await cur.fetchall()
    return json_response([dict(zip(_KEYS, r, strict=True)) for r in rows])


@router.get("/amendments/{amendment_id}", response_model=AmendmentOut, responses={404: {}})
async def get_amendment(amendment_id: Id, user: CurrentUser, request: Request) -> object:
    async with transaction(request, user) as conn:
        found = await _one(conn, amendment_id)
    if found is None:
        raise not_found("amendment", amendment_id)
    return json_response(found)

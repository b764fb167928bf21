"""Shifts: open one at a facility (with its crew), list, read and close them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from psycopg import sql
from pydantic import BaseModel, Field

from clearwell.authorize import acting, require
from clearwell.params import Id, Instant
from clearwell.web import json_response, not_found, transaction
from logbook import store
from logbook.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    REPLAY,
    ClientKey,
    client_key,
    decode_cursor,
    encode_cursor,
    readable,
    site_id_for,
)
from logbook.api.shift_models import CrewIn, ShiftOut, locked_shift, shift_body
from logbook.auth.sessions import Principal
from logbook.write import shifts
from logbook.write.idempotency import request_detail

router = APIRouter(prefix="/api", tags=["shifts"])


class ShiftIn(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    label: Annotated[str, Field(max_length=80)] = ""
    opened_at: Instant | None = Field(None, description="default: now")
    crew: list[CrewIn] = Field(default_factory=list, max_length=50)
    client_key: ClientKey | None = None


class CloseIn(BaseModel):
    closed_at: Instant | None = Field(None, description="default: now")


class ShiftSummary(BaseModel):
    id: int
    site_id: int
    label: str
    opened_at: datetime
    opened_by: int
    closed_at: datetime | None
    signed: bool


class ShiftPage(BaseModel):
    items: list[ShiftSummary]
    next_cursor: str | None


@router.post("/shifts", status_code=201, response_model=ShiftOut)
async def open_shift(
    body: ShiftIn, user: Annotated[Principal, Depends(acting("shift.open"))], request: Request
) -> object:
    """Open a shift at a facility, optionally with its crew. Idempotent with a client key."""
    key = client_key(request, body)
    async with transaction(request, user) as conn:
        site_id = await site_id_for(conn, body.site)
        made = await shifts.open_shift(
            conn, user, site_id, body.label, body.opened_at, body.crew, request_detail(body), key
        )
        state = await store.shift_state(conn, made.id)
        assert state is not None
        return json_response(await shift_body(conn, state), 201, REPLAY if made.replayed else None)


@router.get("/shifts", response_model=ShiftPage)
async def list_shifts(
    user: Annotated[Principal, Depends(acting("shift.read"))],
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
    person: Annotated[Id | None, Query(description="a crew member's person id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    """Shifts by opening time, filtered by facility, time range and crew member; those of
    the sites you may read."""
    clauses = ["true"]
    params: list[Any] = []
    async with transaction(request, user) as conn:
        if site is not None:
            site_id = await site_id_for(conn, site, "site")
            require(user, "shift.read", site_id)
            clauses.append("s.site_id = %s")
            params.append(site_id)
        if (sites := readable(user, "shift.read")) is not None:
            clauses.append("s.site_id = ANY(%s)")
            params.append(sites)
        if start is not None:
            clauses.append("s.opened_at >= %s")
            params.append(start)
        if end is not None:
            clauses.append("s.opened_at < %s")
            params.append(end)
        if person is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM shift_crew c WHERE c.shift_id = s.id AND c.person_id = %s)"
            )
            params.append(person)
        if cursor:
            at, ident = decode_cursor(cursor)
            clauses.append("(s.opened_at, s.id) > (%s, %s)")
            params += [at, ident]
        query = sql.SQL(
            "SELECT s.id, s.site_id, s.label, s.opened_at, s.opened_by, c.closed_at,"
            " EXISTS (SELECT 1 FROM shift_signatures g WHERE g.shift_id = s.id)"
            " FROM shifts s LEFT JOIN shift_closures c ON c.shift_id = s.id"
            " WHERE {} ORDER BY s.opened_at, s.id LIMIT %s"
        ).format(sql.SQL(" AND ").join(map(sql.SQL, clauses)))
        cur = await conn.execute(query, [*params, limit + 1])
        rows = await cur.fetchall()
    keys = ("id", "site_id", "label", "opened_at", "opened_by", "closed_at", "signed")
    items = [dict(zip(keys, r, strict=True)) for r in rows[:limit]]
    next_cursor = (
        encode_cursor(rows[limit - 1][3], rows[limit - 1][0]) if len(rows) > limit else None
    )
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/shifts/{shift_id}", response_model=ShiftOut, responses={404: {}})
async def get_shift(
    shift_id: Id, user: Annotated[Principal, Depends(acting("shift.read"))], request: Request
) -> object:
    """A shift with its crew, handoff notes, signatures and whether each still matches."""
    async with transaction(request, user) as conn:
        state = await store.shift_state(conn, shift_id)
        if state is None:
            raise not_found("shift", shift_id)
        require(user, "shift.read", state.site_id, subject="shift", subject_id=shift_id)
        return json_response(await shift_body(conn, state))


@router.post("/shifts/{shift_id}/close", response_model=ShiftOut, responses={404: {}, 409: {}})
async def close_shift(
    shift_id: Id,
    body: CloseIn,
    user: Annotated[Principal, Depends(acting("shift.close"))],
    request: Request,
) -> object:
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "update")
        await shifts.close_shift(conn, user, state, body.closed_at)
        state = await locked_shift(conn, shift_id, "update")
        return json_response(await shift_body(conn, state))

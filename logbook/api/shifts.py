"""Shifts: open, crew (with roles and times on site), handoff notes, close and sign."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Query, Request
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, Field

from clearwell.web import json_response, not_found, transaction
from logbook import store
from logbook.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    REPLAY,
    client_key,
    decode_cursor,
    encode_cursor,
    site_id_for,
)
from logbook.auth.deps import CurrentUser, ShiftOperator, Writer
from logbook.write import crew, handoffs, shifts, signatures
from logbook.write.idempotency import request_detail

router = APIRouter(prefix="/api", tags=["shifts"])

ShiftRole = Literal["drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee"]
ClientKey = Annotated[str, Field(min_length=1, max_length=200)]


class CrewIn(BaseModel):
    person_id: int
    shift_role: ShiftRole
    arrived_at: AwareDatetime | None = Field(None, description="default: now")


class ShiftIn(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    label: Annotated[str, Field(max_length=80)] = ""
    opened_at: AwareDatetime | None = Field(None, description="default: now")
    crew: list[CrewIn] = Field(default_factory=list, max_length=50)
    client_key: ClientKey | None = None


class CrewAddIn(CrewIn):
    client_key: ClientKey | None = None


class DepartureIn(BaseModel):
    left_at: AwareDatetime | None = Field(None, description="default: now")


class CloseIn(BaseModel):
    closed_at: AwareDatetime | None = Field(None, description="default: now")


class HandoffIn(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    client_key: ClientKey | None = None


class AckIn(BaseModel):
    shift_id: int = Field(description="the incoming shift, on which you are DRC")


class SignIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    meaning: Annotated[str, Field(min_length=1, max_length=200)] = (
        "reviewed and attest this shift record"
    )


class CrewOut(BaseModel):
    id: int
    person_id: int
    username: str
    full_name: str
    shift_role: str
    arrived_at: datetime
    left_at: datetime | None
    added_by: int
    recorded_at: datetime
    original: dict[str, Any] | None
    history: list[dict[str, Any]]


class SignatureOut(BaseModel):
    id: int
    person_id: int
    username: str
    content_sha256: str
    signed_at: datetime
    meaning: str
    content_matches: bool


class HandoffOut(BaseModel):
    id: int
    from_shift_id: int
    body: str
    written_by: int
    written_at: datetime
    acknowledgement: dict[str, Any] | None


class ShiftOut(BaseModel):
    id: int
    site_id: int
    label: str
    opened_at: datetime
    opened_by: int
    closed_at: datetime | None
    closed_by: int | None
    signed: bool
    content_sha256: str
    crew: list[CrewOut]
    handoff_notes: list[HandoffOut]
    signatures: list[SignatureOut]


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


async def shift_body(conn: psycopg.AsyncConnection[Any], state: store.ShiftState) -> dict[str, Any]:
    """The shift as ``ShiftOut``: crew, notes, and whether each signature still matches."""
    digest = await store.content_hash(conn, state)
    sigs = await store.signatures(conn, state.id)
    return {
        "id": state.id,
        "site_id": state.site_id,
        "label": state.label,
        "opened_at": state.opened_at,
        "opened_by": state.opened_by,
        "closed_at": state.closed_at,
        "closed_by": state.closed_by,
        "signed": state.signed,
        "content_sha256": digest,
        "crew": await store.crew(conn, state.id),
        "handoff_notes": await store.handoff_notes(conn, state.id),
        "signatures": [{**s, "content_matches": s["content_sha256"] == digest} for s in sigs],
    }


async def locked_shift(
    conn: psycopg.AsyncConnection[Any], shift_id: int, lock: str
) -> store.ShiftState:
    """The shift a path names, locked (``store.shift_state`` says which lock for what)."""
    state = await store.shift_state(conn, shift_id, lock)
    if state is None:
        raise not_found("shift", shift_id)
    return state


@router.post("/shifts", status_code=201, response_model=ShiftOut)
async def open_shift(body: ShiftIn, user: ShiftOperator, request: Request) -> object:
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
    user: CurrentUser,
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    person: Annotated[int | None, Query(description="a crew member's person id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    """Shifts by opening time, filtered by facility, time range and crew member."""
    clauses = ["true"]
    params: list[Any] = []
    async with transaction(request, user) as conn:
        if site is not None:
            clauses.append("s.site_id = %s")
            params.append(await site_id_for(conn, site, "site"))
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
async def get_shift(shift_id: int, user: CurrentUser, request: Request) -> object:
    """A shift with its crew, handoff notes, signatures and whether each still matches."""
    async with transaction(request, user) as conn:
        state = await store.shift_state(conn, shift_id)
        if state is None:
            raise not_found("shift", shift_id)
        return json_response(await shift_body(conn, state))


@router.post(
    "/shifts/{shift_id}/crew",
    status_code=201,
    response_model=ShiftOut,
    responses={404: {}, 409: {}},
)
async def add_crew(shift_id: int, body: CrewAddIn, user: ShiftOperator, request: Request) -> object:
    """Add a person to the crew; designating the DRC needs a chief operator or admin."""
    key = client_key(request, body, shift_id=shift_id)
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "share")
        made = await crew.add_member(conn, user, state, body, request_detail(body), key)
        return json_response(await shift_body(conn, state), 201, REPLAY if made.replayed else None)


@router.post(
    "/shifts/{shift_id}/crew/{crew_id}/departure",
    response_model=ShiftOut,
    responses={404: {}, 409: {}},
)
async def crew_departure(
    shift_id: int, crew_id: int, body: DepartureIn, user: Writer, request: Request
) -> object:
    """Record that a crew member left the site (people leave early)."""
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "share")
        await crew.record_departure(conn, user, state, crew_id, body.left_at)
        return json_response(await shift_body(conn, state))


@router.post("/shifts/{shift_id}/close", response_model=ShiftOut, responses={404: {}, 409: {}})
async def close_shift(
    shift_id: int, body: CloseIn, user: ShiftOperator, request: Request
) -> object:
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "update")
        await shifts.close_shift(conn, user, state, body.closed_at)
        state = await locked_shift(conn, shift_id, "update")
        return json_response(await shift_body(conn, state))


@router.post(
    "/shifts/{shift_id}/handoff",
    status_code=201,
    response_model=HandoffOut,
    responses={404: {}, 409: {}},
)
async def write_handoff(
    shift_id: int, body: HandoffIn, user: ShiftOperator, request: Request
) -> object:
    """The outgoing shift's note to the incoming one."""
    key = client_key(request, body, shift_id=shift_id)
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "share")
        made = await handoffs.write_note(conn, user, state, body.body, key)
        notes = await store.handoff_notes(conn, shift_id)
    note = next(n for n in notes if n["id"] == made.id)
    return json_response(note, 201, REPLAY if made.replayed else None)


@router.post(
    "/handoff-notes/{note_id}/acknowledge", response_model=HandoffOut, responses={404: {}, 409: {}}
)
async def acknowledge_handoff(note_id: int, body: AckIn, user: Writer, request: Request) -> object:
    """The incoming shift's DRC acknowledges the handoff note."""
    async with transaction(request, user) as conn:
        from_shift_id = await handoffs.acknowledge(conn, user, note_id, body.shift_id)
        notes = await store.handoff_notes(conn, from_shift_id)
    return json_response(next(n for n in notes if n["id"] == note_id))


@router.post(
    "/shifts/{shift_id}/sign",
    status_code=201,
    response_model=ShiftOut,
    responses={404: {}, 409: {}},
)
async def sign_shift(shift_id: int, body: SignIn, user: ShiftOperator, request: Request) -> object:
    """Sign a closed shift you worked, re-entering your password; the shift is then frozen.

    The signature is bound to the sha256 of the shift's content at this moment.
    """
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "update")
        await signatures.sign_shift(conn, user, state, body.password, body.meaning)
        state = await locked_shift(conn, shift_id, "update")
        return json_response(await shift_body(conn, state), 201)

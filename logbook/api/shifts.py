"""Shifts: open, crew (with roles and times on site), handoff notes, close and sign."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, Field

from clearwell.web import Denied, conflict, invalid, json_response, not_found, transaction
from logbook import audit, store
from logbook.api.common import (
    CLOCK_SKEW,
    DEFAULT_PAGE,
    MAX_PAGE,
    REPLAY,
    already_made,
    check_replay,
    check_site,
    client_key,
    decode_cursor,
    encode_cursor,
    now,
    request_sha,
    site_id_for,
)
from logbook.auth.deps import CurrentUser, ShiftOperator, Writer
from logbook.auth.sessions import check_secret, current_secret_hash
from logbook.people import current_role

router = APIRouter(prefix="/api", tags=["shifts"])

ShiftRole = Literal["drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee"]
# Designating who is in direct responsible charge is the owner's decision.
DRC_DESIGNATORS = ("chief_operator", "admin")
# Roles a person may not hold on a crew.
NOT_CREW = ("admin", "regulator", "disabled")


class CrewIn(BaseModel):
    person_id: int
    shift_role: ShiftRole
    arrived_at: AwareDatetime | None = Field(None, description="default: now")


class ShiftIn(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    label: Annotated[str, Field(max_length=80)] = ""
    opened_at: AwareDatetime | None = Field(None, description="default: now")
    crew: list[CrewIn] = Field(default_factory=list, max_length=50)
    client_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None


ClientKey = Annotated[str, Field(min_length=1, max_length=200)]


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


async def shift_body(conn: Any, state: store.ShiftState) -> dict[str, Any]:
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


def check_open(state: store.ShiftState) -> None:
    if state.signed:
        raise conflict(
            f"shift {state.id} is signed and frozen; record a correction as an amendment"
        )
    if state.closed_at is not None:
        raise conflict(f"shift {state.id} is closed")


async def _add_crew(
    conn: Any,
    user: Any,
    state: store.ShiftState,
    member: CrewIn,
    field: str,
    key: str | None = None,
    sha: str | None = None,
) -> int | None:
    """The new crew row's id; None if a concurrent request with the same key made it."""
    role = await current_role(conn, member.person_id)
    if role is None:
        raise invalid(f"{field}.person_id", f"no person with id {member.person_id}")
    if role in NOT_CREW:
        raise invalid(f"{field}.person_id", f"a person with role {role} cannot be on a crew")
    if (role == "trainee") != (member.shift_role == "trainee"):
        raise invalid(
            f"{field}.shift_role",
            "a trainee serves as 'trainee', and only trainees do",
        )
    if member.shift_role == "drc" and user.role not in DRC_DESIGNATORS:
        raise Denied(
            "only a chief operator or admin designates the DRC", "shift", state.id, state.site_id
        )
    arrived = member.arrived_at or now()
    if arrived > now() + CLOCK_SKEW:
        raise invalid(f"{field}.arrived_at", "is in the future")
    cur = await conn.execute(
        "INSERT INTO shift_crew (shift_id, person_id, shift_role, arrived_at, added_by,"
        " client_key, request_sha) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (added_by, client_key) DO NOTHING RETURNING id",
        (state.id, member.person_id, member.shift_role, arrived, user.id, key, sha),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else None


@router.post("/shifts", status_code=201, response_model=ShiftOut)
async def open_shift(body: ShiftIn, user: ShiftOperator, request: Request) -> object:
    """Open a shift at a facility, optionally with its crew. Idempotent with a client key."""
    key = client_key(request, body.client_key)
    sha = request_sha(body)
    async with transaction(request, user) as conn:
        site_id = await site_id_for(conn, body.site)
        check_site(user, site_id)
        opened = body.opened_at or now()
        if opened > now() + CLOCK_SKEW:
            raise invalid("opened_at", "is in the future")
        cur = await conn.execute(
            "INSERT INTO shifts (site_id, label, opened_at, opened_by, client_key, request_sha)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (opened_by, client_key) DO NOTHING"
            " RETURNING id",
            (site_id, body.label, opened, user.id, key, sha),
        )
        row = await cur.fetchone()
        if row is None:
            cur = await conn.execute(
                "SELECT id, request_sha FROM shifts WHERE opened_by = %s AND client_key = %s",
                (user.id, key),
            )
            existing = await cur.fetchone()
            assert existing is not None
            check_replay(existing[1], sha)
            state = await store.shift_state(conn, existing[0])
            assert state is not None
            return json_response(await shift_body(conn, state), 201, {"Idempotent-Replay": "true"})
        state = await store.shift_state(conn, row[0])
        assert state is not None
        for i, member in enumerate(body.crew):
            await _add_crew(conn, user, state, member, f"crew.{i}")
        await audit.append(
            conn,
            user.actor,
            "shift.open",
            "shift",
            state.id,
            site_id,
            body.model_dump(mode="json", exclude={"client_key"}),
        )
        return json_response(await shift_body(conn, state), 201)


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


async def _locked(conn: Any, shift_id: int, lock: str) -> store.ShiftState:
    state = await store.shift_state(conn, shift_id, lock)
    if state is None:
        raise not_found("shift", shift_id)
    return state


@router.post(
    "/shifts/{shift_id}/crew",
    status_code=201,
    response_model=ShiftOut,
    responses={404: {}, 409: {}},
)
async def add_crew(shift_id: int, body: CrewAddIn, user: ShiftOperator, request: Request) -> object:
    """Add a person to the crew; designating the DRC needs a chief operator or admin."""
    key = client_key(request, body.client_key)
    sha = request_sha(body, shift_id=shift_id)
    async with transaction(request, user) as conn:
        state = await _locked(conn, shift_id, "share")
        check_site(user, state.site_id)
        if await already_made(conn, "shift_crew", "added_by", user.id, key, sha):
            return json_response(await shift_body(conn, state), 201, REPLAY)
        check_open(state)
        crew_id = await _add_crew(conn, user, state, body, "", key, sha)
        if crew_id is None:
            await already_made(conn, "shift_crew", "added_by", user.id, key, sha)
            return json_response(await shift_body(conn, state), 201, REPLAY)
        await audit.append(
            conn,
            user.actor,
            "shift.crew_add",
            "crew",
            crew_id,
            state.site_id,
            {"shift_id": shift_id, **body.model_dump(mode="json", exclude={"client_key"})},
        )
        return json_response(await shift_body(conn, state), 201)


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
        state = await _locked(conn, shift_id, "share")
        check_site(user, state.site_id)
        if state.signed:
            check_open(state)
        cur = await conn.execute(
            "SELECT arrived_at FROM shift_crew WHERE id = %s AND shift_id = %s", (crew_id, shift_id)
        )
        row = await cur.fetchone()
        if row is None:
            raise not_found("crew member", crew_id)
        left = body.left_at or now()
        if left < row[0]:
            raise invalid("left_at", "is before the person arrived")
        cur = await conn.execute(
            "INSERT INTO crew_departures (crew_id, left_at, recorded_by) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING crew_id",
            (crew_id, left, user.id),
        )
        if await cur.fetchone() is None:
            raise conflict("this departure is already recorded; correct it with an amendment")
        await audit.append(
            conn,
            user.actor,
            "shift.crew_departure",
            "crew",
            crew_id,
            state.site_id,
            {"shift_id": shift_id, "left_at": left},
        )
        return json_response(await shift_body(conn, state))


@router.post("/shifts/{shift_id}/close", response_model=ShiftOut, responses={404: {}, 409: {}})
async def close_shift(
    shift_id: int, body: CloseIn, user: ShiftOperator, request: Request
) -> object:
    async with transaction(request, user) as conn:
        state = await _locked(conn, shift_id, "update")
        check_site(user, state.site_id)
        check_open(state)
        closed = body.closed_at or now()
        if closed < state.opened_at:
            raise invalid("closed_at", "is before the shift opened")
        if closed > now() + CLOCK_SKEW:
            raise invalid("closed_at", "is in the future")
        await conn.execute(
            "INSERT INTO shift_closures (shift_id, closed_at, closed_by) VALUES (%s, %s, %s)",
            (shift_id, closed, user.id),
        )
        await audit.append(
            conn,
            user.actor,
            "shift.close",
            "shift",
            shift_id,
            state.site_id,
            {"closed_at": closed},
        )
        state = await _locked(conn, shift_id, "update")
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
    key = client_key(request, body.client_key)
    sha = request_sha(body, shift_id=shift_id)
    async with transaction(request, user) as conn:
        state = await _locked(conn, shift_id, "share")
        check_site(user, state.site_id)
        seen = await already_made(conn, "handoff_notes", "written_by", user.id, key, sha)
        if seen:
            notes = await store.handoff_notes(conn, shift_id)
            return json_response(next(n for n in notes if n["id"] == seen), 201, REPLAY)
        if state.signed:
            check_open(state)
        cur = await conn.execute(
            "INSERT INTO handoff_notes (from_shift_id, body, written_by, client_key, request_sha)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (written_by, client_key) DO NOTHING RETURNING id",
            (shift_id, body.body, user.id, key, sha),
        )
        row = await cur.fetchone()
        if row is None:
            seen = await already_made(conn, "handoff_notes", "written_by", user.id, key, sha)
            notes = await store.handoff_notes(conn, shift_id)
            return json_response(next(n for n in notes if n["id"] == seen), 201, REPLAY)
        await audit.append(
            conn,
            user.actor,
            "shift.handoff_note",
            "handoff_note",
            row[0],
            state.site_id,
            {"from_shift_id": shift_id, "body": body.body},
        )
        notes = await store.handoff_notes(conn, shift_id)
    return json_response(next(n for n in notes if n["id"] == row[0]), 201)


@router.post(
    "/handoff-notes/{note_id}/acknowledge", response_model=HandoffOut, responses={404: {}, 409: {}}
)
async def acknowledge_handoff(note_id: int, body: AckIn, user: Writer, request: Request) -> object:
    """The incoming shift's DRC acknowledges the handoff note."""
    async with transaction(request, user) as conn:
        cur = await conn.execute(
            "SELECT n.from_shift_id, s.site_id, s.opened_at FROM handoff_notes n"
            " JOIN shifts s ON s.id = n.from_shift_id WHERE n.id = %s",
            (note_id,),
        )
        note = await cur.fetchone()
        if note is None:
            raise not_found("handoff note", note_id)
        incoming = await store.shift_state(conn, body.shift_id)
        if incoming is None:
            raise invalid("shift_id", f"no shift with id {body.shift_id}")
        if incoming.id == note[0] or incoming.site_id != note[1] or incoming.opened_at < note[2]:
            raise invalid("shift_id", "is not a later shift at the same facility")
        check_site(user, incoming.site_id)
        cur = await conn.execute(
            "SELECT 1 FROM shift_crew WHERE shift_id = %s AND person_id = %s"
            " AND shift_role = 'drc'",
            (incoming.id, user.id),
        )
        if await cur.fetchone() is None:
            raise Denied(
                "only the incoming shift's DRC acknowledges the handoff",
                "handoff_note",
                note_id,
                note[1],
            )
        cur = await conn.execute(
            "INSERT INTO handoff_acks (note_id, to_shift_id, acknowledged_by) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING note_id",
            (note_id, incoming.id, user.id),
        )
        if await cur.fetchone() is None:
            raise conflict(f"handoff note {note_id} is already acknowledged")
        await audit.append(
            conn,
            user.actor,
            "shift.handoff_ack",
            "handoff_note",
            note_id,
            note[1],
            {"to_shift_id": incoming.id},
        )
        notes = await store.handoff_notes(conn, note[0])
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
        state = await _locked(conn, shift_id, "update")
        check_site(user, state.site_id)
        cur = await conn.execute(
            "SELECT 1 FROM shift_crew WHERE shift_id = %s AND person_id = %s"
            " AND shift_role <> 'trainee'",
            (shift_id, user.id),
        )
        if await cur.fetchone() is None or user.role not in ("operator", "chief_operator"):
            raise Denied(
                "only an operator who worked this shift may sign it",
                "shift",
                shift_id,
                state.site_id,
            )
        if state.closed_at is None:
            raise conflict(f"shift {shift_id} is still open; close it before signing")
        cur = await conn.execute(
            "SELECT e.id FROM entries e WHERE e.shift_id = %s AND e.by_trainee AND NOT EXISTS"
            " (SELECT 1 FROM entry_countersignatures c WHERE c.entry_id = e.id) ORDER BY e.id",
            (shift_id,),
        )
        pending = [r[0] for r in await cur.fetchall()]
        if pending:
            raise conflict(
                "trainee entries need a countersignature before signing: "
                + ", ".join(map(str, pending))
            )
        if not await check_secret(await current_secret_hash(conn, user.id), body.password):
            raise Denied(
                "the password does not match; the shift is not signed",
                "shift",
                shift_id,
                state.site_id,
            )
        digest = await store.content_hash(conn, state)
        cur = await conn.execute(
            "INSERT INTO shift_signatures (shift_id, person_id, content_sha256, meaning)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            (shift_id, user.id, digest, body.meaning),
        )
        row = await cur.fetchone()
        if row is None:
            raise conflict(f"you have already signed shift {shift_id}")
        await audit.append(
            conn,
            user.actor,
            "shift.sign",
            "shift",
            shift_id,
            state.site_id,
            {"content_sha256": digest, "signature_id": row[0], "meaning": body.meaning},
        )
        state = await _locked(conn, shift_id, "update")
        return json_response(await shift_body(conn, state), 201)

"""A shift's crew: who serves in which shift role, when they arrived and left."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import psycopg

from clearwell.authorize import require
from clearwell.web import conflict, invalid, not_found
from logbook import audit
from logbook.auth.sessions import Principal
from logbook.people import current_role
from logbook.store import ShiftState
from logbook.write.idempotency import Made, RequestKey, already_made, insert_once
from logbook.write.rules import check_open, check_plausible, now

SHIFT_ROLES = ("drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee")
# The roles that may hold charge of a shift, whichever of them a state's rule picks.
CHARGE_ROLES = ("drc", "chief", "assistant_chief", "shift_operator")
# Roles a person may not hold on a crew.
NOT_CREW = ("admin", "regulator", "disabled")


class CrewMember(Protocol):
    """Who joins the crew, in which shift role, arriving when (None: now)."""

    @property
    def person_id(self) -> int: ...

    @property
    def shift_role(self) -> str: ...

    @property
    def arrived_at(self) -> datetime | None: ...


async def insert_member(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    shift_id: int,
    site_id: int,
    member: CrewMember,
    field: str,
    key: RequestKey | None = None,
    arrives: datetime | None = None,
    since: datetime | None = None,
) -> Made:
    """The crew row, after the rules on who may serve and who designates the DRC;
    ``field`` names the member in the request for errors. A member who gives no arrival
    arrives at ``arrives`` (the shift's opening, for its first crew), else now; one who
    does, at a plausible time before ``since`` (now, unless a seeder writes history)."""
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
    if member.shift_role == "drc":
        require(user, "crew.designate_drc", site_id, subject="shift", subject_id=shift_id)
    arrived = member.arrived_at or arrives or now()
    if member.arrived_at is not None:
        check_plausible(f"{field}.arrived_at", arrived, since)
    return await insert_crew(
        conn, shift_id, member.person_id, member.shift_role, arrived, user.id, key
    )


async def insert_crew(
    conn: psycopg.AsyncConnection[Any],
    shift_id: int,
    person_id: int,
    shift_role: str,
    arrived_at: datetime,
    added_by: int,
    key: RequestKey | None = None,
) -> Made:
    """The crew row alone: no checks, no audit (``insert_member`` checks)."""
    row = {
        "shift_id": shift_id,
        "person_id": person_id,
        "shift_role": shift_role,
        "arrived_at": arrived_at,
    }
    return await insert_once(conn, "shift_crew", row, added_by, key)


async def add_member(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    state: ShiftState,
    member: CrewMember,
    sent: dict[str, Any],
    key: RequestKey,
) -> Made:
    """Adds a person to an open shift's crew (``state`` share-locked); ``sent`` is the
    request as sent, for the audit log."""
    require(user, "crew.add", state.site_id, subject="shift", subject_id=state.id)
    seen = await already_made(conn, "shift_crew", user.id, key)
    if seen:
        return seen
    check_open(state)
    made = await insert_member(conn, user, state.id, state.site_id, member, "", key)
    if not made.replayed:
        await audit.append(
            conn,
            user.actor,
            "shift.crew_add",
            "crew",
            made.id,
            state.site_id,
            {"shift_id": state.id, **sent},
        )
    return made


async def record_departure(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    state: ShiftState,
    crew_id: int,
    left_at: datetime | None,
    written_at: datetime | None = None,
) -> None:
    """A crew member left the site (people leave early); once per crew row. Who records it
    is the matrix's: a trainee records only their own departure. ``left_at`` is at most
    a plausible time before ``written_at`` (now, unless a seeder writes history)."""
    cur = await conn.execute(
        "SELECT arrived_at, person_id FROM shift_crew WHERE id = %s AND shift_id = %s",
        (crew_id, state.id),
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("crew member", crew_id)
    require(user, "crew.departure", state.site_id, row[1], "crew", crew_id)
    if state.signed:
        check_open(state)
    left = left_at or written_at or now()
    if left < row[0]:
        raise invalid("left_at", "is before the person arrived")
    if left_at is not None:
        check_plausible("left_at", left, written_at)
    if not await insert_departure(conn, crew_id, left, user.id):
        raise conflict("this departure is already recorded; correct it with an amendment")
    await audit.append(
        conn,
        user.actor,
        "shift.crew_departure",
        "crew",
        crew_id,
        state.site_id,
        {"shift_id": state.id, "left_at": left},
    )


async def insert_departure(
    conn: psycopg.AsyncConnection[Any], crew_id: int, left_at: datetime, person_id: int
) -> bool:
    """The departure row; False if this crew row already has one."""
    cur = await conn.execute(
        "INSERT INTO crew_departures (crew_id, left_at, recorded_by) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING crew_id",
        (crew_id, left_at, person_id),
    )
    return await cur.fetchone() is not None

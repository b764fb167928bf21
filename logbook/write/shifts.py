"""Opening a shift at a facility, with its first crew, and closing it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from clearwell.authorize import require
from clearwell.web import invalid
from logbook import audit
from logbook.auth.sessions import Principal
from logbook.store import ShiftState
from logbook.write.crew import CrewMember, insert_member
from logbook.write.idempotency import Made, RequestKey, insert_once
from logbook.write.rules import check_open, check_plausible, now


async def insert_shift(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    label: str,
    opened_at: datetime,
    person_id: int,
    key: RequestKey | None = None,
) -> Made:
    """The shift row alone: no checks, no crew, no audit (``open_shift`` adds them)."""
    row = {"site_id": site_id, "label": label, "opened_at": opened_at}
    return await insert_once(conn, "shifts", row, person_id, key)


async def open_shift(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    site_id: int,
    label: str,
    opened_at: datetime | None,
    crew: Sequence[CrewMember],
    sent: dict[str, Any],
    key: RequestKey,
    written_at: datetime | None = None,
) -> Made:
    """Opens a shift with its crew; ``sent`` is the request as sent, for the audit log.
    Its time is plausible before ``written_at`` (now, unless a seeder writes history)."""
    require(user, "shift.open", site_id)
    opened = opened_at or written_at or now()
    check_plausible("opened_at", opened, written_at)
    made = await insert_shift(conn, site_id, label, opened, user.id, key)
    if made.replayed:
        return made
    # The first crew is on site when the shift opens: an arrival a few milliseconds
    # later would leave the shift's first instant with no one in charge.
    for i, member in enumerate(crew):
        await insert_member(
            conn,
            user,
            made.id,
            site_id,
            member,
            f"crew.{i}",
            arrives=opened,
            since=written_at,
        )
    await audit.append(conn, user.actor, "shift.open", "shift", made.id, site_id, sent)
    return made


async def close_shift(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    state: ShiftState,
    closed_at: datetime | None,
    written_at: datetime | None = None,
) -> None:
    """Closes an open shift (``state`` locked for update); ``written_at`` as for
    ``open_shift``."""
    require(user, "shift.close", state.site_id, subject="shift", subject_id=state.id)
    check_open(state)
    closed = closed_at or written_at or now()
    if closed < state.opened_at:
        raise invalid("closed_at", "is before the shift opened")
    check_plausible("closed_at", closed, written_at)
    await insert_closure(conn, state.id, closed, user.id)
    await audit.append(
        conn,
        user.actor,
        "shift.close",
        "shift",
        state.id,
        state.site_id,
        {"closed_at": closed},
    )


async def insert_closure(
    conn: psycopg.AsyncConnection[Any], shift_id: int, closed_at: datetime, person_id: int
) -> None:
    await conn.execute(
        "INSERT INTO shift_closures (shift_id, closed_at, closed_by) VALUES (%s, %s, %s)",
        (shift_id, closed_at, person_id),
    )

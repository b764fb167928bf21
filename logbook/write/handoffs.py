"""Handoff notes: the outgoing shift's note, and the incoming DRC's acknowledgement."""

from __future__ import annotations

from typing import Any

import psycopg

from clearwell.authorize import require
from clearwell.web import Denied, conflict, invalid, not_found
from logbook import audit, store
from logbook.auth.sessions import Principal
from logbook.store import ShiftState
from logbook.write.crew import CHARGE_ROLES
from logbook.write.idempotency import Made, RequestKey, already_made, insert_once
from logbook.write.rules import check_open


async def write_note(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    state: ShiftState,
    body: str,
    key: RequestKey,
) -> Made:
    """The note on a shift not yet signed (``state`` share-locked)."""
    require(user, "handoff.write", state.site_id, subject="shift", subject_id=state.id)
    seen = await already_made(conn, "handoff_notes", user.id, key)
    if seen:
        return seen
    if state.signed:
        check_open(state)
    row = {"from_shift_id": state.id, "body": body}
    made = await insert_once(conn, "handoff_notes", row, user.id, key)
    if not made.replayed:
        await audit.append(
            conn,
            user.actor,
            "shift.handoff_note",
            "handoff_note",
            made.id,
            state.site_id,
            {"from_shift_id": state.id, "body": body},
        )
    return made


async def acknowledge(
    conn: psycopg.AsyncConnection[Any], user: Principal, note_id: int, shift_id: int
) -> int:
    """Whoever holds charge of the incoming shift (a member in a role that may: a DRC, a
    chief, an assistant chief or a shift operator) acknowledges a note; returns the
    note's shift."""
    cur = await conn.execute(
        "SELECT n.from_shift_id, s.site_id, s.opened_at FROM handoff_notes n"
        " JOIN shifts s ON s.id = n.from_shift_id WHERE n.id = %s",
        (note_id,),
    )
    note = await cur.fetchone()
    if note is None:
        raise not_found("handoff note", note_id)
    from_shift_id, site_id, opened_at = note
    require(user, "handoff.acknowledge", site_id, subject="handoff_note", subject_id=note_id)
    incoming = await store.shift_state(conn, shift_id)
    if incoming is None:
        raise invalid("shift_id", f"no shift with id {shift_id}")
    if (
        incoming.id == from_shift_id
        or incoming.site_id != site_id
        or incoming.opened_at < opened_at
    ):
        raise invalid("shift_id", "is not a later shift at the same facility")
    cur = await conn.execute(
        "SELECT 1 FROM shift_crew WHERE shift_id = %s AND person_id = %s AND shift_role = ANY(%s)",
        (incoming.id, user.id, list(CHARGE_ROLES)),
    )
    if await cur.fetchone() is None:
        raise Denied(
            "only who holds charge of the incoming shift acknowledges the handoff",
            "handoff_note",
            note_id,
            site_id,
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
        site_id,
        {"to_shift_id": incoming.id},
    )
    return int(from_shift_id)

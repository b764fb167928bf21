"""A shift as the shift, crew, handoff and signature routers take and answer it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, Field

from clearwell.params import Id, Instant
from clearwell.web import not_found
from logbook import store

ShiftRole = Literal["drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee"]


class CrewIn(BaseModel):
    person_id: Id
    shift_role: ShiftRole
    arrived_at: Instant | None = Field(None, description="default: now")


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

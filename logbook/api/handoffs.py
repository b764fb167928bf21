"""Handoff notes: the outgoing shift's note, acknowledged by whoever holds charge of the
incoming shift."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from clearwell.authorize import acting
from clearwell.params import Id
from clearwell.web import json_response, transaction
from logbook import store
from logbook.api.common import REPLAY, ClientKey, client_key
from logbook.api.shift_models import HandoffOut, locked_shift
from logbook.auth.sessions import Principal
from logbook.write import handoffs

router = APIRouter(prefix="/api", tags=["shifts"])


class HandoffIn(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    client_key: ClientKey | None = None


class AckIn(BaseModel):
    shift_id: Id = Field(description="the incoming shift, on which you are DRC")


@router.post(
    "/shifts/{shift_id}/handoff",
    status_code=201,
    response_model=HandoffOut,
    responses={404: {}, 409: {}},
)
async def write_handoff(
    shift_id: Id,
    body: HandoffIn,
    user: Annotated[Principal, Depends(acting("handoff.write"))],
    request: Request,
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
async def acknowledge_handoff(
    note_id: Id,
    body: AckIn,
    user: Annotated[Principal, Depends(acting("handoff.acknowledge"))],
    request: Request,
) -> object:
    """Whoever holds charge of the incoming shift acknowledges the handoff note."""
    async with transaction(request, user) as conn:
        from_shift_id = await handoffs.acknowledge(conn, user, note_id, body.shift_id)
        notes = await store.handoff_notes(conn, from_shift_id)
    return json_response(next(n for n in notes if n["id"] == note_id))

"""A shift's crew: add a person in a shift role, record that they left the site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from clearwell.authorize import acting
from clearwell.params import Id, Instant
from clearwell.web import json_response, transaction
from logbook.api.common import REPLAY, ClientKey, client_key
from logbook.api.shift_models import CrewIn, ShiftOut, locked_shift, shift_body
from logbook.auth.sessions import Principal
from logbook.write import crew
from logbook.write.idempotency import request_detail

router = APIRouter(prefix="/api", tags=["shifts"])


class CrewAddIn(CrewIn):
    client_key: ClientKey | None = None


class DepartureIn(BaseModel):
    left_at: Instant | None = Field(None, description="default: now")


@router.post(
    "/shifts/{shift_id}/crew",
    status_code=201,
    response_model=ShiftOut,
    responses={404: {}, 409: {}},
)
async def add_crew(
    shift_id: Id,
    body: CrewAddIn,
    user: Annotated[Principal, Depends(acting("crew.add"))],
    request: Request,
) -> object:
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
    shift_id: Id,
    crew_id: Id,
    body: DepartureIn,
    user: Annotated[Principal, Depends(acting("crew.departure"))],
    request: Request,
) -> object:
    """Record that a crew member left the site (people leave early); a trainee records
    only their own."""
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "share")
        await crew.record_departure(conn, user, state, crew_id, body.left_at)
        return json_response(await shift_body(conn, state))

"""Operators' training records: add (or correct), retract, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clearwell.params import Id
from clearwell.web import transaction
from compliance.api.common import answer, may_read, refusals
from compliance.services import records
from compliance.services.records import RetractIn, TrainingIn
from logbook.auth.deps import CurrentUser, Supervisor

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/training", status_code=201, responses={403: {}, 422: {}})
async def add_training(body: TrainingIn, user: Supervisor, request: Request) -> Response:
    """Record training an operator took (or, with ``supersedes``, a correction)."""
    with refusals():
        async with transaction(request, user) as conn:
            created = await records.add_training(conn, user.actor, body)
    return answer(created, 201)


@router.post("/training/{training_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_training(
    training_id: Id, body: RetractIn, user: Supervisor, request: Request
) -> Response:
    with refusals():
        async with transaction(request, user) as conn:
            out = await records.retract(
                conn, user.actor, records.TRAINING, training_id, body.reason
            )
    return answer(out)


@router.get("/training", responses={403: {}})
async def list_training(
    user: CurrentUser,
    request: Request,
    person: Annotated[Id | None, Query(description="people.id")] = None,
    all_versions: bool = False,
) -> Response:
    async with transaction(request, user) as conn:
        items = await records.listing(conn, records.TRAINING, may_read(user, person), all_versions)
    return answer({"items": items})

"""Operators' training records: add (or correct), retract, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clearwell.authorize import acting
from clearwell.params import Id
from clearwell.web import transaction
from compliance.api.common import about, answer, refusals, whose
from compliance.services import records
from compliance.services.records import RetractIn, TrainingIn
from logbook.auth.sessions import Principal

Writer = Annotated[Principal, Depends(acting("training.write"))]

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/training", status_code=201, responses={403: {}, 422: {}})
async def add_training(body: TrainingIn, user: Writer, request: Request) -> Response:
    """Record training an operator took (or, with ``supersedes``, a correction): a chief
    operator for the people of their sites, never their own."""
    with refusals():
        async with transaction(request, user) as conn:
            await about(conn, user, "training.write", body.person_id)
            created = await records.add_training(conn, user.actor, body)
    return answer(created, 201)


@router.post("/training/{training_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_training(
    training_id: Id, body: RetractIn, user: Writer, request: Request
) -> Response:
    with refusals():
        async with transaction(request, user) as conn:
            found = await records.find(conn, records.TRAINING, training_id)
            if found is not None:
                await about(conn, user, "training.write", found["person_id"])
            out = await records.retract(
                conn, user.actor, records.TRAINING, training_id, body.reason
            )
    return answer(out)


@router.get("/training", responses={403: {}})
async def list_training(
    user: Annotated[Principal, Depends(acting("training.read"))],
    request: Request,
    person: Annotated[Id | None, Query(description="people.id")] = None,
    all_versions: bool = False,
) -> Response:
    async with transaction(request, user) as conn:
        one, sites = await whose(conn, user, "training.read", person)
        items = await records.listing(conn, records.TRAINING, one, all_versions, sites)
    return answer({"items": items})

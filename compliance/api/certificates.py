"""Operators' certificates: add (or correct), retract, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clearwell.params import Id
from clearwell.web import transaction
from compliance.api.common import answer, may_read, refusals
from compliance.services import records
from compliance.services.records import CertificateIn, RetractIn
from logbook.auth.deps import CurrentUser, Supervisor

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/certificates", status_code=201, responses={403: {}, 422: {}})
async def add_certificate(body: CertificateIn, user: Supervisor, request: Request) -> Response:
    """Record an operator's certificate (or, with ``supersedes``, a correction of one)."""
    with refusals():
        async with transaction(request, user) as conn:
            created = await records.add_certificate(conn, user.actor, body)
    return answer(created, 201)


@router.post("/certificates/{cert_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_certificate(
    cert_id: Id, body: RetractIn, user: Supervisor, request: Request
) -> Response:
    """Withdraw a certificate entered in error (or revoked): it no longer counts."""
    with refusals():
        async with transaction(request, user) as conn:
            out = await records.retract(conn, user.actor, records.CERTIFICATE, cert_id, body.reason)
    return answer(out)


@router.get("/certificates", responses={403: {}})
async def list_certificates(
    user: CurrentUser,
    request: Request,
    person: Annotated[Id | None, Query(description="people.id")] = None,
    all_versions: Annotated[
        bool, Query(description="include superseded and retracted rows")
    ] = False,
) -> Response:
    """Certificates in force (or every recorded row), by person and issue date."""
    async with transaction(request, user) as conn:
        items = await records.listing(
            conn, records.CERTIFICATE, may_read(user, person), all_versions
        )
    return answer({"items": items})

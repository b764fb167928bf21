"""Operators' certificates: add (or correct), retract, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clearwell.authorize import acting
from clearwell.params import Id
from clearwell.web import transaction
from compliance.api.common import about, answer, refusals, whose
from compliance.services import records
from compliance.services.records import CertificateIn, RetractIn
from logbook.auth.sessions import Principal

Writer = Annotated[Principal, Depends(acting("certificate.write"))]

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/certificates", status_code=201, responses={403: {}, 422: {}})
async def add_certificate(body: CertificateIn, user: Writer, request: Request) -> Response:
    """Record an operator's certificate (or, with ``supersedes``, a correction of one): a
    chief operator for the people of their sites, never their own."""
    with refusals():
        async with transaction(request, user) as conn:
            await about(conn, user, "certificate.write", body.person_id)
            created = await records.add_certificate(conn, user.actor, body)
    return answer(created, 201)


@router.post("/certificates/{cert_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_certificate(
    cert_id: Id, body: RetractIn, user: Writer, request: Request
) -> Response:
    """Withdraw a certificate entered in error (or revoked): it no longer counts."""
    with refusals():
        async with transaction(request, user) as conn:
            found = await records.find(conn, records.CERTIFICATE, cert_id)
            if found is not None:
                await about(conn, user, "certificate.write", found["person_id"])
            out = await records.retract(conn, user.actor, records.CERTIFICATE, cert_id, body.reason)
    return answer(out)


@router.get("/certificates", responses={403: {}})
async def list_certificates(
    user: Annotated[Principal, Depends(acting("certificate.read"))],
    request: Request,
    person: Annotated[Id | None, Query(description="people.id")] = None,
    all_versions: Annotated[
        bool, Query(description="include superseded and retracted rows")
    ] = False,
) -> Response:
    """Certificates in force (or every recorded row), by person and issue date: your own,
    or those of the people of your sites for a chief operator or regulator."""
    async with transaction(request, user) as conn:
        one, sites = await whose(conn, user, "certificate.read", person)
        items = await records.listing(conn, records.CERTIFICATE, one, all_versions, sites)
    return answer({"items": items})

"""Expiries: certificates and renewal training coming due at a facility."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from clearwell.authorize import acting, require
from clearwell.web import transaction
from compliance.api.common import NO_PROFILE, FacilityQuery, answer, facility_site, refusals
from compliance.services.expiries import expiry_report
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.get("/expiries", responses=NO_PROFILE)
async def expiries(
    user: Annotated[Principal, Depends(acting("expiries.read"))],
    request: Request,
    facility: FacilityQuery,
) -> Response:
    """Per person on the facility's crews: certificates expiring (or lately expired) within
    the facility's horizon, and renewal training hours short; most urgent first."""
    now = datetime.now(UTC)
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, facility)
            require(user, "expiries.read", site.id)
            body = await expiry_report(conn, site, now)
    return answer(body)

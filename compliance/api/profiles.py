"""Facility profiles: a facility's class and rule set, version by version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from clearwell.authorize import acting, require
from clearwell.web import transaction
from compliance.adapter import profile_versions
from compliance.api.common import answer, facility_site, refusals
from compliance.services.profiles import ProfileIn, profile_body
from compliance.services.profiles import set_profile as record_profile
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/facilities/{facility}/profile", status_code=201, responses={403: {}, 404: {}})
async def set_profile(
    facility: str,
    body: ProfileIn,
    user: Annotated[Principal, Depends(acting("profile.write"))],
    request: Request,
) -> Response:
    """Record a version of the facility's compliance profile, in force from
    ``effective_from``; a second version with the same date corrects the first."""
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, facility, where="path")
            require(user, "profile.write", site.id)
            rows = await record_profile(conn, user.actor, site, body)
    return answer(profile_body(site, rows, datetime.now(UTC)), 201)


@router.get("/facilities/{facility}/profile", responses={404: {}})
async def get_profile(
    facility: str,
    user: Annotated[Principal, Depends(acting("profile.read"))],
    request: Request,
) -> Response:
    """The version in force today, the versions by date, and every row recorded."""
    async with transaction(request, user) as conn:
        site = await facility_site(conn, facility, where="path")
        require(user, "profile.read", site.id)
        rows = await profile_versions(conn, site.id)
    return answer(profile_body(site, rows, datetime.now(UTC)))

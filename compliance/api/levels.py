"""Competency levels: a person's assessed level at a facility, recorded (or corrected) and
listed. A site policy (seed 000), never a regulation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clearwell.access import only_own
from clearwell.authorize import acting, require
from clearwell.params import Id
from clearwell.web import transaction
from compliance.api.common import FacilityQuery, answer, facility_site, refusals
from compliance.services import levels
from compliance.services.levels import LevelIn
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post("/levels", status_code=201, responses={403: {}, 422: {}})
async def add_level(
    body: LevelIn,
    user: Annotated[Principal, Depends(acting("level.write"))],
    request: Request,
) -> Response:
    """Record a person's assessed competency level at a facility, from ``assessed_on`` (or,
    with ``supersedes``, a correction of an assessment); never one's own."""
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, body.facility, where="body")
            require(user, "level.write", site.id, owner=body.person_id)
            today = datetime.now(UTC).astimezone(ZoneInfo(site.timezone)).date()
            created = await levels.add_level(conn, user.actor, site, body, today)
    return answer(created, 201)


@router.get("/levels", responses={403: {}})
async def list_levels(
    facility: FacilityQuery,
    user: Annotated[Principal, Depends(acting("level.read"))],
    request: Request,
    person: Annotated[Id | None, Query(description="people.id")] = None,
    all_versions: Annotated[bool, Query(description="include superseded rows")] = False,
) -> Response:
    """Assessments at the facility in force (or every row), by person and date, and each
    person's level today (``current``)."""
    async with transaction(request, user) as conn:
        site = await facility_site(conn, facility)
        if person is None and only_own(user, "level.read"):
            person = user.id
        require(user, "level.read", site.id, owner=person if person is not None else user.id)
        rows = await levels.listing(conn, site, person, True)
    today = datetime.now(UTC).astimezone(ZoneInfo(site.timezone)).date()
    return answer(
        {
            "items": [r for r in rows if all_versions or r["in_force"]],
            "current": levels.levels_on(rows, today),
        }
    )

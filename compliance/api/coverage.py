"""Coverage: the engine's report for a facility and period, and the floor view of now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clearwell.authorize import acting, require
from clearwell.params import Instant
from clearwell.web import invalid, transaction
from compliance.adapter import load
from compliance.api.common import NO_PROFILE, FacilityQuery, answer, facility_site, refusals
from compliance.services.coverage import coverage_body, floor_body, floor_facts
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])

# A coverage report longer than this is refused: a year and a bit covers an annual review.
MAX_PERIOD = timedelta(days=400)


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end <= start:
        raise invalid("end", "must be after start", where="query")
    if end - start > MAX_PERIOD:
        raise invalid("end", f"the period may be at most {MAX_PERIOD.days} days", where="query")
    return start.astimezone(UTC), end.astimezone(UTC)


@router.get("/coverage", responses=NO_PROFILE)
async def coverage(
    user: Annotated[Principal, Depends(acting("coverage.read"))],
    request: Request,
    facility: FacilityQuery,
    start: Annotated[Instant, Query(description="period start, with UTC offset")],
    end: Annotated[Instant, Query(description="period end (exclusive)")],
    entries: Annotated[bool, Query(description="include the per-entry stamps")] = False,
) -> Response:
    """The engine's report for a facility and period, from the logbook as it is now.

    Times in the report are in the facility's local time; people are ``people.id`` as
    strings, named in ``people``.
    """
    period_start, period_end = _period(start, end)
    now = datetime.now(UTC)
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, facility)
            require(user, "coverage.read", site.id)
            loaded = await load(conn, site, period_start, period_end, now)
    return answer(coverage_body(loaded, entries))


@router.get("/now", responses=NO_PROFILE)
async def now_view(
    user: Annotated[Principal, Depends(acting("coverage.now"))],
    request: Request,
    facility: FacilityQuery,
) -> Response:
    """For the floor terminal: who is in DRC and which certified operators are on site now,
    and the findings open on the current shift."""
    now = datetime.now(UTC)
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, facility)
            require(user, "coverage.now", site.id)
            facts = await floor_facts(conn, site, now)
    return answer(floor_body(facts, now))

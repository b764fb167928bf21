"""A facility's competency policy: shown, and set as a new version. A site policy (seed
000), never a regulation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from clearwell.authorize import acting, require
from clearwell.web import transaction
from compliance.api.common import answer, facility_site, refusals
from compliance.services import policy
from compliance.services.policy import PolicyIn
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.post(
    "/facilities/{facility}/competency-policy",
    status_code=201,
    responses={403: {}, 404: {}, 422: {}},
)
async def set_policy(
    facility: str,
    body: PolicyIn,
    user: Annotated[Principal, Depends(acting("policy.write"))],
    request: Request,
) -> Response:
    """Record the facility's competency policy: the entry kinds it changes from the default
    (``{}``: the default), in force from now."""
    with refusals():
        async with transaction(request, user) as conn:
            site = await facility_site(conn, facility, where="path")
            require(user, "policy.write", site.id)
            rows = await policy.set_policy(conn, user.actor, site, body)
    return answer(policy.policy_body(site, rows), 201)


@router.get("/facilities/{facility}/competency-policy", responses={404: {}})
async def get_policy(
    facility: str,
    user: Annotated[Principal, Depends(acting("policy.read"))],
    request: Request,
) -> Response:
    """The policy in force (each kind's rule and the framework statement it rests on), and
    every version recorded."""
    async with transaction(request, user) as conn:
        site = await facility_site(conn, facility, where="path")
        require(user, "policy.read", site.id)
        rows = await policy.versions(conn, site)
    return answer(policy.policy_body(site, rows))

"""What the compliance routers share: the facility parameter, who reads whose records, the
services' refusals as HTTP answers, and the JSON written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Query
from fastapi.responses import Response

from clearwell.web import Denied, conflict, invalid, json_response, not_found
from compliance.adapter import NoProfile, Site, UnknownFacility, resolve_site
from compliance.services.errors import AlreadyRetracted, NotFound, Refused
from logbook.auth.sessions import Principal

AUDITOR_ROLES = ("chief_operator", "admin", "regulator")

FacilityQuery = Annotated[str, Query(min_length=1, max_length=63, description="site code or id")]
NO_PROFILE: dict[int | str, dict[str, Any]] = {409: {"description": "the facility has no profile"}}


def answer(body: Any, status_code: int = 200) -> Response:
    """Compliance's JSON, in the API's one encoding (``clearwell.jsontext``)."""
    return json_response(body, status_code)


async def facility_site(
    conn: psycopg.AsyncConnection[Any],
    facility: str,
    where: Literal["query", "path", "body"] = "query",
) -> Site:
    """The site a ``facility`` parameter names: unknown, a 422 (query, body) or a 404
    (path)."""
    try:
        return await resolve_site(conn, facility)
    except UnknownFacility as exc:
        if where == "path":
            raise not_found("facility", facility) from None
        raise invalid("facility", str(exc), where=where) from None


def may_read(user: Principal, person: int | None) -> int | None:
    """Whose records ``user`` reads: auditors anyone's (everyone's if None); others their own."""
    if user.role in AUDITOR_ROLES:
        return person
    if person is not None and person != user.id:
        raise Denied("only a chief operator, admin or regulator reads others' records")
    return user.id


@contextmanager
def refusals() -> Iterator[None]:
    """The services' refusals as the API answers them: 422 naming the field, 404, 409."""
    try:
        yield
    except Refused as exc:
        raise invalid(exc.field, exc.problem) from None
    except NotFound as exc:
        raise not_found(exc.what, exc.ident) from None
    except (AlreadyRetracted, NoProfile) as exc:
        raise conflict(str(exc)) from None

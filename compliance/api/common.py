"""What the compliance routers share: the facility parameter, whose records a person may
read or write (the access matrix, ``clearwell.access``), the services' refusals as HTTP
answers, and the JSON written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Query
from fastapi.responses import Response

from clearwell.access import only_own, sites_for
from clearwell.authorize import require
from clearwell.web import conflict, invalid, json_response, not_found
from compliance.adapter import NoProfile, Site, UnknownFacility, person_sites, resolve_site
from compliance.services.errors import AlreadyRetracted, NotFound, Refused
from logbook.auth.sessions import Principal

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


async def about(
    conn: psycopg.AsyncConnection[Any], user: Principal, action: str, person: int
) -> None:
    """Refuses (``Denied``, audited) an action about ``person``'s records that the matrix
    does not let ``user`` take: at the sites that person belongs to, and about themselves
    or someone else as the cell says (nobody records their own certificate). A person who
    does not exist is left to the write or listing to name (a 422 saying "no person"),
    since no one's records are at stake and the refusal would hide the mistake."""
    cur = await conn.execute("SELECT 1 FROM people WHERE id = %s", (person,))
    if await cur.fetchone() is None:
        return
    sites = await person_sites(conn, person)
    require(user, action, sites, owner=person, subject="person", subject_id=person)


async def whose(
    conn: psycopg.AsyncConnection[Any], user: Principal, action: str, person: int | None
) -> tuple[int | None, list[int] | None]:
    """Whose records a listing shows ``user``: (one person, or None for all; and the sites
    whose people they are, None for every site). Asked for one person, the matrix judges
    it; else a person who reads only their own reads those."""
    if person is None and only_own(user, action):
        person = user.id
    if person is not None:
        await about(conn, user, action, person)
        return person, None
    sites = sites_for(user, action)
    return None, None if sites is None else sorted(sites)


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

"""Who may open the dashboards' pages and read their data: the access matrix
(``clearwell.access``), asked as every route names its action.

Everything the dashboards serve needs a logged-in person (the logbook's sessions:
the ``clearwell_session`` cookie or a bearer token). The JSON API and the partials answer
401 without one (``clearwell.authorize.acting``); a page sends the browser to the login
page and back afterwards (``page_action``). Roles and sites are checked here on the
server; the pages only hide what a person cannot use, and list only the sites they may
open (``codes_for``, ``only``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import HTTPException, Request, status

from clearwell.access import sites_for
from clearwell.authorize import Acting, authorize
from logbook.auth.deps import current_user
from logbook.auth.sessions import Principal

LOGIN_PATH = "/login"
Conn = psycopg.AsyncConnection[Any]


def login_redirect(request: Request) -> HTTPException:
    """A 303 to the login page that comes back to this page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status.HTTP_303_SEE_OTHER,
        "log in first",
        headers={"Location": f"{LOGIN_PATH}?next={quote(target, safe='')}"},
    )


async def page_user(request: Request) -> Principal:
    """The person viewing a page; a browser without a session goes to the login page."""
    try:
        return await current_user(request)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            raise login_redirect(request) from None
        raise


class PageAction(Acting):
    """A page's action: ``Acting``, but a browser without a session goes to the login page."""

    async def person(self, request: Request) -> Any:
        return await page_user(request)


def page_action(action: str) -> PageAction:
    return PageAction(action)


async def codes_for(conn: Conn, user: Principal, action: str) -> frozenset[str] | None:
    """The codes of the sites at which ``user`` may take ``action``; None: every site."""
    ids = sites_for(user, action)
    if ids is None:
        return None
    cur = await conn.execute("SELECT code FROM sites WHERE id = ANY(%s)", (sorted(ids),))
    return frozenset(str(r[0]) for r in await cur.fetchall())


def only(sites: Sequence[dict[str, Any]], codes: frozenset[str] | None) -> list[dict[str, Any]]:
    """The sites (rows with a ``code``) among ``codes`` (None: all), in their order."""
    return [s for s in sites if codes is None or s["code"] in codes]


async def at_site(
    request: Request, conn: Conn, user: Principal, action: str, code: str
) -> int | None:
    """The id of the site ``code`` names (None: no such site), once the matrix lets ``user``
    take ``action`` there (an audited 403 if not)."""
    cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (code,))
    row = await cur.fetchone()
    if row is None:
        return None
    await authorize(request, user, action, int(row[0]))
    return int(row[0])

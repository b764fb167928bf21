"""Who may read plant data through the dashboards' endpoints and pages.

Everything the dashboards serve needs a logged-in person (the logbook's sessions:
the ``clearwell_session`` cookie or a bearer token). The JSON API answers 401
without one; a page sends the browser to the login page and back afterwards.
Roles are checked here on the server; the pages only hide what a role cannot use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from logbook.auth.deps import check_roles, current_user, record_forbidden
from logbook.auth.sessions import Principal

LOGIN_PATH = "/login"


async def read_access(request: Request) -> Principal:
    """Any logged-in person (401 otherwise): operators, chief operators, admins, regulators."""
    return await current_user(request)


ReadAccess = Annotated[Principal, Depends(read_access)]


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


PageUser = Annotated[Principal, Depends(page_user)]


def page_role(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A page dependency admitting only these roles: login redirect, else 403 (audited)."""
    check_roles(roles)

    async def dependency(request: Request) -> Principal:
        user = await page_user(request)
        if user.role not in roles:
            who = ", ".join(r.replace("_", " ") for r in roles)
            raise await record_forbidden(request, user, f"this page is for: {who}")
        return user

    return dependency

"""Who is asking: the FastAPI side of the logbook's sessions.

Routes name what they do with ``clearwell.authorize.acting`` (the access matrix,
``clearwell.access``), which finds the person through ``current_user`` here::

    from clearwell.authorize import acting

    @router.post("/thing")
    async def thing(user: Annotated[Principal, Depends(acting("entry.create"))]) -> ...: ...

A session token is accepted from the ``clearwell_session`` cookie (browser pages)
or an ``Authorization: Bearer`` header (API clients). A refusal is a 403 written to
the audit log (``record_forbidden``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status
from psycopg_pool import PoolTimeout

from clearwell.http_guard import client_address
from logbook import audit
from logbook.auth.sessions import Principal, principal_for_token

__all__ = ["COOKIE_NAME", "CurrentUser", "Principal", "current_user", "record_forbidden"]

COOKIE_NAME = "clearwell_session"


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


async def current_user(request: Request) -> Principal:
    token = request_token(request)
    principal = None
    if token:
        idle = timedelta(seconds=request.app.state.settings.session_idle_s)
        try:
            async with request.app.state.pool.connection() as conn:
                # One statement: autocommit spares the BEGIN and COMMIT round trips.
                await conn.set_autocommit(True)
                try:
                    principal = await principal_for_token(conn, token, idle)
                finally:
                    await conn.set_autocommit(False)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"the database is unreachable: {first}"
            ) from None
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "not logged in, or the session has expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


async def record_forbidden(
    request: Request,
    user: Principal,
    reason: str,
    subject: str | None = None,
    subject_id: object = None,
    site_id: int | None = None,
) -> HTTPException:
    """Audits a refused action in its own transaction; returns the 403 to raise."""
    detail = {
        "method": request.method,
        "path": request.url.path,
        "role": user.role,
        "reason": reason,
        "client": client_address(request),
    }
    async with request.app.state.pool.connection() as conn, conn.transaction():
        await audit.append(conn, user.actor, "forbidden", subject, subject_id, site_id, detail)
    return HTTPException(status.HTTP_403_FORBIDDEN, reason)

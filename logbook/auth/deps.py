"""FastAPI dependencies for who is asking and what they may do.

Other routers (dashboards, compliance) use these::

    from logbook.auth.deps import CurrentUser, RecordWriter, require_role

    @router.get("/thing")
    async def thing(user: CurrentUser) -> ...: ...

    @router.post("/other")
    async def other(user: Annotated[Principal, Depends(require_role("admin"))]) -> ...: ...

A session token is accepted from the ``clearwell_session`` cookie (browser pages)
or an ``Authorization: Bearer`` header (API clients). A refused role is a 403
and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from logbook import audit
from logbook.auth.sessions import Principal, principal_for_token

__all__ = [
    "COOKIE_NAME",
    "Admin",
    "Auditor",
    "CurrentUser",
    "Principal",
    "RecordWriter",
    "ShiftOperator",
    "Supervisor",
    "current_user",
    "record_forbidden",
    "require_role",
]

COOKIE_NAME = "clearwell_session"
ROLES = ("operator", "trainee", "chief_operator", "admin", "regulator")
WRITER_ROLES = ("operator", "trainee", "chief_operator", "admin")
SUPERVISOR_ROLES = ("chief_operator", "admin")


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_user(request: Request) -> Principal:
    token = request_token(request)
    principal = None
    if token:
        async with request.app.state.pool.connection() as conn:
            # One statement: autocommit spares the BEGIN and COMMIT round trips.
            await conn.set_autocommit(True)
            try:
                principal = await principal_for_token(conn, token)
            finally:
                await conn.set_autocommit(False)
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
    }
    async with request.app.state.pool.connection() as conn, conn.transaction():
        await audit.append(conn, user.actor, "forbidden", subject, subject_id, site_id, detail)
    return HTTPException(status.HTTP_403_FORBIDDEN, reason)


def check_roles(roles: tuple[str, ...]) -> None:
    """Refuse, when the app is assembled, a role name that does not exist (a typo would
    otherwise lock everyone out of an endpoint or page)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s): {sorted(unknown)}")


def require_role(*roles: str) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles; anyone else gets an audited 403."""
    check_roles(roles)

    async def dependency(request: Request, user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise await record_forbidden(
                request, user, f"role {user.role} may not do this; needs one of {', '.join(roles)}"
            )
        return user

    return dependency


RecordWriter = Annotated[Principal, Depends(require_role(*WRITER_ROLES))]
ShiftOperator = Annotated[Principal, Depends(require_role("operator", "chief_operator", "admin"))]
Supervisor = Annotated[Principal, Depends(require_role(*SUPERVISOR_ROLES))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
Auditor = Annotated[Principal, Depends(require_role("chief_operator", "admin", "regulator"))]

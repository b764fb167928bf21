"""Login (password, or PIN on a floor terminal where the site allows it), logout, me."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from clearwell.authorize import acting
from clearwell.http_guard import client_address, cookie_secure
from clearwell.web import json_response, transaction
from logbook import store
from logbook.api.common import site_id_for
from logbook.auth.deps import COOKIE_NAME
from logbook.auth.sessions import LoginOutcome, Principal, login, logout

router = APIRouter(prefix="/api/auth", tags=["auth"])

Username = Annotated[str, Field(min_length=1, max_length=63)]


class PasswordLogin(BaseModel):
    username: Username
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class PinLogin(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    username: Username
    pin: Annotated[str, Field(min_length=1, max_length=16)]


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str


class SessionOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'; also set as a cookie")
    expires_at: datetime
    method: str
    user: UserOut


class MeOut(UserOut):
    method: str
    site_id: int | None = Field(description="the floor terminal's site, for a PIN session")
    sites: list[int] = Field(description="the sites the person belongs to")


Own = Annotated[Principal, Depends(acting("session.own"))]


_REFUSALS = {
    "bad_credentials": (status.HTTP_401_UNAUTHORIZED, "wrong username or password"),
    "disabled": (status.HTTP_401_UNAUTHORIZED, "wrong username or password"),
    "rate_limited": (
        status.HTTP_429_TOO_MANY_REQUESTS,
        "too many failed logins; wait before trying again",
    ),
    "pin_not_allowed": (status.HTTP_403_FORBIDDEN, "PIN login is not enabled at this site"),
    "not_member": (status.HTTP_403_FORBIDDEN, "you do not belong to this site"),
}


def _respond(request: Request, result: LoginOutcome) -> Response:
    if result.outcome != "ok":
        code, message = _REFUSALS[result.outcome]
        headers = (
            {"Retry-After": str(result.retry_after_s)} if result.outcome == "rate_limited" else None
        )
        raise HTTPException(code, message, headers=headers)
    p, token, expires = result.principal, result.token, result.expires_at
    assert p is not None and token is not None and expires is not None
    body = {
        "token": token,
        "expires_at": expires,
        "method": p.method,
        "user": {"id": p.id, "username": p.username, "full_name": p.full_name, "role": p.role},
    }
    response = json_response(body)
    response.set_cookie(
        COOKIE_NAME,
        token,
        expires=expires.astimezone(UTC),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )
    return response


@router.post(
    "/login",
    response_model=SessionOut,
    responses={
        401: {"description": "wrong credentials"},
        429: {"description": "too many failures: wait Retry-After seconds"},
    },
)
async def password_login(body: PasswordLogin, request: Request) -> Response:
    """Log in with a username and password; every attempt is recorded and audited."""
    async with transaction(request) as conn:
        result = await login(
            conn, body.username, body.password, "password", client_address(request)
        )
    return _respond(request, result)


@router.post(
    "/pin-login",
    response_model=SessionOut,
    responses={
        401: {"description": "wrong credentials"},
        403: {"description": "PIN disabled, or not one of the site's people"},
        429: {"description": "too many failures: wait Retry-After seconds"},
    },
)
async def pin_login(body: PinLogin, request: Request) -> Response:
    """Quick login on a floor terminal at a site that allows PINs, for its people; shorter
    sessions, which act at this site only and change no password, PIN or role."""
    async with transaction(request) as conn:
        site_id = await site_id_for(conn, body.site)
        allowed, _ = await store.site_settings(conn, site_id)
        result = await login(
            conn, body.username, body.pin, "pin", client_address(request), site_id, allowed
        )
    return _respond(request, result)


@router.post("/logout", status_code=204)
async def do_logout(user: Own, request: Request) -> Response:
    async with transaction(request, user) as conn:
        await logout(conn, user)
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE_NAME, path="/", secure=cookie_secure(request), httponly=True, samesite="strict"
    )
    return response


@router.get("/me", response_model=MeOut)
async def me(user: Own) -> MeOut:
    return MeOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        method=user.method,
        site_id=user.site_id,
        sites=sorted(user.sites),
    )

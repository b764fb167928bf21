"""The login page (password, or PIN where the site allows it), the landing redirect, and
``/``: a person's first step, to the login page or, logged in, their role's page.

The page's script logs in through the logbook's own API (``/api/auth/login`` and
``/api/auth/pin-login``, which set the session cookie and record every attempt), then
opens ``/landing``, which sends the person to the page they came from or their role's.
A floor terminal's login asks for a PIN first where the site allows it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from psycopg.rows import dict_row

from dashboards.access import LOGIN_PATH, page_action
from dashboards.assets import templates
from dashboards.login_rules import landing_for, pin_choice, safe_next
from logbook.auth.deps import current_user
from logbook.auth.sessions import Principal

# Set by the floor page (floor.routes): the site whose terminal this browser is.
TERMINAL_COOKIE = "clearwell_floor_site"

router = APIRouter(tags=["pages"])


async def pin_sites(request: Request) -> list[dict[str, Any]]:
    """Sites whose newest logbook settings allow PIN login, by name."""
    async with (
        request.app.state.pool.connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(
            """SELECT s.code, s.name FROM sites s
               JOIN LATERAL (SELECT allow_pin_login FROM site_logbook_settings
                             WHERE site_id = s.id ORDER BY id DESC LIMIT 1) g ON true
               WHERE g.allow_pin_login ORDER BY s.name, s.code"""
        )
        return await cur.fetchall()


@router.get("/", response_class=RedirectResponse, status_code=status.HTTP_303_SEE_OTHER)
async def home(request: Request) -> RedirectResponse:
    """Where a person starts: logged in, their role's page; else the login page."""
    try:
        user = await current_user(request)
    except HTTPException:
        return RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    return RedirectResponse(landing_for(user.role, None, user.method), status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    next_: Annotated[str | None, Query(alias="next")] = None,
    site: Annotated[str | None, Query(description="site code to preselect for PIN")] = None,
    locked: bool = False,
) -> HTMLResponse:
    target = safe_next(next_)
    sites = await pin_sites(request)
    codes = [s["code"] for s in sites]
    pin_first, chosen = pin_choice(target, request.cookies.get(TERMINAL_COOKIE), codes)
    if site in codes:
        pin_first, chosen = True, site
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "next": target or "",
            "pin_sites": sites,
            "pin_site": chosen,
            "pin_first": pin_first,
            "locked": locked,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/landing", response_class=RedirectResponse, status_code=status.HTTP_303_SEE_OTHER)
async def landing(
    user: Annotated[Principal, Depends(page_action("session.own"))],
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> RedirectResponse:
    """Just after login: the page the person came from, else their role's own page."""
    return RedirectResponse(landing_for(user.role, next_, user.method), status.HTTP_303_SEE_OTHER)

"""The login page (password, or PIN where the site allows it) and the landing redirect.

The page's script logs in through the logbook's own API (``/api/auth/login`` and
``/api/auth/pin-login``, which set the session cookie and record every attempt), then
opens ``/landing``, which sends the person to the page they came from or their role's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from psycopg.rows import dict_row

from dashboards.access import PageUser
from dashboards.assets import templates
from dashboards.login_rules import landing_for, safe_next

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


def _site_in(target: str | None) -> str | None:
    """The site code of a floor terminal page (``/floor/CODE…``), to preselect for PINs."""
    if target and target.startswith("/floor/"):
        return target[len("/floor/") :].split("/")[0].split("?")[0] or None
    return None


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    next_: Annotated[str | None, Query(alias="next")] = None,
    site: Annotated[str | None, Query(description="site code to preselect for PIN")] = None,
    locked: bool = False,
) -> HTMLResponse:
    target = safe_next(next_)
    sites = await pin_sites(request)
    chosen = site or _site_in(target)
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "next": target or "",
            "pin_sites": sites,
            "pin_site": chosen if any(s["code"] == chosen for s in sites) else None,
            "locked": locked,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/landing")
async def landing(
    user: PageUser, next_: Annotated[str | None, Query(alias="next")] = None
) -> RedirectResponse:
    """Just after login: the page the person came from, else their role's own page."""
    return RedirectResponse(landing_for(user.role, next_), status.HTTP_303_SEE_OTHER)

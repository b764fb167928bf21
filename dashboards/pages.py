"""Server-rendered pages: the trend page (the floor terminal and login have their own modules)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from psycopg.rows import dict_row

from dashboards.access import page_user
from dashboards.assets import templates
from dashboards.trends import queries

# Every page needs a logged-in person; a browser without a session goes to /login.
router = APIRouter(tags=["pages"], dependencies=[Depends(page_user)])

# Trend periods offered as buttons: label and seconds.
PERIODS: dict[str, int] = {
    "1h": 3600,
    "8h": 8 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
DEFAULT_PERIOD = "24h"


async def _sites(request: Request) -> list[dict[str, Any]]:
    async with (
        request.app.state.pool.connection() as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute("SELECT code, name, timezone FROM sites ORDER BY name, code")
        return await cur.fetchall()


async def _tags(request: Request, site: str) -> list[dict[str, Any]]:
    async with request.app.state.pool.connection() as conn:
        return await queries.site_tags(conn, site)


@router.get("/trends", response_class=HTMLResponse)
async def trends_page(
    request: Request,
    site: Annotated[str | None, Query()] = None,
    tag: Annotated[str | None, Query(description="Tag name within the site")] = None,
    period: Annotated[str, Query()] = DEFAULT_PERIOD,
) -> HTMLResponse:
    sites = await _sites(request)
    current = next((s for s in sites if s["code"] == site), sites[0] if sites else None)
    tags = await _tags(request, current["code"]) if current else []
    chosen = next((t for t in tags if t["name"] == tag), tags[0] if tags else None)
    return templates.TemplateResponse(
        request,
        "trends.html",
        {
            "sites": sites,
            "site": current,
            "tags": tags,
            "tag": chosen,
            "periods": PERIODS,
            "period": period if period in PERIODS else DEFAULT_PERIOD,
            "unknown_tag": tag if tag and chosen and chosen["name"] != tag else None,
        },
    )


@router.get("/trends/tag-options", response_class=HTMLResponse)
async def tag_options(request: Request, site: Annotated[str, Query()]) -> HTMLResponse:
    """The tag picker's options for a site (swapped in by htmx when the site changes)."""
    return templates.TemplateResponse(
        request, "_tag_options.html", {"tags": await _tags(request, site), "tag": None}
    )

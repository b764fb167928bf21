"""Trends' routes: the JSON endpoints the charts and tools read (``/api/trends``,
``/api/tags``, ``/api/readings/latest``, ``/api/trends/entries``; 401 without a session)
and the trend page (``/trends``, with its tag picker's options; a browser without a
session goes to the login page)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from clearwell.authorize import acting, authorize
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.regulator import queries as regulator_queries
from dashboards.trends import queries
from dashboards.trends.quality import gap_after_s
from dashboards.trends.resolution import DEFAULT_POINTS, MAX_POINTS, MIN_POINTS, plan_trend
from dashboards.trends.series import shape
from dashboards.trends.view import (
    DEFAULT_PERIOD,
    PERIODS,
    iso,
    latest_json,
    marks,
    tag_json,
    trend_body,
)
from logbook.auth.sessions import Principal

api = APIRouter(prefix="/api", tags=["dashboards"])
# Every page needs a logged-in person; a browser without a session goes to /login.
pages = APIRouter(tags=["pages"])
# A site's tags and readings, at the sites the access matrix lets the person read.
PlantReader = Annotated[Principal, Depends(acting("plant.read"))]
PlantPage = Annotated[Principal, Depends(page_action("plant.read"))]

DEFAULT_WINDOW = timedelta(hours=24)
# The entries endpoint: the longest window, and the most markers, one request gives.
MAX_MARKS_WINDOW = timedelta(days=62)
MAX_MARKS = 1000


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with its zone (``Z`` or an offset), as UTC; None when not given."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise _bad(f"{name}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _bad(f"{name}: {value!r} has no time zone; add Z or an offset such as +00:00")
    return parsed.astimezone(UTC)


def _bad(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


def _json(body: dict[str, Any]) -> Response:
    # Compact separators: a trend's arrays are most of its bytes.
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


@api.get("/trends")
async def api_trend(
    request: Request,
    user: PlantReader,
    tag: Annotated[str, Query(description="Tag id, or tag name when site is given")],
    site: Annotated[str | None, Query(description="Site code, to name the tag by name")] = None,
    start: Annotated[str | None, Query(description="ISO 8601 with zone; default end - 24h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with zone; default now")] = None,
    points: Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)] = DEFAULT_POINTS,
) -> Response:
    """A tag's trend, downsampled on the server.

    Answers ``{tag, start, end, source, bucket_s, t, min, max, avg, gaps, bad}``:
    ``t`` holds bucket starts (seconds since the epoch) and ``min``/``max``/``avg``
    the good samples of each bucket, ``null`` where there are none (never filled
    in); ``gaps`` and ``bad`` are ``[from, to]`` spans of missing data and of
    Uncertain/Bad quality. ``source`` names the table read: ``1h`` or ``1m``
    rollups, or ``raw`` readings.
    """
    end_t = parse_time(end, "end") or datetime.now(UTC)
    start_t = parse_time(start, "start") or end_t - DEFAULT_WINDOW
    try:
        plan = plan_trend(start_t, end_t, points)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    start_s, end_s = start_t.timestamp(), end_t.timestamp()
    lo = datetime.fromtimestamp(start_s - start_s % plan.bucket_s, UTC)
    async with request.app.state.pool.connection() as conn:
        try:
            info = await queries.find_tag(conn, tag, site)
        except ValueError as exc:
            raise _bad(str(exc)) from None
        if info is None:
            where = f" at site {site!r}" if site else ""
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tag {tag!r}{where}")
        await authorize(request, user, "plant.read", info.site_id)
        buckets = await queries.trend_buckets(conn, info.id, plan, lo, end_t)
        before = await queries.sample_before(conn, info.id, lo)
    series = shape(
        buckets,
        start_s=start_s,
        end_s=end_s,
        bucket_s=plan.bucket_s,
        gap_after_s=gap_after_s(info.expected_interval_s),
        before=before,
        now_s=time.time(),
    )
    return _json(trend_body(info, start_t, end_t, plan, series))


@api.get("/tags")
async def api_tags(
    request: Request,
    user: PlantReader,
    site: Annotated[str, Query(description="Site code")],
    include_retired: bool = False,
) -> Response:
    """The site's tags (current ones unless ``include_retired``), by name."""
    async with request.app.state.pool.connection() as conn:
        if await at_site(request, conn, user, "plant.read", site) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site!r}")
        rows = await queries.site_tags(conn, site, include_retired)
    return _json({"site": site, "tags": [tag_json(r) for r in rows]})


@api.get("/readings/latest")
async def api_latest_readings(
    request: Request, user: PlantReader, site: Annotated[str, Query(description="Site code")]
) -> Response:
    """Each current tag's latest value with its quality, age and whether it is stale.

    A reading is stale when it is older than three expected intervals of its tag
    (``tag_sampling``, else the site's ``site_sampling``, else 60 s); a tile must
    not show a stale value as current.
    """
    async with request.app.state.pool.connection() as conn:
        if await at_site(request, conn, user, "plant.read", site) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site!r}")
        now, rows = await queries.latest_readings(conn, site)
    return _json({"site": site, "now": iso(now), "tags": [latest_json(r, now) for r in rows]})


@api.get("/trends/entries", name="api_trend_entries")
async def trend_entries(
    request: Request,
    user: Annotated[Principal, Depends(acting("entry.read"))],
    tag: Annotated[int, Query(description="tag id")],
    start: Annotated[str | None, Query(description="ISO 8601 with zone; default end - 24h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with zone; default now")] = None,
) -> Response:
    """The log entries of the tag's site in the window: ``{tag, site, entries[], truncated}``,
    each entry ``{id, t (epoch s), kind, label, summary, by, operational, amended, related}``."""
    end_t = parse_time(end, "end") or datetime.now(UTC)
    start_t = parse_time(start, "start") or end_t - DEFAULT_WINDOW
    if end_t <= start_t:
        raise _bad("end: must be after start")
    if end_t - start_t > MAX_MARKS_WINDOW:
        raise _bad(f"end: the window may be at most {MAX_MARKS_WINDOW.days} days")
    async with request.app.state.pool.connection() as conn:
        info = await queries.find_tag(conn, str(tag), None)
        if info is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tag {tag}")
        await authorize(request, user, "entry.read", info.site_id)
        # A day either side: an amendment may have moved an entry into the window.
        found = await regulator_queries.entries_in(
            conn,
            info.site_id,
            start_t - timedelta(days=1),
            end_t + timedelta(days=1),
            MAX_MARKS * 2,
        )
        names = await regulator_queries.names(conn, (e["recorded_by"] for e in found))
        refs = await regulator_queries.refs(conn, found, names)
    shaped = marks(found, info.id, names, start_t, end_t, refs)
    return _json(
        {
            "tag": {"id": info.id, "name": info.name, "site": info.site},
            "start": start_t.isoformat(),
            "end": end_t.isoformat(),
            "entries": shaped[:MAX_MARKS],
            "truncated": len(shaped) > MAX_MARKS or len(found) >= MAX_MARKS * 2,
        }
    )


@pages.get("/trends", response_class=HTMLResponse)
async def trends_page(
    request: Request,
    user: PlantPage,
    site: Annotated[str | None, Query()] = None,
    tag: Annotated[str | None, Query(description="Tag name within the site")] = None,
    period: Annotated[str, Query()] = DEFAULT_PERIOD,
) -> HTMLResponse:
    async with request.app.state.pool.connection() as conn:
        if site:
            await at_site(request, conn, user, "plant.read", site)
        sites = only(await queries.sites(conn), await codes_for(conn, user, "plant.read"))
        current = next((s for s in sites if s["code"] == site), sites[0] if sites else None)
        tags = await queries.site_tags(conn, current["code"]) if current else []
    chosen = next((t for t in tags if t["name"] == tag), tags[0] if tags else None)
    return templates.TemplateResponse(
        request,
        "trends.html",
        {
            "user": user,
            "sites": sites,
            "site": current,
            "tags": tags,
            "tag": chosen,
            "periods": PERIODS,
            "period": period if period in PERIODS else DEFAULT_PERIOD,
            "unknown_tag": tag if tag and chosen and chosen["name"] != tag else None,
        },
    )


@pages.get("/trends/tag-options", response_class=HTMLResponse)
async def tag_options(
    request: Request, user: PlantPage, site: Annotated[str, Query()]
) -> HTMLResponse:
    """The tag picker's options for a site (swapped in by htmx when the site changes)."""
    async with request.app.state.pool.connection() as conn:
        await at_site(request, conn, user, "plant.read", site)
        tags = await queries.site_tags(conn, site)
    return templates.TemplateResponse(request, "_tag_options.html", {"tags": tags, "tag": None})


router = APIRouter()
router.include_router(api)
router.include_router(pages)

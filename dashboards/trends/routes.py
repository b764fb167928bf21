"""Trends' routes: the JSON and CSV endpoints the charts and tools read (``/api/trends``,
``/api/tags``, ``/api/readings/latest``, ``/api/trends/entries``; 401 without a session)
and the trend page (``/trends``: its pens, period and print view all in its address; a
browser without a session goes to the login page)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse
from psycopg_pool import AsyncConnectionPool

from clearwell.authorize import acting, authorize
from clearwell.params import Id, instant_problem
from clearwell.web import invalid
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.regulator import queries as regulator_queries
from dashboards.trends import csv_files, queries
from dashboards.trends import page as trend_page
from dashboards.trends import period as trend_period
from dashboards.trends.pens import MAX_PENS
from dashboards.trends.quality import gap_after_s
from dashboards.trends.queries import TagInfo
from dashboards.trends.resolution import (
    DEFAULT_POINTS,
    MAX_POINTS,
    MIN_POINTS,
    plan_trend,
    within_retention,
)
from dashboards.trends.retention_db import horizons
from dashboards.trends.series import shape, summarize
from dashboards.trends.view import (
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
# The entries endpoint: the longest window, and the most markers, one request gives
# (a month of a busy plant's log is about 1,300).
MAX_MARKS_WINDOW = timedelta(days=62)
MAX_MARKS = 5000
# A raw export's bound (about 80 MB of CSV), and how many rows travel at a time.
MAX_RAW_READINGS = 1_000_000
RAW_BATCH = 5000


def _bad(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, naming the query parameter."""
    return invalid(field, message, where="query")


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with its zone (``Z`` or an offset), as UTC; None when not given."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise _bad(name, f"{value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _bad(name, f"{value!r} has no time zone; add Z or an offset such as +00:00")
    if (problem := instant_problem(parsed)) is not None:
        raise _bad(name, f"{value!r} {problem}")
    return parsed.astimezone(UTC)


def _json(body: dict[str, Any]) -> Response:
    # Compact separators: a trend's arrays are most of its bytes.
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


def _zone(name: str | None) -> ZoneInfo:
    """A site's clock (UTC for a site whose zone this machine does not know)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, LookupError):
        return ZoneInfo("UTC")


def _csv_headers(
    kind: str, infos: Sequence[TagInfo], start: datetime, end: datetime
) -> dict[str, str]:
    name = csv_files.filename(kind, infos[0].site, start, end, _zone(infos[0].timezone))
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _span_words(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds // 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600:.0f} hours"
    return f"{max(1, seconds // 60):.0f} minutes"


@api.get("/trends")
async def api_trend(
    request: Request,
    user: PlantReader,
    tag: Annotated[
        list[str],
        Query(
            description=f"Tag id, or tag name when site is given; repeated for up to {MAX_PENS}"
            " tags, each a series of the answer"
        ),
    ],
    site: Annotated[str | None, Query(description="Site code, to name the tags by name")] = None,
    start: Annotated[str | None, Query(description="ISO 8601 with zone; default end - 24h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with zone; default now")] = None,
    points: Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)] = DEFAULT_POINTS,
    format: Annotated[
        Literal["json", "csv"],
        Query(description="csv: the buckets as a CSV file, a row each, min/avg/max per tag"),
    ] = "json",
    resolution: Annotated[
        Literal["auto", "raw"],
        Query(
            description="raw (with format=csv): every reading of the range instead of buckets,"
            f" at most {MAX_RAW_READINGS:,} (a 422 says how to narrow a larger range)"
        ),
    ] = "auto",
) -> Response:
    """Tags' trends on one grid of buckets, downsampled on the server.

    Answers ``{start, end, source, bucket_s, t, series}``: ``t`` holds bucket starts
    (seconds since the epoch); ``series`` one ``{tag, min, max, avg, gaps, bad, summary}``
    per tag in the order asked, ``min``/``max``/``avg`` the good samples of each bucket,
    ``null`` where there are none (never filled in), ``gaps`` and ``bad`` ``[from, to]``
    spans of missing data and of Uncertain/Bad quality, ``summary`` the tag over the
    buckets (min, max, mean, counts). ``source`` names the table read: ``1h`` or ``1m``
    rollups, or ``raw`` readings. With one tag the answer also has that tag's ``tag``,
    ``min``, ``max``, ``avg``, ``gaps`` and ``bad`` at the top, as it always had.
    """
    # The answer also holds ``note`` when retention dropped the data of the window from
    # the table the plan chose and a coarser one is read (view.trend_body).
    end_t = parse_time(end, "end") or datetime.now(UTC)
    start_t = parse_time(start, "start") or end_t - DEFAULT_WINDOW
    if len(tag) > MAX_PENS:
        raise _bad("tag", f"at most {MAX_PENS} tags at once, got {len(tag)}")
    if resolution == "raw" and format != "csv":
        raise _bad("resolution", "raw readings come as CSV only: add format=csv")
    try:
        plan = plan_trend(start_t, end_t, points)
    except ValueError as exc:
        raise _bad("end", str(exc)) from None
    start_s, end_s = start_t.timestamp(), end_t.timestamp()
    async with request.app.state.pool.connection() as conn:
        try:
            found = await queries.find_tags(conn, tag, site)
        except ValueError as exc:
            raise _bad("tag", str(exc)) from None
        missing = next((t for t in tag if t not in found), None)
        if missing is not None:
            where = f" at site {site!r}" if site else ""
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tag {missing!r}{where}")
        infos = [found[t] for t in tag]
        for site_id in dict.fromkeys(info.site_id for info in infos):
            await authorize(request, user, "plant.read", site_id)
        ids = [info.id for info in infos]
        seen: dict[int, str] = {}
        for t, i in zip(tag, ids, strict=True):
            if i in seen:
                also = f" (as {seen[i]!r} too)" if seen[i] != t else ""
                raise _bad("tag", f"tag {t!r} is asked for twice{also}")
            seen[i] = t
        if resolution == "raw":
            await _check_raw_size(conn, infos, start_t, end_t)
        else:
            plan, note = within_retention(plan, start_t, await horizons(conn))
            lo = datetime.fromtimestamp(start_s - start_s % plan.bucket_s, UTC)
            buckets = await queries.trend_buckets(conn, ids, plan, lo, end_t)
            before = await queries.samples_before(conn, ids, lo)
    if resolution == "raw":
        return StreamingResponse(
            _raw_csv(request.app.state.pool, infos, start_t, end_t),
            media_type="text/csv; charset=utf-8",
            headers=_csv_headers("readings", infos, start_t, end_t),
        )
    now_s = time.time()
    pens = [
        (
            info,
            shape(
                buckets[info.id],
                start_s=start_s,
                end_s=end_s,
                bucket_s=plan.bucket_s,
                gap_after_s=gap_after_s(info.expected_interval_s),
                before=before.get(info.id),
                now_s=now_s,
            ),
            summarize(buckets[info.id]),
        )
        for info in infos
    ]
    if format == "csv":
        columns = [csv_files.Column(info.name, info.unit, series) for info, series, _ in pens]
        text = csv_files.buckets_csv(pens[0][1].t, columns, _zone(infos[0].timezone))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers=_csv_headers("trend", infos, start_t, end_t),
        )
    return _json(trend_body(start_t, end_t, plan, pens, note))


async def _check_raw_size(
    conn: Any, infos: Sequence[TagInfo], start: datetime, end: datetime
) -> None:
    """Refuses a raw export of more than ``MAX_RAW_READINGS``, saying how to narrow it."""
    ids = [info.id for info in infos]
    counted = await queries.count_readings(conn, ids, start, end, MAX_RAW_READINGS + 1)
    if counted <= MAX_RAW_READINGS:
        return
    about = await queries.estimate_readings(conn, ids, start, end)
    span = (end - start).total_seconds()
    tags = f"{len(ids)} tag" + ("s" if len(ids) > 1 else "")
    if about > MAX_RAW_READINGS:
        fits = _span_words(span * MAX_RAW_READINGS / about)
        size = f"about {about:,} readings of {tags}"
        narrow = f"a range of at most {fits} of these tags"
    else:
        size = f"more than that across {tags}"
        narrow = "a shorter range"
    raise _bad(
        "resolution",
        f"a raw export holds at most {MAX_RAW_READINGS:,} readings and this range has {size}:"
        f" ask for {narrow}, fewer tags, or the buckets (leave out resolution=raw)",
    )


async def _raw_csv(
    pool: AsyncConnectionPool, infos: Sequence[TagInfo], start: datetime, end: datetime
) -> AsyncIterator[bytes]:
    zones = {info.id: _zone(info.timezone) for info in infos}
    shared = {z.key for z in zones.values()}
    yield csv_files.raw_header(zones[infos[0].id] if len(shared) == 1 else None).encode()
    async with pool.connection() as conn, conn.transaction():
        for info in infos:
            async for rows in queries.readings(conn, info.id, start, end, RAW_BATCH):
                yield csv_files.raw_rows(rows, info.name, info.unit, zones[info.id]).encode()


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
    tag: Annotated[list[Id], Query(description="tag id; repeated for a chart's pens")],
    start: Annotated[str | None, Query(description="ISO 8601 with zone; default end - 24h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with zone; default now")] = None,
) -> Response:
    """The log entries of the tags' sites in the window: ``{tag, tags, start, end, entries[],
    truncated}`` (``tag`` the first asked), each entry ``{id, t (epoch s), kind, label,
    summary, by, operational, amended, related}``, ``related`` for a reading of one of the
    tags."""
    end_t = parse_time(end, "end") or datetime.now(UTC)
    start_t = parse_time(start, "start") or end_t - DEFAULT_WINDOW
    if end_t <= start_t:
        raise _bad("end", "must be after start")
    if end_t - start_t > MAX_MARKS_WINDOW:
        raise _bad("end", f"the window may be at most {MAX_MARKS_WINDOW.days} days")
    if len(tag) > MAX_PENS:
        raise _bad("tag", f"at most {MAX_PENS} tags at once, got {len(tag)}")
    asked = [str(t) for t in dict.fromkeys(tag)]
    found: list[dict[str, Any]] = []
    async with request.app.state.pool.connection() as conn:
        infos = await queries.find_tags(conn, asked, None)
        missing = next((t for t in asked if t not in infos), None)
        if missing is not None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tag {missing}")
        for site_id in dict.fromkeys(info.site_id for info in infos.values()):
            await authorize(request, user, "entry.read", site_id)
            # A day either side: an amendment may have moved an entry into the window.
            found += await regulator_queries.entries_in(
                conn,
                site_id,
                start_t - timedelta(days=1),
                end_t + timedelta(days=1),
                MAX_MARKS * 2,
            )
        names = await regulator_queries.names(conn, (e["recorded_by"] for e in found))
        refs = await regulator_queries.refs(conn, found, names)
    shaped = marks(found, {i.id for i in infos.values()}, names, start_t, end_t, refs)
    heads = [{"id": i.id, "name": i.name, "site": i.site} for i in (infos[t] for t in asked)]
    return _json(
        {
            "tag": heads[0],
            "tags": heads,
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
    tag: Annotated[
        list[str] | None, Query(description=f"Tag name within the site; up to {MAX_PENS}")
    ] = None,
    period: Annotated[str | None, Query(description="A preset, or custom")] = None,
    start: Annotated[
        str | None, Query(alias="from", description="A custom range's start, on the plant's clock")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="A custom range's end, on the plant's clock")
    ] = None,
    print_view: Annotated[bool, Query(alias="print")] = False,
) -> HTMLResponse:
    async with request.app.state.pool.connection() as conn:
        if site:
            await at_site(request, conn, user, "plant.read", site)
        sites = only(await queries.sites(conn), await codes_for(conn, user, "plant.read"))
        current = next((s for s in sites if s["code"] == site), sites[0] if sites else None)
        tags = await queries.site_tags(conn, current["code"]) if current else []
    zone = _zone(current["timezone"] if current else None)
    chosen, problem = trend_period.choose(period, start, end, zone, datetime.now(UTC))
    view = (
        trend_page.build(request.url.path, current, tags, tag or [], chosen, zone)
        if current
        else None
    )
    problems = ([problem] if problem else []) + (view.problems if view else [])
    return templates.TemplateResponse(
        request,
        "trends.html",
        {
            "user": user,
            "sites": sites,
            "site": current,
            "view": view,
            "periods": trend_period.PERIODS,
            "period": chosen,
            "problems": problems,
            "print": print_view,
        },
    )


router = APIRouter()
router.include_router(api)
router.include_router(pages)

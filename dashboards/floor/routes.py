"""The floor terminal: ``/floor/{site}`` and the partials its page refreshes with htmx.

The page only reads. Everything a person records goes from the page's script straight
to the logbook's API (``/api/entries``, ``/api/shifts``, ``/api/samples``…), which
checks roles, validates, attributes and audits; entries carry an idempotency key so a
resend from the terminal's offline queue never makes a second record.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from clearwell.errors import ConfigError
from clearwell.jsontext import dumps
from dashboards.access import page_role
from dashboards.assets import templates
from dashboards.floor import queries as fq
from dashboards.floor.forms import ACTIONS, FORMS, KIND_LABELS, with_ranges
from dashboards.floor.view import (
    Alarm,
    Latest,
    Tile,
    group_by_area,
    order_alarms,
    sparkline,
    tile_for,
)
from dashboards.trends import queries
from dashboards.trends.quality import gap_after_s, is_good
from ingest import heartbeat
from logbook.auth.deps import require_role
from logbook.auth.sessions import Principal
from logbook.write.plausibility import site_ranges
from sitefile.ranges import NO_RANGES, SiteRanges

log = logging.getLogger(__name__)

FLOOR_ROLES = ("operator", "trainee", "chief_operator", "admin")
SPARK_WINDOW = timedelta(hours=2)
# Sparkline buckets: 24 points across a tile (more would not show, and cost 5x the time).
SPARK_STEP_S = 300

router = APIRouter(tags=["floor"])
FloorPage = Annotated[Principal, Depends(page_role(*FLOOR_ROLES))]
# Partials answer 401 rather than redirect: htmx would swap the login page into a tile.
FloorPart = Annotated[Principal, Depends(require_role(*FLOOR_ROLES))]
NO_STORE = {"Cache-Control": "no-store"}


async def _site(conn: fq.Conn, code: str) -> dict[str, Any]:
    found = await fq.site(conn, code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {code!r}")
    return found


@router.get("/floor")
async def floor_home(request: Request, user: FloorPage) -> RedirectResponse:
    """The terminal of the site a PIN session was opened at, else the first site."""
    async with request.app.state.pool.connection() as conn:
        code = await fq.site_code_by_id(conn, user.site_id) if user.site_id else None
        code = code or await fq.first_site_code(conn)
    if code is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no site is set up yet")
    return RedirectResponse(f"/floor/{code}", status.HTTP_303_SEE_OTHER)


async def _tiles(conn: fq.Conn, site: dict[str, Any], alarms: list[Alarm]) -> list[Tile]:
    now, rows = await queries.latest_readings(conn, site["code"])
    zone = ZoneInfo(site["timezone"])
    since = now - SPARK_WINDOW
    buckets = await fq.spark_points(conn, [r["id"] for r in rows], since, SPARK_STEP_S)
    by_tag: dict[int, list[int]] = {}
    for a in alarms:
        if a.tag_id is not None:
            by_tag.setdefault(a.tag_id, []).append(a.id)
    tiles = []
    for r in rows:
        points: list[tuple[float, float | None]] = list(buckets.get(r["id"], []))
        if r["time"] is not None and r["value"] is not None and is_good(r["status"]):
            points.append((r["time"].timestamp(), r["value"]))
        interval = float(r["expected_interval_s"])
        latest = Latest(
            tag_id=r["id"],
            name=r["name"],
            description=r["description"],
            unit=r["unit"],
            expected_interval_s=interval,
            value=r["value"],
            status=r["status"],
            age_s=(now - r["time"]).total_seconds() if r["time"] else None,
            time_text=r["time"].astimezone(zone).strftime("%H:%M") if r["time"] else "",
            limits=(r["limit_lo_lo"], r["limit_lo"], r["limit_hi"], r["limit_hi_hi"]),
        )
        spark = sparkline(
            points,
            since.timestamp(),
            now.timestamp(),
            gap_s=max(gap_after_s(interval), 2.0 * SPARK_STEP_S),
        )
        tiles.append(tile_for(latest, spark, by_tag.get(r["id"], ())))
    return tiles


async def _alarms(conn: fq.Conn, site: dict[str, Any]) -> list[Alarm]:
    """The site's alarms, after raising or clearing its "data collection stopped" ones: no
    collector is left to raise that alarm when the collectors stop (ingest.heartbeat)."""
    await heartbeat.watch(conn, site["id"], site["code"], ZoneInfo(site["timezone"]))
    return order_alarms(Alarm(**r) for r in await fq.alarms(conn, site["id"]))


async def _shift(conn: fq.Conn, site: dict[str, Any], user: Principal) -> dict[str, Any]:
    shift = await fq.current_shift(conn, site["id"])
    handoff = await fq.pending_handoff(conn, site["id"], shift["opened_at"] if shift else None)
    crew = shift["crew"] if shift else []
    here = [c for c in crew if c["left_at"] is None]
    me_drc = any(c["person_id"] == user.id and c["shift_role"] == "drc" for c in here)
    return {
        "shift": shift,
        "crew_here": here,
        "crew_left": [c for c in crew if c["left_at"] is not None],
        "on_crew": any(c["person_id"] == user.id for c in here),
        "handoff": handoff,
        "can_ack": bool(shift and shift["closed_at"] is None and me_drc and handoff),
    }


async def _ranges(request: Request, code: str) -> SiteRanges:
    """The site's ranges for the forms; none while its file is not valid (the API then
    refuses the numbers it would judge, and says why)."""
    try:
        return await site_ranges(Path(request.app.state.settings.data_dir), code)
    except ConfigError as exc:
        log.warning("floor %s: the forms go without ranges: %s", code, exc)
        return NO_RANGES


def _context(user: Principal, site: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": user,
        "site": site,
        "zone": ZoneInfo(site["timezone"]),
        "kind_labels": KIND_LABELS,
        "actions": ACTIONS,
        "can_open": user.role in ("operator", "chief_operator", "admin"),
        "can_designate": user.role in ("chief_operator", "admin"),
    }


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, headers=NO_STORE)


@router.get("/floor/{site}", response_class=HTMLResponse)
async def floor_page(request: Request, site: str, user: FloorPage) -> HTMLResponse:
    started = time.perf_counter()
    async with request.app.state.pool.connection() as conn:
        found = await _site(conn, site)
        alarms = await _alarms(conn, found)
        tiles = await _tiles(conn, found, alarms)
        shift = await _shift(conn, found, user)
        people = await fq.crew_candidates(conn)
        last = await fq.last_values(conn, found["id"])
        samples = await fq.recent_samples(conn, found["id"])
    data = {
        "site": found["code"],
        "user": {"id": user.id, "name": user.full_name, "role": user.role},
        # Seconds without a touch before the terminal locks (CLEARWELL_FLOOR_LOCK_AFTER_S).
        "lock_after_s": request.app.state.settings.floor_lock_after_s,
        # The site's current tags by name: the tiles are one per tag, in that order.
        "tags": [{"id": t.tag_id, "name": t.name, "unit": t.unit} for t in tiles],
        "people": people,
        # The record forms, from the logbook's definitions of each kind, with the ranges
        # the site file sets for their numbers.
        "forms": with_ranges(
            FORMS, await _ranges(request, found["code"]), {t.name: t.tag_id for t in tiles}
        ),
        "last_values": last,
        "samples": [
            {"id": s["id"], "label": f"{s['sample_point']} ({s['sample_type']})"} for s in samples
        ],
    }
    response = _render(
        request,
        "floor.html",
        {
            **_context(user, found),
            **shift,
            "areas": group_by_area(tiles),
            "alarms": alarms,
            "people": people,
            # Inside a <script> element: no "<" may close it early.
            "floor_data": dumps(data).replace("<", "\\u003c"),
        },
    )
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@router.get("/floor/{site}/tiles", response_class=HTMLResponse)
async def floor_tiles(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    """The tiles, and the alarm bar with them as an htmx out-of-band swap: the tiles need
    the alarms anyway, so the terminal's one poll refreshes both."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(conn, site)
        alarms = await _alarms(conn, found)
        tiles = await _tiles(conn, found, alarms)
    return _render(
        request,
        "_floor_tiles.html",
        {
            **_context(user, found),
            "areas": group_by_area(tiles),
            "alarms": alarms,
            "alarms_oob": True,
        },
    )


@router.get("/floor/{site}/alarms", response_class=HTMLResponse)
async def floor_alarms(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    """The alarm bar alone (the page gets it with the tiles; kept for tools and tests)."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(conn, site)
        alarms = await _alarms(conn, found)
    return _render(request, "_floor_alarms.html", {**_context(user, found), "alarms": alarms})


@router.get("/floor/{site}/shift", response_class=HTMLResponse)
async def floor_shift(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    async with request.app.state.pool.connection() as conn:
        found = await _site(conn, site)
        shift = await _shift(conn, found, user)
        people = await fq.crew_candidates(conn)
    return _render(
        request,
        "_floor_shift.html",
        {**_context(user, found), **shift, "people": people},
    )


@router.get("/floor/{site}/review", response_class=HTMLResponse)
async def floor_review(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    """The current shift's entries and samples, to read before closing and signing."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(conn, site)
        shift = await fq.current_shift(conn, found["id"])
        entries = await fq.shift_entries(conn, shift["id"]) if shift else []
        samples = await fq.shift_samples(conn, shift["id"]) if shift else []
        note = await fq.own_handoff(conn, shift["id"]) if shift else None
    return _render(
        request,
        "_floor_review.html",
        {
            **_context(user, found),
            "shift": shift,
            "entries": entries,
            "samples": samples,
            "own_note": note,
        },
    )

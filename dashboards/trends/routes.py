"""JSON endpoints for trends and live tiles: /api/trends, /api/tags, /api/readings/latest."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from dashboards.access import read_access
from dashboards.trends import queries
from dashboards.trends.quality import gap_after_s, is_stale, quality_of
from dashboards.trends.resolution import DEFAULT_POINTS, MAX_POINTS, MIN_POINTS, plan_trend
from dashboards.trends.series import shape

router = APIRouter(prefix="/api", tags=["dashboards"], dependencies=[Depends(read_access)])

DEFAULT_PERIOD = timedelta(hours=24)


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


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z") if t else None


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _json(body: dict[str, Any]) -> Response:
    # Compact separators: a trend's arrays are most of its bytes.
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


def _tag_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "site": row["site"],
        "description": row["description"],
        "unit": row["unit"],
        "source_protocol": row["source_protocol"],
        "eng_low": row["eng_low"],
        "eng_high": row["eng_high"],
        "limits": {
            "lo_lo": row["limit_lo_lo"],
            "lo": row["limit_lo"],
            "hi": row["limit_hi"],
            "hi_hi": row["limit_hi_hi"],
        },
        "expected_interval_s": row["expected_interval_s"],
        "retired_at": _iso(row["retired_at"]),
    }


@router.get("/trends")
async def api_trend(
    request: Request,
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
    start_t = parse_time(start, "start") or end_t - DEFAULT_PERIOD
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
    return _json(
        {
            "tag": {
                "id": info.id,
                "name": info.name,
                "site": info.site,
                "description": info.description,
                "unit": info.unit,
            },
            "start": _iso(start_t),
            "end": _iso(end_t),
            "source": plan.source.value,
            "bucket_s": plan.bucket_s,
            "t": series.t,
            "min": series.min,
            "max": series.max,
            "avg": series.avg,
            "gaps": series.gaps,
            "bad": series.bad,
        }
    )


@router.get("/tags")
async def api_tags(
    request: Request,
    site: Annotated[str, Query(description="Site code")],
    include_retired: bool = False,
) -> Response:
    """The site's tags (current ones unless ``include_retired``), by name."""
    async with request.app.state.pool.connection() as conn:
        if not await queries.site_exists(conn, site):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site!r}")
        rows = await queries.site_tags(conn, site, include_retired)
    return _json({"site": site, "tags": [_tag_json(r) for r in rows]})


@router.get("/readings/latest")
async def api_latest_readings(
    request: Request, site: Annotated[str, Query(description="Site code")]
) -> Response:
    """Each current tag's latest value with its quality, age and whether it is stale.

    A reading is stale when it is older than three expected intervals of its tag
    (``tag_sampling``, else the site's ``site_sampling``, else 60 s); a tile must
    not show a stale value as current.
    """
    async with request.app.state.pool.connection() as conn:
        if not await queries.site_exists(conn, site):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site!r}")
        now, rows = await queries.latest_readings(conn, site)
    out = []
    for r in rows:
        age = (now - r["time"]).total_seconds() if r["time"] else None
        out.append(
            {
                **_tag_json(r),
                "time": _iso(r["time"]),
                "value": _finite(r["value"]),
                "status": r["status"],
                "quality": quality_of(r["status"], r["value"] is not None).value,
                "age_s": round(age, 3) if age is not None else None,
                "stale": is_stale(age, r["expected_interval_s"]),
            }
        )
    return _json({"site": site, "now": _iso(now), "tags": out})

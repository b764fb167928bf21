"""The operators' log entries on a trend's time axis: the entries of a tag's site within
the window, shaped for the chart's markers (``static/js/trend-marks.js``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from psycopg import sql

from dashboards.access import ReadAccess
from dashboards.regulator import queries as regulator_queries
from dashboards.regulator.view import entry_summary, kind_label
from dashboards.trends import queries
from dashboards.trends.routes import parse_time
from logbook import store

router = APIRouter(prefix="/api", tags=["dashboards"])

MAX_WINDOW = timedelta(days=62)
MAX_MARKS = 1000
DEFAULT_WINDOW = timedelta(hours=24)


def marks(
    entries: Sequence[Mapping[str, Any]],
    tag_id: int,
    names: Mapping[int, str],
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """One marker per entry whose time (as amended) is in [start, end), oldest first.

    ``related`` is true for a reading of this very tag, which the chart draws stronger.
    """
    out = []
    for e in entries:
        at = e["occurred_at"]
        if not start <= at < end:
            continue
        data = e["data"] or {}
        out.append(
            {
                "id": e["id"],
                "t": at.timestamp(),
                "kind": e["kind"],
                "label": kind_label(e["kind"]),
                "summary": entry_summary(e["kind"], data),
                "by": names.get(e["recorded_by"], f"person {e['recorded_by']}"),
                "operational": bool(e["operational"]),
                "amended": bool(e["amended"]),
                "related": e["kind"] == "reading" and data.get("tag_id") == tag_id,
            }
        )
    out.sort(key=lambda m: (m["t"], m["id"]))
    return out


@router.get("/trends/entries", name="api_trend_entries")
async def trend_entries(
    request: Request,
    user: ReadAccess,
    tag: Annotated[int, Query(description="tag id")],
    start: Annotated[str | None, Query(description="ISO 8601 with zone; default end - 24h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with zone; default now")] = None,
) -> Response:
    """The log entries of the tag's site in the window: ``{tag, site, entries[], truncated}``,
    each entry ``{id, t (epoch s), kind, label, summary, by, operational, amended, related}``."""
    end_t = parse_time(end, "end") or datetime.now(UTC)
    start_t = parse_time(start, "start") or end_t - DEFAULT_WINDOW
    if end_t <= start_t:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end: must be after start")
    if end_t - start_t > MAX_WINDOW:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"end: the window may be at most {MAX_WINDOW.days} days",
        )
    async with request.app.state.pool.connection() as conn:
        info = await queries.find_tag(conn, str(tag), None)
        if info is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tag {tag}")
        # A day either side: an amendment may have moved an entry into the window.
        found = await store.entries_where(
            conn,
            sql.SQL("e.site_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s"),
            [info.site_id, start_t - timedelta(days=1), end_t + timedelta(days=1)],
            MAX_MARKS * 2,
        )
        names = await regulator_queries.names(conn, (e["recorded_by"] for e in found))
    shaped = marks(found, info.id, names, start_t, end_t)
    body = {
        "tag": {"id": info.id, "name": info.name, "site": info.site},
        "start": start_t.isoformat(),
        "end": end_t.isoformat(),
        "entries": shaped[:MAX_MARKS],
        "truncated": len(shaped) > MAX_MARKS or len(found) >= MAX_MARKS * 2,
    }
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

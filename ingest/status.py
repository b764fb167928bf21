"""``GET /api/ingest/status``: the collectors' health, as the ingest process last published it.

The ingest process may run apart from the web app, so it writes its health to
``ingest_health`` every few seconds and this endpoint reads it back; a
component whose row has not been refreshed for as long as the heartbeat may be
old (:func:`ingest.heartbeat.stale_after_s`: 30 s, or three of the writer's
beats) is reported ``stale`` (the ingest process stopped, or cannot reach the
database).
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ingest.heartbeat import STALE_AFTER_S, stale_after_s

router = APIRouter(prefix="/api/ingest", tags=["ingest"])


@router.get("/status")
async def ingest_status(
    request: Request,
    site: Annotated[str | None, Query(description="Site code; all sites if omitted")] = None,
) -> Any:
    """Per device: connected, last good read, error counts; the writer: queue, spool, rows/s."""
    try:
        async with request.app.state.pool.connection(timeout=5) as conn:
            cur = await conn.execute(
                "SELECT site_code, component, kind, state, detail, updated_at,"
                " extract(epoch FROM now() - updated_at)"
                " FROM ingest_health WHERE %(site)s::text IS NULL OR site_code = %(site)s"
                " ORDER BY site_code, kind DESC, component",
                {"site": site},
            )
            rows = await cur.fetchall()
    except (psycopg.Error, TimeoutError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return JSONResponse(
            {"error": f"the database is unreachable: {first}", "sites": []}, status_code=503
        )
    sites: dict[str, dict[str, Any]] = {}
    limits = {r[0]: stale_after_s(r[4]) for r in rows if r[2] == "writer"}
    for code, component, kind, state, detail, updated_at, age in rows:
        entry = sites.setdefault(code, {"site": code, "devices": [], "writer": None})
        stale = float(age) > limits.get(code, STALE_AFTER_S)
        item = {
            **detail,
            "component": component,
            "state": "stale" if stale else state,
            "reported_state": state,
            "updated_at": updated_at.isoformat(),
            "age_s": round(float(age), 1),
        }
        if kind == "writer":
            entry["writer"] = item
        else:
            entry["devices"].append(item)
    return {"sites": list(sites.values()), "stale_after_s": STALE_AFTER_S}

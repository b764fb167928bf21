"""What the trend endpoints answer and the trend page offers: pure shaping, no I/O.

A tag as JSON, a trend's series as the chart's body, the latest readings with their
quality and staleness, and the operators' log entries as markers on the time axis
(drawn by ``static/js/trend-marks.js``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dashboards.regulator.view import NO_REFS, Refs, entry_summary, kind_label
from dashboards.trends.quality import is_stale, quality_of
from dashboards.trends.queries import TagInfo
from dashboards.trends.resolution import Plan
from dashboards.trends.series import Series

# Trend periods offered as buttons: label and seconds.
PERIODS: dict[str, int] = {
    "1h": 3600,
    "8h": 8 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
DEFAULT_PERIOD = "24h"


def iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z") if t else None


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def tag_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A tag's row (``queries.TAG_COLUMNS``) as the API gives it."""
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
        "retired_at": iso(row["retired_at"]),
    }


def trend_body(
    info: TagInfo, start: datetime, end: datetime, plan: Plan, series: Series
) -> dict[str, Any]:
    """``{tag, start, end, source, bucket_s, t, min, max, avg, gaps, bad}``."""
    return {
        "tag": {
            "id": info.id,
            "name": info.name,
            "site": info.site,
            "description": info.description,
            "unit": info.unit,
        },
        "start": iso(start),
        "end": iso(end),
        "source": plan.source.value,
        "bucket_s": plan.bucket_s,
        "t": series.t,
        "min": series.min,
        "max": series.max,
        "avg": series.avg,
        "gaps": series.gaps,
        "bad": series.bad,
    }


def latest_json(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A tag with its latest reading (or none), its quality, age and whether it is stale."""
    age = (now - row["time"]).total_seconds() if row["time"] else None
    return {
        **tag_json(row),
        "time": iso(row["time"]),
        "value": _finite(row["value"]),
        "status": row["status"],
        "quality": quality_of(row["status"], row["value"] is not None).value,
        "age_s": round(age, 3) if age is not None else None,
        "stale": is_stale(age, row["expected_interval_s"]),
    }


def marks(
    entries: Sequence[Mapping[str, Any]],
    tag_id: int,
    names: Mapping[int, str],
    start: datetime,
    end: datetime,
    refs: Refs = NO_REFS,
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
                "summary": entry_summary(e["kind"], data, refs),
                "by": names.get(e["recorded_by"], f"person {e['recorded_by']}"),
                "operational": bool(e["operational"]),
                "amended": bool(e["amended"]),
                "related": e["kind"] == "reading" and data.get("tag_id") == tag_id,
            }
        )
    out.sort(key=lambda m: (m["t"], m["id"]))
    return out

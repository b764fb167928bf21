"""Which table serves a trend request, and how wide its buckets are.

A trend asks for a period and roughly how many points it can draw (about one
per pixel column). The bucket width is the smallest "round" step at least
period / points wide, and the source is the coarsest table whose resolution
divides that width: hourly rollups for steps of whole hours, minute rollups for
whole minutes, raw readings below a minute. Every bucket of the source then
lies inside exactly one bucket of the answer, so min, max and the average
(from sums and counts) are exact.

Once retention has dropped a source's oldest chunks (``retention_horizon``), a
window that begins before them is read from the next coarser rollup instead, with
a note that says so (:func:`within_retention`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# With at least this many points the widest step (a week) covers the longest period.
MIN_POINTS = 60
MAX_POINTS = 5000
DEFAULT_POINTS = 1000
# Longest period one request may cover; a year of hours is 8,760 rollup rows.
MAX_SPAN_S = 400 * 86400

# Bucket widths offered, in seconds: they divide one another where it matters
# (minutes divide hours, hours divide days) so buckets line up with the clock.
STEPS_S: tuple[int, ...] = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400,
)  # fmt: skip


class Source(StrEnum):
    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"


@dataclass(frozen=True)
class Plan:
    source: Source
    bucket_s: int


def bucket_width(span_s: float, points: int) -> int:
    """The smallest step at least ``span_s / points`` wide (the widest step if none is)."""
    if span_s <= 0:
        raise ValueError(f"the period must be positive, got {span_s} s")
    if points < 1:
        raise ValueError(f"points must be at least 1, got {points}")
    want = span_s / points
    for step in STEPS_S:
        if step >= want:
            return step
    return STEPS_S[-1]


def source_for(bucket_s: int) -> Source:
    if bucket_s % 3600 == 0:
        return Source.HOUR
    if bucket_s % 60 == 0:
        return Source.MINUTE
    return Source.RAW


def plan_trend(start: datetime, end: datetime, points: int = DEFAULT_POINTS) -> Plan:
    """The source table and bucket width for a trend of [start, end) in about ``points`` points."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    span = (end - start).total_seconds()
    if span <= 0:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    if span > MAX_SPAN_S:
        raise ValueError(f"the period is longer than {MAX_SPAN_S // 86400} days")
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise ValueError(f"points must be between {MIN_POINTS} and {MAX_POINTS}, got {points}")
    width = bucket_width(span, points)
    return Plan(source_for(width), width)


def grid(start_s: float, end_s: float, bucket_s: int) -> list[int]:
    """Bucket starts covering [start_s, end_s), aligned to multiples of ``bucket_s``.

    The queries bucket with ``time_bucket(…, origin => the Unix epoch)`` to match.
    """
    first = math.floor(start_s / bucket_s) * bucket_s
    return list(range(int(first), int(math.ceil(end_s)), bucket_s))


# Each source's table, and the next coarser source with the width it needs.
TABLE_OF: dict[Source, str] = {
    Source.RAW: "readings",
    Source.MINUTE: "readings_1m",
    Source.HOUR: "readings_1h",
}
_COARSER: dict[Source, tuple[Source, int]] = {
    Source.RAW: (Source.MINUTE, 60),
    Source.MINUTE: (Source.HOUR, 3600),
}
_WORDS = {
    Source.RAW: "raw readings",
    Source.MINUTE: "minute rollups",
    Source.HOUR: "hourly rollups",
}


def within_retention(
    plan: Plan, start: datetime, dropped_before: Mapping[str, datetime]
) -> tuple[Plan, str | None]:
    """The plan, moved to coarser rollups while its window begins before the time its
    source's table was dropped before, and the note that says so (None if unmoved)."""
    gone: list[tuple[Source, datetime]] = []
    while plan.source in _COARSER:
        horizon = dropped_before.get(TABLE_OF[plan.source])
        if horizon is None or start >= horizon:
            break
        gone.append((plan.source, horizon))
        source, unit = _COARSER[plan.source]
        width = next((s for s in STEPS_S if s >= plan.bucket_s and s % unit == 0), STEPS_S[-1])
        plan = Plan(source, width)
    if not gone:
        return plan, None
    kept = "; ".join(
        f"{_WORDS[s]} before {h:%Y-%m-%d %H:%M} UTC are no longer kept" for s, h in gone
    )
    return plan, f"{kept[0].upper()}{kept[1:]} (retention): read from the {_WORDS[plan.source]}"

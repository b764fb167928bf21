"""What the floor terminal shows for readings and alarms: pure rules, no I/O.

A tile shows a number as current only when the latest reading is good and fresh.
A stale reading shows no big number at all (only "last 7.21 at 10:31" in small type),
a bad one says BAD, an uncertain one keeps its number with a warning mark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dashboards.trends.quality import Quality, is_stale, quality_of

OTHER_AREA = "Other"
# Alarms shown first by severity, then newest first.
SEVERITY_ORDER = {"critical": 0, "alarm": 1, "warning": 2, "info": 3}
SPARK_W, SPARK_H = 120.0, 32.0


class TileState(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"
    STALE = "stale"
    NONE = "none"


@dataclass(frozen=True)
class Tile:
    tag_id: int
    name: str
    label: str
    unit: str
    state: TileState
    value: str  # the big number, "" when there is none to show as current
    note: str  # a few words on quality or age
    limit: str = ""  # "HI", "LO", "HI-HI", "LO-LO" when the value is past a limit
    spark: tuple[str, ...] = ()  # SVG polyline point lists, split at gaps
    alarm_ids: tuple[int, ...] = field(default_factory=tuple)


def area_of(tag_name: str) -> str:
    """The process area of a tag: the first part of a dotted name ("aeration.do" -> Aeration)."""
    head, dot, _ = tag_name.partition(".")
    if not dot or not head:
        return OTHER_AREA
    return head.replace("_", " ").replace("-", " ").strip().title() or OTHER_AREA


def label_of(tag_name: str, description: str) -> str:
    if description:
        return description
    _, dot, rest = tag_name.partition(".")
    return rest if dot and rest else tag_name


def format_value(value: float) -> str:
    """Up to four significant figures, no exponent for plant-sized numbers."""
    if not math.isfinite(value):
        return ""
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}" if magnitude < 1000 else f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}" if magnitude >= 0.001 or value == 0 else f"{value:.2g}"


def age_text(age_s: float) -> str:
    if age_s < 90:
        return f"{max(0, round(age_s))} s ago"
    if age_s < 90 * 60:
        return f"{round(age_s / 60)} min ago"
    if age_s < 48 * 3600:
        return f"{round(age_s / 3600)} h ago"
    return f"{round(age_s / 86400)} d ago"


def limit_of(
    value: float, lo_lo: float | None, lo: float | None, hi: float | None, hi_hi: float | None
) -> str:
    if hi_hi is not None and value >= hi_hi:
        return "HI-HI"
    if lo_lo is not None and value <= lo_lo:
        return "LO-LO"
    if hi is not None and value >= hi:
        return "HI"
    if lo is not None and value <= lo:
        return "LO"
    return ""


def tile_state(
    status: int | None, has_value: bool, age_s: float | None, interval_s: float
) -> TileState:
    quality = quality_of(status, has_value)
    if quality is Quality.NONE:
        return TileState.NONE
    if quality is Quality.BAD:
        return TileState.BAD
    if is_stale(age_s, interval_s):
        return TileState.STALE
    return TileState.UNCERTAIN if quality is Quality.UNCERTAIN else TileState.GOOD


@dataclass(frozen=True)
class Latest:
    """A tag and its latest reading, as the query returns them."""

    tag_id: int
    name: str
    description: str
    unit: str
    expected_interval_s: float
    value: float | None
    status: int | None
    age_s: float | None
    time_text: str = ""  # local time of the reading, for "last … at 10:31"
    limits: tuple[float | None, float | None, float | None, float | None] = (None,) * 4


def tile_for(latest: Latest, spark: tuple[str, ...] = (), alarm_ids: Sequence[int] = ()) -> Tile:
    state = tile_state(
        latest.status, latest.value is not None, latest.age_s, latest.expected_interval_s
    )
    value, note, limit = "", "", ""
    shown = format_value(latest.value) if latest.value is not None else ""
    if state in (TileState.GOOD, TileState.UNCERTAIN) and latest.value is not None:
        value = shown
        limit = limit_of(latest.value, *latest.limits)
        note = "UNCERTAIN" if state is TileState.UNCERTAIN else ""
    elif state is TileState.STALE:
        age = age_text(latest.age_s) if latest.age_s is not None else ""
        note = f"STALE · last {shown} at {latest.time_text} ({age})" if shown else f"STALE {age}"
    elif state is TileState.BAD:
        note = "BAD signal"
    else:
        note = "no data"
    return Tile(
        tag_id=latest.tag_id,
        name=latest.name,
        label=label_of(latest.name, latest.description),
        unit=latest.unit,
        state=state,
        value=value,
        note=note,
        limit=limit,
        spark=spark,
        alarm_ids=tuple(alarm_ids),
    )


def group_by_area(tiles: Iterable[Tile]) -> list[tuple[str, list[Tile]]]:
    """Tiles per process area, areas by name with "Other" last, tiles in the given order."""
    areas: dict[str, list[Tile]] = {}
    for tile in tiles:
        areas.setdefault(area_of(tile.name), []).append(tile)
    return sorted(areas.items(), key=lambda kv: (kv[0] == OTHER_AREA, kv[0]))


def sparkline(
    points: Sequence[tuple[float, float | None]],
    t0: float,
    t1: float,
    gap_s: float,
    width: float = SPARK_W,
    height: float = SPARK_H,
) -> tuple[str, ...]:
    """SVG polyline point lists for (epoch seconds, value) points between t0 and t1.

    A missing value, or a silence longer than ``gap_s``, breaks the line: a sparkline
    never draws across missing data. The value axis spans the points' own range.
    """
    good = [(t, v) for t, v in points if v is not None and math.isfinite(v) and t0 <= t <= t1]
    if not good or t1 <= t0:
        return ()
    lo = min(v for _, v in good)
    hi = max(v for _, v in good)
    span = hi - lo
    pad = 2.0
    runs: list[list[str]] = []
    last_t: float | None = None
    for t, v in points:
        if v is None or not math.isfinite(v) or not t0 <= t <= t1:
            last_t = None
            continue
        if last_t is None or t - last_t > gap_s:
            runs.append([])
        x = (t - t0) / (t1 - t0) * width
        # A flat signal draws as a level line across the middle.
        y = pad + (1 - (v - lo) / span) * (height - 2 * pad) if span else height / 2
        runs[-1].append(f"{x:.1f},{y:.1f}")
        last_t = t
    # A lone point draws as a short dash so it is still visible.
    return tuple(" ".join(r if len(r) > 1 else [r[0], _nudge(r[0])]) for r in runs)


def _nudge(point: str) -> str:
    x, y = point.split(",")
    return f"{float(x) + 2:.1f},{y}"


@dataclass(frozen=True)
class Alarm:
    id: int
    severity: str
    message: str
    tag_id: int | None
    tag_name: str
    started_at: datetime
    ended_at: datetime | None
    occurrences: int


def order_alarms(alarms: Iterable[Alarm]) -> list[Alarm]:
    """Most severe first; within a severity, active before cleared, newest first."""
    return sorted(
        alarms,
        key=lambda a: (
            SEVERITY_ORDER.get(a.severity, 9),
            a.ended_at is not None,
            -a.started_at.timestamp(),
            -a.id,
        ),
    )

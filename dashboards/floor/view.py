"""What the floor terminal shows for readings and alarms: pure rules, no I/O.

A tile shows a number as current only when the latest reading is good and fresh.
A stale reading shows no big number at all (only "last 7.21 at 10:31" in small type),
a bad one says BAD, an uncertain one keeps its number with a warning mark.

Fresh means heard from lately, whatever the tag's type: the latest reading is younger
than three expected intervals, and the device or server it comes from (where the
collectors publish their health) was heard from within ``SOURCE_SILENT_S``. A steady
value stored by exception is confirmed by its source's health, not by its age; when the
collectors stop, every tile of theirs goes stale within that time. Each fresh tile
also says how long it stays fresh (``fresh_s``), so the page can mark it stale by
itself when no news comes (the server lost).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dashboards.trends.quality import Quality, gap_after_s, is_stale, quality_of

OTHER_AREA = "Other"
# A source (a Modbus device, an OPC UA server) whose health the collectors have not
# written for this long is silent: its tiles go stale (the ingest status says "stale"
# at this age too).
SOURCE_SILENT_S = 30.0
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
    fresh_s: float | None = None  # a current value goes stale after this many seconds
    last: str = ""  # "last 7.21 at 10:31": what a stale tile says, the page's too
    raw_unit: str = ""  # the unit as the tag has it ("m3/h"; ``unit`` is "m³/h")


def area_of(tag_name: str) -> str:
    """The process area of a tag: the first part of a dotted name ("aeration.do" -> Aeration)."""
    head, dot, _ = tag_name.partition(".")
    if not dot or not head:
        return OTHER_AREA
    return head.replace("_", " ").replace("-", " ").strip().title() or OTHER_AREA


def label_of(tag_name: str, description: str) -> str:
    """A tile's name: the tag's description, else its name in words past its area
    ("aeration.blower1.running" -> "blower1 running" in the Aeration area)."""
    if description:
        return description
    _, dot, rest = tag_name.partition(".")
    return (rest if dot and rest else tag_name).replace("_", " ").replace(".", " ")


def format_value(value: float) -> str:
    """Three significant figures (a plant's instruments read no finer), whole numbers from
    1,000 up with thousands separated, never an exponent."""
    if not math.isfinite(value):
        return ""
    magnitude = abs(value)
    if magnitude >= 999.5:
        return f"{value:,.0f}"
    if magnitude < 0.0005:
        return "0" if value == 0 else f"{value:.2g}"
    decimals = max(0, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{decimals}f}"
    # Rounding up can add a digit (9.996 -> "10.00"): three figures again.
    if len(text.replace("-", "").replace(".", "").lstrip("0")) > 3 and decimals:
        text = f"{value:.{decimals - 1}f}"
    return text


UNITS = {"degC": "°C", "degF": "°F", "m3": "m³", "m3/h": "m³/h", "m3/d": "m³/d",
         "m2": "m²", "ug/L": "µg/L", "uS/cm": "µS/cm", "pct": "%"}  # fmt: skip


def unit_text(unit: str) -> str:
    """A unit as people write it ("m3/h" -> "m³/h", "degC" -> "°C")."""
    return UNITS.get(unit, unit)


# On/off states by what the tag says it is: (the word for 1, the word for 0).
_STATE_WORDS = (
    (("running", "run"), ("Running", "Stopped")),
    (("alarm", "fault", "trip", "_low", "_high", " low", " high"), ("ALARM", "Normal")),
    (("open",), ("Open", "Closed")),
)


def state_words(name: str, description: str) -> tuple[str, str]:
    """The words of an on/off tag's two states: a pump "Running"/"Stopped", an alarm
    "ALARM"/"Normal", a valve "Open"/"Closed", else "On"/"Off"."""
    text = f"{name} {description}".lower()
    for marks, words in _STATE_WORDS:
        if any(m in text for m in marks):
            return words
    return ("On", "Off")


def is_on_off(address: str, unit: str, eng_low: float | None, eng_high: float | None) -> bool:
    """Whether a tag is an on/off state: a Modbus coil or discrete input, or a tag with no
    unit whose range is 0 to 1."""
    kind = address.split(";")[1] if address.count(";") >= 2 else ""
    return kind in ("coil", "discrete") or (not unit and (eng_low, eng_high) == (0, 1))


def source_of(protocol: str, address: str) -> str | None:
    """The collectors' name of the device or server a tag is read from ("modbus:plc-1"),
    as they publish its health; None for a tag no collector reads."""
    head = address.split(";", 1)[0]
    if protocol in ("modbus", "opcua") and head and ";" in address:
        return f"{protocol}:{head}"
    return None


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
    status: int | None,
    has_value: bool,
    age_s: float | None,
    interval_s: float,
    source_silent_s: float | None = None,
) -> TileState:
    quality = quality_of(status, has_value)
    if quality is Quality.NONE:
        return TileState.NONE
    if quality is Quality.BAD:
        return TileState.BAD
    if is_stale(age_s, interval_s) or (
        source_silent_s is not None and source_silent_s > SOURCE_SILENT_S
    ):
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
    # How long ago the tag's source was last heard from; None: no health on record.
    source_silent_s: float | None = None
    on_off: bool = False  # a state (pump running, alarm), not a quantity


def shown_value(latest: Latest, value: float) -> str:
    """A value as a tile says it: an on/off state in words, else a number."""
    if latest.on_off:
        on, off = state_words(latest.name, latest.description)
        return on if value >= 0.5 else off
    return format_value(value)


def fresh_for(latest: Latest) -> float | None:
    """Seconds until a current value goes stale without news (its age past three expected
    intervals, or its source silent too long), from when it was read from the database."""
    if latest.age_s is None:
        return None
    left = gap_after_s(latest.expected_interval_s) - latest.age_s
    if latest.source_silent_s is not None:
        left = min(left, SOURCE_SILENT_S - latest.source_silent_s)
    return max(0.0, left)


def tile_for(latest: Latest, spark: tuple[str, ...] = (), alarm_ids: Sequence[int] = ()) -> Tile:
    state = tile_state(
        latest.status,
        latest.value is not None,
        latest.age_s,
        latest.expected_interval_s,
        latest.source_silent_s,
    )
    value, note, limit, fresh = "", "", "", None
    shown = shown_value(latest, latest.value) if latest.value is not None else ""
    unit = "" if latest.on_off else unit_text(latest.unit)
    age = age_text(latest.age_s) if latest.age_s is not None else ""
    last = f"last {shown} {unit}".rstrip() + f" at {latest.time_text}" if shown else ""
    if state in (TileState.GOOD, TileState.UNCERTAIN) and latest.value is not None:
        value = shown
        limit = "" if latest.on_off else limit_of(latest.value, *latest.limits)
        note = "UNCERTAIN" if state is TileState.UNCERTAIN else ""
        fresh = fresh_for(latest)
    elif state is TileState.STALE:
        note = f"STALE · {last} ({age})" if shown else f"STALE {age}"
    elif state is TileState.BAD:
        note = "BAD signal"
    else:
        note = "no data"
    return Tile(
        tag_id=latest.tag_id,
        name=latest.name,
        label=label_of(latest.name, latest.description),
        unit=unit,
        state=state,
        value=value,
        note=note,
        limit=limit,
        spark=spark,
        alarm_ids=tuple(alarm_ids),
        fresh_s=fresh,
        last=last,
        raw_unit=latest.unit,
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

"""The trend page's period: a preset that follows the clock (the last 24 hours) or a custom
range, given on the plant's clock. Pure, no I/O.

A custom range's ends come from the page's date and time fields, which hold a wall time
without a zone (``2026-03-08T06:00``): it is read on the site's clock. A wall time the
clocks skip (02:30 on the spring-forward night) reads as the same wall time before the
change, so an hour later on the new clock; one they repeat reads as its first occurrence.
An end with its zone (``…Z``, ``…-07:00``: a zoomed view's link) is taken as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboards.trends.resolution import MAX_SPAN_S

# Presets offered as buttons: label and seconds.
PERIODS: dict[str, int] = {
    "1h": 3600,
    "8h": 8 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
DEFAULT_PERIOD = "24h"
CUSTOM = "custom"
# The shortest custom range: a minute (a 1 s tag's readings one by one).
MIN_SPAN = timedelta(minutes=1)

WORDS = {
    "1h": "the last hour",
    "8h": "the last 8 hours",
    "24h": "the last 24 hours",
    "7d": "the last 7 days",
    "30d": "the last 30 days",
}


@dataclass(frozen=True, slots=True)
class Period:
    code: str  # a preset's label, or CUSTOM
    seconds: int
    start: datetime  # UTC; a preset's as of the page's now (the page moves it on)
    end: datetime

    @property
    def custom(self) -> bool:
        return self.code == CUSTOM


def parse_when(text: str, zone: ZoneInfo) -> datetime:
    """A time from a page field or link, as UTC: a wall time on ``zone``'s clock, or an ISO
    8601 time with its zone."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"“{text}” is not a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"“{text}” is out of range") from None


def choose(
    code: str | None, start: str | None, end: str | None, zone: ZoneInfo, now: datetime
) -> tuple[Period, str | None]:
    """The period a page asks for, and what was wrong with it (then the default is shown).

    A preset's button wins over the range fields; without one, a ``from`` and ``to`` make a
    custom range."""
    if code in PERIODS:
        return preset(code, now), None
    if code not in (None, "", CUSTOM):
        return preset(DEFAULT_PERIOD, now), f"No period “{code}”; showing {WORDS[DEFAULT_PERIOD]}."
    if not start and not end:
        if code == CUSTOM:
            return preset(DEFAULT_PERIOD, now), "Give both ends of the range."
        return preset(DEFAULT_PERIOD, now), None
    if not start or not end:
        return preset(DEFAULT_PERIOD, now), "Give both ends of the range."
    try:
        lo, hi = parse_when(start, zone), parse_when(end, zone)
    except ValueError as exc:
        return preset(DEFAULT_PERIOD, now), f"{exc}; showing {WORDS[DEFAULT_PERIOD]}."
    if hi - lo < MIN_SPAN:
        return preset(DEFAULT_PERIOD, now), "The range must end at least a minute after it starts."
    if (hi - lo).total_seconds() > MAX_SPAN_S:
        return (
            preset(DEFAULT_PERIOD, now),
            f"A range may be at most {MAX_SPAN_S // 86400} days long.",
        )
    return Period(CUSTOM, int((hi - lo).total_seconds()), lo, hi), None


def preset(code: str, now: datetime) -> Period:
    seconds = PERIODS[code]
    return Period(code, seconds, now - timedelta(seconds=seconds), now)


def field_value(t: datetime, zone: ZoneInfo) -> str:
    """A time as a page's date and time field holds it: the wall time on ``zone``'s clock."""
    return t.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def describe(period: Period, zone: ZoneInfo) -> str:
    """The period in words, on the plant's clock: ``the last 30 days``, or ``3 Mar 2026
    06:00 – 5 Mar 2026 06:00 MST``."""
    return span(period, zone) if period.custom else WORDS[period.code]


def span(period: Period, zone: ZoneInfo) -> str:
    """The period's ends on the plant's clock, a preset's as of the page's now: what a
    printed trend says it shows."""
    a, b = period.start.astimezone(zone), period.end.astimezone(zone)
    same_zone = a.tzname() == b.tzname()
    left = f"{a.day} {a:%b %Y %H:%M}" + ("" if same_zone else f" {a.tzname()}")
    return f"{left} – {b.day} {b:%b %Y %H:%M} {b.tzname()}"

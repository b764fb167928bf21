"""Plant days: local midnight to local midnight in the plant's time zone.

A plant day is 23 or 25 hours long on the days the clocks change; every
report that speaks of "a day" uses these bounds, never a fixed 24 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a plant day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((following - first).days)]


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    days = month_days(year, month)
    return day_bounds(days[0], tz)[0], day_bounds(days[-1], tz)[1]


def plant_day_of(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("instants must carry their time zone")
    return instant.astimezone(tz).date()


def iter_days(start: date, end: date) -> Iterator[date]:
    """Days from start to end inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def day_hours(day: date, tz: ZoneInfo) -> float:
    start, end = day_bounds(day, tz)
    return (end - start).total_seconds() / 3600

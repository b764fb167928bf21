"""Plant days: local midnight to local midnight in the plant's time zone, and the plant
days a report of a month covers (the whole month, or the month to date).

A plant day is 23 or 25 hours long on the days the clocks change; every
report that speaks of "a day" uses these bounds, never a fixed 24 hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clearwell.errors import ClearwellError


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


# Reports are of months from this year on: before it a month is a typing mistake, and
# year 0 (0000-01) is not a year at all.
EARLIEST_YEAR = 1900


class MonthRefused(ClearwellError):
    """A month that cannot be reported: not written YYYY-MM, out of range, or not begun."""


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of ``YYYY-MM``; anything else is refused, naming what is wrong."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise MonthRefused(f"month {text!r}: write it as YYYY-MM, e.g. 2025-11")
    if int(m.group(1)) < EARLIEST_YEAR:
        raise MonthRefused(f"month {text!r}: reports are of months from {EARLIEST_YEAR}-01 on")
    return int(m.group(1)), int(m.group(2))


class MonthNotBegun(ValueError):
    """A month whose first plant day is after today's: there is nothing to report yet."""


@dataclass(frozen=True)
class Period:
    """The plant days a report of a month covers: every day of a month that is over, or for
    the month in progress the days up to today's (``month_to_date``; today's is still going
    on)."""

    year: int
    month: int
    days: tuple[date, ...]
    month_to_date: bool

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start of the first plant day, end of the last), in UTC."""
        return day_bounds(self.first, tz)[0], day_bounds(self.last, tz)[1]

    def describe(self) -> str:
        """``December 2026`` or ``December 2026, month to date: plant days 1 to 7 (the 7th
        still in progress)``."""
        name = f"{self.first:%B} {self.year}"
        if not self.month_to_date:
            return name
        span = (
            f"plant day {self.last.day}"
            if len(self.days) == 1
            else (f"plant days 1 to {self.last.day}")
        )
        return f"{name}, month to date: {span} (the {_ordinal(self.last.day)} still in progress)"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def report_period(year: int, month: int, today: date) -> Period:
    """The plant days a report of the month covers, ``today`` being the plant's local date;
    a month that has not begun raises :class:`MonthNotBegun`."""
    first = date(year, month, 1)
    if first > today:
        raise MonthNotBegun(
            f"{year:04d}-{month:02d} has not begun (today is {today.isoformat()} at the plant);"
            f" the latest month to report is {today:%Y-%m}, to date"
        )
    days = tuple(month_days(year, month))
    if days[-1] < today:
        return Period(year, month, days, False)
    return Period(year, month, tuple(d for d in days if d <= today), True)


def sunday_of(day: date) -> date:
    """The Sunday that begins the calendar week (Sunday to Saturday) of ``day``."""
    return day - timedelta(days=(day.weekday() + 1) % 7)

"""Retention: how long raw readings and each rollup are kept, and what may be dropped.

Pure: the sites' policies, the clock and the oldest hour the rollups have yet to
recompute in, to the time before which each hypertable's chunks may go. The
database side is :mod:`dashboards.trends.retention_db`; the SQL function that
drops (``clearwell_drop_chunks``, migration 0404) checks the rollup marks again.

Raw readings are kept ``raw_days``, but never dropped

* from the oldest hour a rollup has still to be recomputed in (a mark in
  ``rollup_dirty``): the rollups are made from the raw readings;
* from the start of the previous month in the site's zone: a month's report is
  due in the month after it (a DMR by the 15th-28th), and until then its raw
  readings stay to check or correct it by.

Minute rollups are kept ``minute_days`` and hourly rollups ``hour_days`` (at least
three years and a day, NPDES's minimum; the monthly report reads them), never from
the start of the previous month either. Chunks hold every site's rows, so each
hypertable is kept as long as its longest-keeping site asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TABLES = ("readings", "readings_1m", "readings_1h")
# NPDES records: three years (40 CFR 122.41(j)(2)), and a day for the leap year.
MIN_HOUR_DAYS = 1096
MIN_RAW_DAYS = 7


@dataclass(frozen=True)
class Policy:
    """How many days a site keeps raw readings, minute and hourly rollups."""

    raw_days: int = 90
    minute_days: int = 180
    hour_days: int = 3653

    def problems(self) -> list[str]:
        """What makes this policy one the database refuses (the checks of 0404)."""
        out = []
        if self.raw_days < MIN_RAW_DAYS:
            out.append(f"raw readings must be kept at least {MIN_RAW_DAYS} days")
        if self.minute_days < self.raw_days:
            out.append("minute rollups must be kept at least as long as raw readings")
        if self.hour_days < MIN_HOUR_DAYS:
            out.append(
                f"hourly rollups must be kept at least {MIN_HOUR_DAYS} days (three years:"
                " they are the record once raw readings are gone)"
            )
        if self.hour_days < self.minute_days:
            out.append("hourly rollups must be kept at least as long as minute rollups")
        return out

    def days(self, table: str) -> int:
        return {"readings": self.raw_days, "readings_1m": self.minute_days}.get(
            table, self.hour_days
        )


DEFAULT = Policy()


@dataclass(frozen=True)
class SitePolicy:
    code: str
    timezone: str
    policy: Policy


@dataclass(frozen=True)
class Cutoff:
    """Chunks of ``table`` ending at or before ``before`` may be dropped; ``why`` says
    what set that time."""

    table: str
    before: datetime
    why: str


def previous_month_start(now: datetime, timezone: str) -> datetime:
    """Midnight starting the month before ``now``'s, in the zone (an aware time)."""
    local = now.astimezone(ZoneInfo(timezone))
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return datetime(year, month, 1, tzinfo=ZoneInfo(timezone))


def cutoffs(
    now: datetime, sites: Sequence[SitePolicy], oldest_mark: datetime | None
) -> list[Cutoff]:
    """Per hypertable, the time before which its chunks may go (none without sites)."""
    if not sites:
        return []
    out = []
    for table in TABLES:
        candidates: list[tuple[datetime, str]] = []
        for s in sites:
            days = s.policy.days(table)
            candidates.append((now - timedelta(days=days), f"{days} days kept at {s.code}"))
            month = previous_month_start(now, s.timezone)
            candidates.append((month, f"{month:%B %Y} at {s.code} not yet reported"))
        if table == "readings" and oldest_mark is not None:
            candidates.append(
                (oldest_mark, f"rollups to recompute from {oldest_mark:%Y-%m-%d %H:%M} UTC")
            )
        before, why = min(candidates, key=lambda c: c[0])
        out.append(Cutoff(table, before, why))
    return out

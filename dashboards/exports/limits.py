"""Permit limits against a report's values: which daily values and which summary statistics
exceed them, and how many (pure).

A limit on a daily maximum or minimum (``DAILY MX``, ``DAILY MN``) applies to every day's
value and to the month's maximum or minimum; any other limit to its statistic only (a
monthly or weekly average, a geometric mean, a total). A value reported below detection
(``<DL``) exceeds nothing here: whether the detection limit does is for the lab to resolve,
as on the DMR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dashboards.exports.mor import Column, DayRow, Limit, Monthly
from dashboards.exports.statistics import Stat, Value


def beyond(value: Value, limit: Limit) -> bool:
    """Whether a reported value is outside the limit."""
    if not isinstance(value, Stat) or value.qualifier == "<":
        return False
    v = value.value
    return (limit.max is not None and v > limit.max) or (limit.min is not None and v < limit.min)


@dataclass(frozen=True)
class Exceedances:
    """By column key: the days whose value exceeds a daily limit, and the summary
    statistics that exceed theirs. Counted as the DMR's "NO. EX" is: each day beyond a
    daily limit, and each other statistic beyond its limit (a month's daily maximum beyond
    the daily limit is marked, but it is one of the days already counted)."""

    days: dict[str, frozenset[date]] = field(default_factory=dict)
    stats: dict[str, frozenset[Monthly]] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return self.counted.get(key, 0)

    @property
    def total(self) -> int:
        return sum(self.counted.values())

    def day(self, key: str, day: date) -> bool:
        return day in self.days.get(key, ())

    def stat(self, key: str, stat: Monthly) -> bool:
        return stat in self.stats.get(key, ())


def exceedances(
    columns: Sequence[Column],
    rows: Sequence[DayRow],
    monthly: dict[str, dict[Monthly, Value]],
) -> Exceedances:
    days: dict[str, frozenset[date]] = {}
    stats: dict[str, frozenset[Monthly]] = {}
    counted: dict[str, int] = {}
    for c in columns:
        daily = [lim for lim in c.limits if lim.daily]
        days[c.key] = frozenset(
            r.day for r in rows if any(beyond(r.values[c.key], lim) for lim in daily)
        )
        per = monthly.get(c.key, {})
        over = [lim for lim in c.limits if lim.statistic in per and beyond(per[lim.statistic], lim)]
        stats[c.key] = frozenset(lim.statistic for lim in over)
        counted[c.key] = len(days[c.key]) + sum(1 for lim in over if not lim.daily)
    return Exceedances(days, stats, counted)


def limit_text(limit: Limit) -> str:
    """``<= 45``, ``>= 6.5``, ``6.5 to 9``: the limit as a report prints it."""
    if limit.min is not None and limit.max is not None:
        return f"{limit.min:g} to {limit.max:g}"
    if limit.max is not None:
        return f"<= {limit.max:g}"
    return f">= {limit.min:g}"

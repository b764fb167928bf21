"""The Monthly Operating Report: per plant day values and monthly statistics.

Computed from hourly rollups of the readings (one row per tag and hour: count
of good samples, sum, min, max and last value), which keeps a month of 1 s data
for hundreds of tags cheap, and from lab results. Plant days are local days in
the facility's time zone; every US time zone offset is a whole number of hours,
so hourly buckets never straddle a plant day boundary.

A weekly (7-day) average is the average of the daily values of a calendar week, Sunday to
Saturday, and belongs to the month its Saturday is in (the days before the month count
then); the month's statistic is the highest of them. A month to date counts the weeks
whose Saturday has come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from dashboards.exports.plant_day import day_bounds, day_hours, iter_days, month_days, sunday_of
from dashboards.exports.statistics import (
    BelowDetection,
    Missing,
    Result,
    Sample,
    Stat,
    Value,
    arithmetic_mean,
    geometric_mean,
    maximum,
    minimum,
    totalizer_total,
)


class Daily(StrEnum):
    """How a column's daily value is made."""

    TOTAL = "total"  # forward steps of a totalizer over the day
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    HOURS = "hours"  # hours a run state was on
    LAB = "lab"  # lab results of samples taken that day


class Monthly(StrEnum):
    AVG = "avg"
    WEEK_AVG = "week_avg"  # the highest average of a calendar week (7-day average)
    MAX = "max"
    MIN = "min"
    GEOMEAN = "geomean"
    TOTAL = "total"


@dataclass(frozen=True)
class Limit:
    """A permit limit on one statistic of a column: ``base`` is the permit's statistical
    base (``DAILY MX``), ``statistic`` the summary it bounds. A daily maximum or minimum
    bounds each day's value as well."""

    base: str
    statistic: Monthly
    min: float | None = None
    max: float | None = None

    @property
    def daily(self) -> bool:
        return self.base in DAILY_BASES


# The statistical bases whose limit every day's value must meet.
DAILY_BASES = ("DAILY MX", "DAILY MN")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str
    daily: Daily
    source: str  # a tag name, or a lab analyte for Daily.LAB
    monthly: tuple[Monthly, ...] = (Monthly.AVG, Monthly.MAX, Monthly.MIN)
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class InCharge:
    """Who was in responsible charge during one shift of a plant day (``operator``), or
    a stretch of it with no one in charge (``operator`` says so, ``certificate`` empty)."""

    shift: str
    operator: str
    certificate: str  # e.g. "UT WW treatment Grade III #12345"
    grade: str = ""  # of that certificate, e.g. "III"; empty without one
    note: str = ""  # e.g. that they did not meet the grade the facility needs


@dataclass
class DayRow:
    day: date
    hours: float
    values: dict[str, Value]
    in_charge: list[InCharge] = field(default_factory=list)


@dataclass
class MonthlyReport:
    facility: str
    facility_code: str
    permit: str
    year: int
    month: int
    timezone: str
    columns: list[Column]
    days: list[DayRow]
    monthly: dict[str, dict[Monthly, Value]]
    below_detection: BelowDetection
    responsible_operator: str
    responsible_certificate: str
    generated_at: datetime
    generated_by: str
    # The month in progress: ``days`` run to today's plant day, which is not over.
    month_to_date: bool = False
    # How the operators in responsible charge were found (the compliance engine's rules,
    # or the crews' DRC role when the facility has no compliance profile).
    charge_basis: str = ""


# Hours of a day with good data, below which a daily signal value is not reported.
MIN_COVERAGE = 0.75

HOURLY_COLUMNS = ("tag", "bucket", "n_good", "sum", "min", "max", "last")
LAB_COLUMNS = ("analyte", "sampled_at", "value", "qualifier", "detection_limit")


def _local_days(series: pd.Series, tz: ZoneInfo) -> pd.Series:
    return series.dt.tz_convert(tz).dt.date


def daily_values(
    column: Column,
    lab: pd.DataFrame,
    days: Sequence[date],
    tz: ZoneInfo,
    rule: BelowDetection,
) -> dict[date, Value]:
    """A lab column's (``Daily.LAB``) value for each plant day."""
    rows = lab[lab["analyte"] == column.source]
    # Iterated, not get_group: pandas takes a one-row key Series for a list of keys there,
    # and a month with a single sample of an analyte raised KeyError.
    by_day = dict(iter(rows.groupby(_local_days(rows["sampled_at"], tz)))) if len(rows) else {}
    out: dict[date, Value] = {}
    for day in days:
        group = by_day.get(day)
        if group is None:
            out[day] = Missing("NOT_SAMPLED")
            continue
        results = [
            Result(
                None if pd.isna(v) else float(v),
                None if pd.isna(q) else str(q),
                None if pd.isna(dl) else float(dl),
            )
            for v, q, dl in zip(
                group["value"], group["qualifier"], group["detection_limit"], strict=True
            )
        ]
        out[day] = arithmetic_mean(results, rule)
    return out


def _with_days(hourly: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    if "day" in hourly.columns:
        return hourly
    return hourly.assign(day=_local_days(hourly["bucket"], tz))


Aggregates = tuple[dict[tuple[str, date], tuple[Any, ...]], set[tuple[str, date]]]


def _day_aggregates(rows: pd.DataFrame) -> Aggregates:
    """Per (tag, day): good hours, good samples, sum, min, max, running hours; and the
    (tag, day) pairs with any row at all. One grouping for every tag of a report."""
    good = rows[rows["n_good"] > 0]
    grouped = good.assign(on=good["sum"] / good["n_good"]).groupby(["tag", "day"], sort=False)
    stats = grouped.agg(
        hours=("n_good", "size"),
        n=("n_good", "sum"),
        total=("sum", "sum"),
        low=("min", "min"),
        high=("max", "max"),
        on=("on", "sum"),
    )
    per_day = {k: tuple(v) for k, v in zip(stats.index, stats.itertuples(index=False), strict=True)}
    return per_day, set(zip(rows["tag"], rows["day"], strict=True))


def _signal_values(
    column: Column,
    rows: pd.DataFrame,
    days: Sequence[date],
    tz: ZoneInfo,
    aggregates: Aggregates,
) -> dict[date, Value]:
    """A tag's daily values from its hourly rows (sorted by bucket, with their plant
    ``day``); ``aggregates`` from :func:`_day_aggregates` of all the report's tags."""
    good = rows[rows["n_good"] > 0]
    out: dict[date, Value] = {}
    if column.daily is Daily.TOTAL:
        before = good[good["day"] < days[0]]
        previous_last = float(before["last"].iloc[-1]) if len(before) else None
        by_day = {d: g for d, g in good.groupby("day", sort=False)}
        for day in days:
            day_rows = by_day.get(day, good.iloc[:0])
            # The totalizer's value at the end of each good hour, after the
            # previous day's last value: forward steps are the day's volume.
            samples = [Sample(-1.0, previous_last)] if previous_last is not None else []
            start = pd.Timestamp(day_bounds(day, tz)[0])
            samples += [
                Sample((b - start).total_seconds() + 3600, float(v))
                for b, v in zip(day_rows["bucket"], day_rows["last"], strict=True)
            ]
            out[day] = totalizer_total(samples, day_hours(day, tz) * 3600, MIN_COVERAGE)
            if len(day_rows):
                previous_last = float(day_rows["last"].iloc[-1])
        return out
    per_day, any_rows = aggregates
    tag = column.source
    for day in days:
        hours = day_hours(day, tz)
        found = per_day.get((tag, day))
        if found is None or found[0] < MIN_COVERAGE * hours:
            has_any = (tag, day) in any_rows
            out[day] = Missing(
                "PARTIAL" if found is not None else ("BAD_QUALITY" if has_any else "NO_DATA")
            )
            continue
        _, n_good, total, low, high, on = found
        n = int(n_good)
        if column.daily is Daily.AVG:
            out[day] = Stat(float(total) / n, None, n)
        elif column.daily is Daily.MIN:
            out[day] = Stat(float(low), None, n)
        elif column.daily is Daily.MAX:
            out[day] = Stat(float(high), None, n)
        elif column.daily is Daily.HOURS:
            # Mean of a 0/1 run state over an hour is the fraction of it running.
            out[day] = Stat(float(on), None, n)
    return out


def _results(values: Iterable[Value]) -> list[Result]:
    """Daily values (or weekly averages) as results of the statistics: a value reported as
    ``<`` keeps its limit as its detection limit."""
    return [
        Result(v.value, v.qualifier, v.value if v.qualifier else None)
        for v in values
        if isinstance(v, Stat)
    ]


def week_averages(
    values: dict[date, Value], days: Sequence[date], rule: BelowDetection
) -> list[tuple[date, Value]]:
    """(Saturday, average) of each calendar week ending on one of ``days``; ``values`` holds
    the days of those weeks before ``days`` too."""
    out = []
    for saturday in (d for d in days if d.weekday() == 5):
        week = [values[d] for d in iter_days(sunday_of(saturday), saturday) if d in values]
        out.append((saturday, arithmetic_mean(_results(week), rule)))
    return out


def monthly_statistics(
    column: Column,
    values: dict[date, Value],
    rule: BelowDetection,
    weeks: Sequence[Value] = (),
) -> dict[Monthly, Value]:
    """The column's statistics over the days of ``values``; ``weeks``: the averages of the
    calendar weeks ending in them, for :attr:`Monthly.WEEK_AVG`."""
    results = _results(values.values())
    out: dict[Monthly, Value] = {}
    for stat in column.monthly:
        if stat is Monthly.AVG:
            out[stat] = arithmetic_mean(results, rule)
        elif stat is Monthly.WEEK_AVG:
            out[stat] = maximum(_results(weeks)) if weeks else Missing("NO_WEEK")
        elif stat is Monthly.GEOMEAN:
            out[stat] = geometric_mean(results, rule)
        elif stat is Monthly.MAX:
            out[stat] = maximum(results)
        elif stat is Monthly.MIN:
            out[stat] = minimum(results)
        elif stat is Monthly.TOTAL:
            detected = [r.value for r in results if r.value is not None and not r.non_detect]
            out[stat] = Stat(sum(detected), None, len(detected)) if results else Missing("NO_DATA")
    return out


def value_days(days: Sequence[date], columns: Sequence[Column]) -> list[date]:
    """The plant days whose values a report of ``days`` needs: those days, and when a column
    has a weekly average the days before them in the week of the first."""
    weekly = any(Monthly.WEEK_AVG in c.monthly for c in columns)
    first = sunday_of(days[0]) if weekly else days[0]
    return list(iter_days(first, days[-1]))


def compute(
    *,
    columns: Sequence[Column],
    hourly: pd.DataFrame,
    lab: pd.DataFrame,
    year: int,
    month: int,
    tz: ZoneInfo,
    rule: BelowDetection,
    in_charge: dict[date, list[InCharge]],
    through: date | None = None,
) -> tuple[list[DayRow], dict[str, dict[Monthly, Value]]]:
    """Day rows and monthly statistics; ``hourly`` and ``lab`` carry the columns
    named in HOURLY_COLUMNS and LAB_COLUMNS, times as UTC timestamps, from the first of
    :func:`value_days` (hourly: from the day before it). ``through``: the last plant day
    reported (the month to date), else the month's last."""
    days = [d for d in month_days(year, month) if through is None or d <= through]
    needed = value_days(days, columns)
    # Local days and the split by tag once for all columns (a report may have hundreds).
    with_days = _with_days(hourly.sort_values("bucket"), tz)
    by_tag = {tag: frame for tag, frame in with_days.groupby("tag", sort=False)}
    empty = with_days.iloc[:0]
    aggregates = _day_aggregates(with_days)
    per_column = {
        c.key: (
            daily_values(c, lab, needed, tz, rule)
            if c.daily is Daily.LAB
            else _signal_values(c, by_tag.get(c.source, empty), needed, tz, aggregates)
        )
        for c in columns
    }
    rows = [
        DayRow(
            day,
            day_hours(day, tz),
            {k: per_column[k][day] for k in per_column},
            in_charge.get(day, []),
        )
        for day in days
    ]
    monthly = {}
    for c in columns:
        values = per_column[c.key]
        weeks = (
            [v for _, v in week_averages(values, days, rule)]
            if Monthly.WEEK_AVG in c.monthly
            else []
        )
        monthly[c.key] = monthly_statistics(c, {d: values[d] for d in days}, rule, weeks)
    return rows, monthly

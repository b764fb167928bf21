"""Permit limits against a report's values, and the weekly (7-day) averages they may bound:
tables of cases, no database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboards.exports.limits import beyond, exceedances, limit_text
from dashboards.exports.mor import Column, Daily, DayRow, Limit, Monthly, week_averages
from dashboards.exports.mor import monthly_statistics as stats_of
from dashboards.exports.statistics import BelowDetection, Missing, Stat

MAX_45 = Limit("DAILY MX", Monthly.MAX, max=45)
MIN_6_5 = Limit("DAILY MN", Monthly.MIN, min=6.5)
AVG_25 = Limit("30DA AVG", Monthly.AVG, max=25)


@pytest.mark.parametrize(
    ("value", "limit", "out"),
    [
        (Stat(46.0), MAX_45, True),
        (Stat(45.0), MAX_45, False),  # at the limit is within it
        (Stat(6.4), MIN_6_5, True),
        (Stat(6.5), MIN_6_5, False),
        (Stat(50.0, "<"), MAX_45, False),  # below detection: for the lab to resolve
        (Missing("NOT_SAMPLED"), MAX_45, False),
        (Stat(10.0), Limit("X", Monthly.AVG, min=6, max=9), True),
    ],
)
def test_beyond(value, limit, out):
    assert beyond(value, limit) is out


def test_limits_print_as_the_forms_write_them():
    assert [limit_text(x) for x in (MAX_45, MIN_6_5, Limit("X", Monthly.AVG, 6.5, 9))] == [
        "<= 45",
        ">= 6.5",
        "6.5 to 9",
    ]


def test_days_beyond_a_daily_limit_and_statistics_beyond_theirs_are_counted_once():
    tss = Column(
        "tss", "TSS", "mg/L", Daily.LAB, "tss", (Monthly.AVG, Monthly.MAX), (AVG_25, MAX_45)
    )
    days = [date(2024, 2, d) for d in (1, 2, 3)]
    rows = [
        DayRow(days[0], 24, {"tss": Stat(50.0)}),
        DayRow(days[1], 24, {"tss": Stat(47.0)}),
        DayRow(days[2], 24, {"tss": Missing("NOT_SAMPLED")}),
    ]
    monthly = {"tss": {Monthly.AVG: Stat(48.5), Monthly.MAX: Stat(50.0)}}
    found = exceedances([tss], rows, monthly)
    assert found.days["tss"] == {days[0], days[1]}
    assert found.stats["tss"] == {Monthly.AVG, Monthly.MAX}
    # Two days and the average; the month's maximum is one of the two days.
    assert found.count("tss") == 3 and found.total == 3


def _values(start: date, values: list[float | None]):
    return {
        start + timedelta(days=i): Stat(v) if v is not None else Missing("NOT_SAMPLED")
        for i, v in enumerate(values)
    }


def test_a_weeks_average_takes_the_days_of_the_month_before():
    # Thursday February 1, 2024: its week began on Sunday, January 28.
    values = _values(date(2024, 1, 28), [None, 10.0, None, 30.0, 20.0, None, None])
    values |= _values(date(2024, 2, 4), [None, None, 50.0, None, 44.0, None, None])
    days = [date(2024, 2, d) for d in range(1, 11)]
    weeks = week_averages(values, days, BelowDetection.ZERO)
    assert weeks == [
        (date(2024, 2, 3), Stat(20.0, None, 3)),
        (date(2024, 2, 10), Stat(47.0, None, 2)),
    ]
    column = Column("bod", "BOD", "mg/L", Daily.LAB, "bod", (Monthly.WEEK_AVG, Monthly.AVG))
    month = {d: values[d] for d in days}
    got = stats_of(column, month, BelowDetection.ZERO, [v for _, v in weeks])
    assert got[Monthly.WEEK_AVG] == Stat(47.0, None, 2)
    # The monthly average is of the month's days only.
    assert got[Monthly.AVG].value == pytest.approx((20 + 50 + 44) / 3)


def test_a_month_to_date_without_a_saturday_yet_has_no_weekly_average():
    days = [date(2026, 12, d) for d in range(1, 5)]  # Tuesday to Friday
    values = _values(days[0], [12.0, None, 14.0, None])
    assert week_averages(values, days, BelowDetection.ZERO) == []
    column = Column("bod", "BOD", "mg/L", Daily.LAB, "bod", (Monthly.WEEK_AVG,))
    got = stats_of(column, values, BelowDetection.ZERO, [])
    assert got[Monthly.WEEK_AVG] == Missing("NO_WEEK")

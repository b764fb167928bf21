from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards.exports.plant_day import (
    MonthNotBegun,
    MonthRefused,
    day_bounds,
    day_hours,
    month_bounds,
    parse_month,
    plant_day_of,
    report_period,
    sunday_of,
)

DENVER = ZoneInfo("America/Denver")


@pytest.mark.parametrize(
    ("day", "hours", "start_utc"),
    [
        (date(2026, 3, 7), 24, datetime(2026, 3, 7, 7, tzinfo=UTC)),
        (date(2026, 3, 8), 23, datetime(2026, 3, 8, 7, tzinfo=UTC)),  # spring forward
        (date(2026, 3, 9), 24, datetime(2026, 3, 9, 6, tzinfo=UTC)),
        (date(2026, 11, 1), 25, datetime(2026, 11, 1, 6, tzinfo=UTC)),  # fall back
        (date(2026, 11, 2), 24, datetime(2026, 11, 2, 7, tzinfo=UTC)),
    ],
)
def test_plant_days_follow_local_midnight_across_dst(day, hours, start_utc):
    start, end = day_bounds(day, DENVER)
    assert start == start_utc
    assert (end - start).total_seconds() == hours * 3600
    assert day_hours(day, DENVER) == hours


def test_month_bounds_cover_every_hour_once():
    start, end = month_bounds(2026, 3, DENVER)
    assert start == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert end == datetime(2026, 4, 1, 6, tzinfo=UTC)
    assert (end - start).total_seconds() == (31 * 24 - 1) * 3600


def test_plant_day_of_an_instant():
    assert plant_day_of(datetime(2026, 3, 9, 5, 59, tzinfo=UTC), DENVER) == date(2026, 3, 8)
    assert plant_day_of(datetime(2026, 3, 9, 6, 0, tzinfo=UTC), DENVER) == date(2026, 3, 9)
    with pytest.raises(ValueError):
        plant_day_of(datetime(2026, 3, 9), DENVER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02", (2024, 2)),
        ("1900-01", (1900, 1)),
        ("9999-12", (9999, 12)),
    ],
)
def test_months_are_parsed(text, expected):
    assert parse_month(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("0000-01", "from 1900-01 on"),
        ("1899-12", "from 1900-01 on"),
        ("2026-13", "write it as YYYY-MM"),
        ("2026-00", "write it as YYYY-MM"),
        ("2026-1", "write it as YYYY-MM"),
        ("december", "write it as YYYY-MM"),
    ],
)
def test_a_month_that_is_not_one_is_refused_by_name(text, named):
    with pytest.raises(MonthRefused) as caught:
        parse_month(text)
    assert text in str(caught.value) and named in str(caught.value)


def test_a_month_that_is_over_is_reported_whole():
    p = report_period(2024, 2, date(2024, 3, 1))
    assert (p.first, p.last, len(p.days), p.month_to_date) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
        29,
        False,
    )
    assert p.describe() == "February 2024" and p.label == "2024-02"


def test_the_month_in_progress_is_reported_to_today():
    p = report_period(2026, 12, date(2026, 12, 7))
    assert p.days == tuple(date(2026, 12, d) for d in range(1, 8)) and p.month_to_date
    assert p.describe() == (
        "December 2026, month to date: plant days 1 to 7 (the 7th still in progress)"
    )
    first = report_period(2026, 12, date(2026, 12, 1))
    assert first.days == (date(2026, 12, 1),)
    assert first.describe().endswith("plant day 1 (the 1st still in progress)")
    # The month's last day is still the month in progress.
    assert report_period(2026, 11, date(2026, 11, 30)).month_to_date


def test_a_month_that_has_not_begun_is_refused():
    with pytest.raises(MonthNotBegun, match="2027-01 has not begun"):
        report_period(2027, 1, date(2026, 12, 31))
    with pytest.raises(MonthNotBegun):
        report_period(9999, 12, date(2026, 12, 7))


def test_weeks_begin_on_sunday():
    assert sunday_of(date(2024, 2, 1)) == date(2024, 1, 28)  # a Thursday
    assert sunday_of(date(2024, 2, 4)) == date(2024, 2, 4)  # a Sunday
    assert sunday_of(date(2024, 2, 10)) == date(2024, 2, 4)  # a Saturday

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards.exports.plant_day import day_bounds, day_hours, month_bounds, plant_day_of

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

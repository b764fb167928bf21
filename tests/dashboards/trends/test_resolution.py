from datetime import UTC, datetime, timedelta

import pytest

from dashboards.trends.resolution import Plan, Source, bucket_width, grid, plan_trend, source_for

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "points", "expected"),
    [
        # 30 days on a 1,000-pixel chart: 45 min wanted, 1 h is the next step.
        (timedelta(days=30), 1000, Plan(Source.HOUR, 3600)),
        # The same month on a 1,920-pixel screen: 22.5 min wanted, 30 min buckets from minutes.
        (timedelta(days=30), 1920, Plan(Source.MINUTE, 1800)),
        (timedelta(days=365), 1000, Plan(Source.HOUR, 43200)),
        (timedelta(days=7), 1000, Plan(Source.MINUTE, 900)),
        (timedelta(hours=24), 1000, Plan(Source.MINUTE, 120)),
        (timedelta(hours=8), 1000, Plan(Source.RAW, 30)),
        (timedelta(hours=1), 1000, Plan(Source.RAW, 5)),
        (timedelta(minutes=10), 1000, Plan(Source.RAW, 1)),
        # Exactly one step per point: that step, not the next.
        (timedelta(minutes=1000), 1000, Plan(Source.MINUTE, 60)),
        (timedelta(hours=1000), 1000, Plan(Source.HOUR, 3600)),
    ],
)
def test_plan_picks_the_coarsest_table_that_serves_the_points(period, points, expected):
    assert plan_trend(T, T + period, points) == expected


@pytest.mark.parametrize(
    ("period", "points"),
    [(timedelta(days=30), 1000), (timedelta(hours=3), 777), (timedelta(days=400), 60)],
)
def test_plan_never_gives_more_buckets_than_points(period, points):
    plan = plan_trend(T, T + period, points)
    assert len(grid(T.timestamp(), (T + period).timestamp(), plan.bucket_s)) <= points + 1


@pytest.mark.parametrize(
    ("bucket_s", "source"),
    [(1, Source.RAW), (30, Source.RAW), (60, Source.MINUTE), (1800, Source.MINUTE),
     (3600, Source.HOUR), (86400, Source.HOUR), (7 * 86400, Source.HOUR)],
)  # fmt: skip
def test_source_for_bucket_width(bucket_s, source):
    assert source_for(bucket_s) == source


def test_widest_step_when_points_are_few():
    assert bucket_width(400 * 86400, 10) == 7 * 86400


@pytest.mark.parametrize(
    ("start", "end", "points", "message"),
    [
        (T, T, 100, "must be after"),
        (T, T - timedelta(hours=1), 100, "must be after"),
        (T, T + timedelta(days=401), 100, "longer than 400 days"),
        (T, T + timedelta(hours=1), 59, "points must be between"),
        (T, T + timedelta(hours=1), 5001, "points must be between"),
        (T.replace(tzinfo=None), T + timedelta(hours=1), 100, "time zone"),
    ],
)
def test_plan_refuses_bad_requests(start, end, points, message):
    with pytest.raises(ValueError, match=message):
        plan_trend(start, end, points)


def test_grid_is_aligned_to_the_bucket_width():
    start = T.timestamp() + 70  # 00:01:10
    assert grid(start, start + 200, 60) == [int(T.timestamp()) + 60 * k for k in (1, 2, 3, 4)]

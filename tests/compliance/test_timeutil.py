"""Durations as a chief operator reads them in the engine's messages."""

from datetime import timedelta

import pytest

from compliance.timeutil import human_duration


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=7), "7 h"),
        (timedelta(hours=4, minutes=30), "4 h 30 min"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=26, minutes=30), "1 day 2 h 30 min"),
        (timedelta(days=2, minutes=5), "2 days 5 min"),
        (timedelta(hours=456), "19 days"),  # not "456 h"
    ],
)
def test_long_durations_in_days_and_hours(delta: timedelta, text: str) -> None:
    assert human_duration(delta) == text

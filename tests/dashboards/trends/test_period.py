"""The trend page's period: presets, and custom ranges read on the plant's clock (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.trends.period import CUSTOM, choose, describe, field_value, parse_when, span

DENVER = ZoneInfo("America/Denver")
NOW = datetime(2026, 3, 20, 18, 30, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-03-01T06:00", utc(2026, 3, 1, 13), id="wall time, MST"),
        pytest.param("2026-07-01T06:00", utc(2026, 7, 1, 12), id="wall time, MDT"),
        # 02:30 does not happen on 8 March 2026: read as 02:30 MST, 03:30 MDT.
        pytest.param("2026-03-08T02:30", utc(2026, 3, 8, 9, 30), id="skipped by the clocks"),
        # 01:30 happens twice on 1 November 2026: the first, MDT.
        pytest.param("2026-11-01T01:30", utc(2026, 11, 1, 7, 30), id="repeated: the first"),
        pytest.param("2026-03-01T06:00:00Z", utc(2026, 3, 1, 6), id="with its zone, as is"),
        pytest.param("2026-03-01T06:00-05:00", utc(2026, 3, 1, 11), id="with an offset"),
    ],
)
def test_a_time_on_the_plants_clock(text, expected):
    assert parse_when(text, DENVER) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00", ""])
def test_what_is_not_a_time_says_so(text):
    with pytest.raises(ValueError, match="is not a date and time"):
        parse_when(text, DENVER)


def test_a_preset_ends_now_and_wins_over_range_fields():
    period, problem = choose("7d", "2026-03-01T06:00", "2026-03-02T06:00", DENVER, NOW)
    assert problem is None
    assert (period.code, period.seconds, period.end) == ("7d", 7 * 86400, NOW)
    assert period.start == NOW - timedelta(days=7) and not period.custom


def test_a_custom_range():
    period, problem = choose(CUSTOM, "2026-03-01T06:00", "2026-03-04T06:00", DENVER, NOW)
    assert problem is None and period.custom
    assert (period.start, period.end) == (utc(2026, 3, 1, 13), utc(2026, 3, 4, 13))
    assert period.seconds == 3 * 86400
    # The range's fields alone make one too: a link that names no period.
    assert choose(None, "2026-03-01T06:00", "2026-03-04T06:00", DENVER, NOW)[0] == period


@pytest.mark.parametrize(
    ("code", "start", "end", "problem"),
    [
        ("2y", None, None, "No period “2y”; showing the last 24 hours."),
        (CUSTOM, None, None, "Give both ends of the range."),
        (None, "2026-03-01T06:00", None, "Give both ends of the range."),
        (None, "2026-03-01T06:00", "2026-03-01T06:00:30", "at least a minute after it starts"),
        (None, "2026-03-02T06:00", "2026-03-01T06:00", "at least a minute after it starts"),
        (None, "2025-01-01T00:00", "2026-03-01T00:00", "at most 400 days long"),
        (None, "soon", "2026-03-01T00:00", "“soon” is not a date and time"),
        (None, "0001-01-01T00:00+14:00", "2026-03-01T00:00", "is out of range"),
    ],
)
def test_a_range_that_cannot_be_shown_falls_back_to_the_default(code, start, end, problem):
    period, said = choose(code, start, end, DENVER, NOW)
    assert said is not None and problem in said
    assert (period.code, period.end) == ("24h", NOW)


def test_no_period_asked_is_the_default_without_a_word():
    assert choose(None, None, None, DENVER, NOW) == (
        choose("24h", None, None, DENVER, NOW)[0],
        None,
    )


def test_the_period_in_words_and_in_the_fields():
    assert describe(choose("30d", None, None, DENVER, NOW)[0], DENVER) == "the last 30 days"
    custom, _ = choose(None, "2026-03-01T06:00", "2026-03-04T18:30", DENVER, NOW)
    assert describe(custom, DENVER) == "1 Mar 2026 06:00 – 4 Mar 2026 18:30 MST"
    across, _ = choose(None, "2026-03-07T06:00", "2026-03-09T06:00", DENVER, NOW)
    assert describe(across, DENVER) == "7 Mar 2026 06:00 MST – 9 Mar 2026 06:00 MDT"
    assert span(custom, DENVER) == describe(custom, DENVER)
    assert field_value(custom.start, DENVER) == "2026-03-01T06:00"

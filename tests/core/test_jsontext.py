"""Timestamps in API JSON written exactly as PostgreSQL writes them in a UTC session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from clearwell.jsontext import dumps, iso

CASES = [
    datetime(2026, 11, 28, 8, 33, 33, 808860, tzinfo=UTC),
    datetime(2026, 11, 28, 8, 33, 33, 800000, tzinfo=UTC),
    datetime(2026, 11, 28, 8, 33, 33, 123456, tzinfo=UTC),
    datetime(2026, 11, 28, 8, 33, 33, 10, tzinfo=UTC),
    datetime(2026, 11, 28, 8, 33, 33, tzinfo=UTC),
    datetime(2026, 3, 8, 2, 30, 0, 500, tzinfo=timezone(timedelta(hours=-7))),
]


@pytest.mark.parametrize("value", CASES, ids=lambda v: v.isoformat())
def test_iso_matches_postgresql_json(db_url: str, value: datetime) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        row = conn.execute("SELECT to_json(%s::timestamptz)::text", (value,)).fetchone()
    assert row is not None
    assert row[0] == f'"{iso(value)}"'
    assert datetime.fromisoformat(iso(value)) == value


def test_dumps_writes_every_packages_answers_in_one_encoding() -> None:
    """Text as is (compliance's messages cite "VT §3(a)"), fractions trimmed as the database
    writes them, dates and decimals as JSON strings and numbers."""
    value = {
        "at": datetime(2026, 11, 28, 8, 33, 33, 808860, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "citation": "VT §3(a)",
        "hours": Decimal("1.5"),
    }
    assert dumps(value) == (
        '{"at":"2026-11-28T08:33:33.80886+00:00","day":"2026-01-02",'
        '"citation":"VT §3(a)","hours":1.5}'
    )

"""Timestamps in API JSON written exactly as PostgreSQL writes them in a UTC session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from clearwell.jsontext import iso

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

"""Sites, tags and generated readings for the dashboards' tests, and the app in process."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from clearwell.app import create_app
from clearwell.settings import load_settings

T0 = datetime(2026, 3, 1, tzinfo=UTC)
BAD_COMM = -2147155968  # BadCommunicationError (0x80050000) as int32
UNCERTAIN = 0x40000000  # Uncertain severity, no sub-code

Row = tuple[datetime, int, float | None, int]


def make_site(conn: psycopg.Connection[Any], code: str = "plant1", tz: str = "UTC") -> int:
    row = conn.execute(
        "INSERT INTO sites (code, name, timezone) VALUES (%s, %s, %s) RETURNING id",
        (code, f"Plant {code}", tz),
    ).fetchone()
    assert row
    return int(row[0])


def make_tag(
    conn: psycopg.Connection[Any], site_id: int, name: str, unit: str = "mg/L", **extra: Any
) -> int:
    cols = ["site_id", "name", "unit", "source_protocol", *extra]
    row = conn.execute(
        psycopg.sql.SQL("INSERT INTO tags ({}) VALUES ({}) RETURNING id").format(
            psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, cols)),
            psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder() * len(cols)),
        ),
        (site_id, name, unit, "modbus", *extra.values()),
    ).fetchone()
    assert row
    return int(row[0])


def wave(tag_id: int, start: datetime, seconds: int, step_s: int = 1) -> list[Row]:
    """A smooth signal sampled every ``step_s`` seconds, all good."""
    return [
        (start + timedelta(seconds=i), tag_id, 5.0 + 2.0 * math.sin(i / 300.0) + tag_id, 0)
        for i in range(0, seconds, step_s)
    ]


def copy_rows(conn: psycopg.Connection[Any], rows: Iterable[Row]) -> None:
    """Rows into readings by COPY, as the ingest writer does (marks nothing)."""
    with conn.cursor().copy("COPY readings (time, tag_id, value, status) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def write_batch(conn: psycopg.Connection[Any], rows: list[Row]) -> None:
    """One writer batch: COPY and mark its hours dirty, in one transaction."""
    from dashboards.trends.rollups import mark_dirty

    with conn.transaction():
        copy_rows(conn, rows)
        mark_dirty(conn, rows)


@asynccontextmanager
async def app_client(
    db_url: str, refresh_s: float | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on ``db_url`` with these ``settings``, in process; the rollup
    refresher runs every ``refresh_s`` seconds, or not at all."""
    app = create_app(load_settings(database_url=db_url, **settings))
    app.state.rollup_refresh_interval_s = refresh_s
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c

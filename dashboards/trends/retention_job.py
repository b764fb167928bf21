"""Retention as a background task of the web app: drops what is past keeping, hourly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from dashboards.trends.retention_db import Planned, apply
from dashboards.trends.rollup_job import periodic_lifespan

log = logging.getLogger(__name__)

RETENTION_INTERVAL_S = 3600.0


def describe(done: list[Planned]) -> list[str]:
    """One line per hypertable with chunks dropped (or that would be)."""
    lines = []
    for p in done:
        if not p.chunks:
            continue
        first, last = p.chunks[0].start, p.chunks[-1].end
        size = sum(c.bytes for c in p.chunks) / 1e6
        lines.append(
            f"{p.cutoff.table}: {len(p.chunks)} chunks {first:%Y-%m-%d %H:%M}"
            f" to {last:%Y-%m-%d %H:%M} UTC ({size:,.1f} MB); kept from there: {p.cutoff.why}"
        )
    return lines


async def run_retention(
    pool: AsyncConnectionPool, interval_s: float = RETENTION_INTERVAL_S
) -> None:
    """Apply retention every ``interval_s`` until cancelled; survives a database outage."""
    while True:
        # Sleep first: a start is not the moment to drop a day of history.
        await asyncio.sleep(interval_s)
        try:
            async with pool.connection() as conn:
                done = await apply(conn)
            for line in describe(done):
                log.info("retention dropped %s", line)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("retention failed, trying again in %.0f s: %s", interval_s, first)


def retention_lifespan(app: Any) -> contextlib.AbstractAsyncContextManager[None]:
    """Runs :func:`run_retention` for the life of the app.

    ``app.state.retention_interval_s`` set to ``None`` before startup turns it off.
    """
    return periodic_lifespan(app, "retention_interval_s", RETENTION_INTERVAL_S, run_retention)

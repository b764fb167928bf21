"""The rollup refresh as a background task of the web app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from dashboards.trends.rollups import refresh_all

log = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 5.0


async def run_refresher(pool: AsyncConnectionPool, interval_s: float = REFRESH_INTERVAL_S) -> None:
    """Refresh dirty rollups every ``interval_s`` until cancelled; survives a database outage."""
    failing = False
    while True:
        # Sleep first: at startup the app's first requests get the pool to themselves.
        await asyncio.sleep(interval_s)
        try:
            async with pool.connection(timeout=interval_s) as conn:
                done = await refresh_all(conn)
            if done:
                log.debug("rollups: %d dirty hours recomputed", done)
            if failing:
                log.info("rollups: refresh works again")
            failing = False
        except (psycopg.Error, TimeoutError, OSError) as exc:
            # Logged once per outage, not every few seconds.
            if not failing:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                log.warning("rollups: refresh failed, retrying every %.0f s: %s", interval_s, first)
            failing = True


@contextlib.asynccontextmanager
async def periodic_lifespan(
    app: Any,
    interval_attr: str,
    default_s: float,
    run: Callable[[AsyncConnectionPool, float], Coroutine[Any, Any, None]],
) -> AsyncIterator[None]:
    """Runs ``run(pool, interval)`` as a task for the life of the app, with the interval
    ``app.state.<interval_attr>`` (``default_s`` if unset; ``None`` turns it off)."""
    interval = getattr(app.state, interval_attr, default_s)
    if interval is None:
        yield
        return
    task = asyncio.create_task(run(app.state.pool, interval), name=run.__name__)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def refresher_lifespan(app: Any) -> contextlib.AbstractAsyncContextManager[None]:
    """Runs :func:`run_refresher` for the life of the app.

    ``app.state.rollup_refresh_interval_s`` set to ``None`` before startup turns it off
    (tests that want to refresh by hand).
    """
    return periodic_lifespan(app, "rollup_refresh_interval_s", REFRESH_INTERVAL_S, run_refresher)

"""The web application: the core's health endpoint plus each module's routers.

This is the composition root, so it is the one place in the core that names the
domain packages; each of them exposes an ``APIRouter`` called ``router``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from clearwell import __version__, hooks
from clearwell.db import describe_target, make_pool
from clearwell.http_guard import HttpGuard
from clearwell.inputs import RefuseUnstorable, validation_error
from clearwell.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Modules whose ``router`` is mounted, in order. Add a module here when it has routes.
ROUTER_MODULES: tuple[str, ...] = (
    "ingest.status",
    "logbook.api.routes",
    "dashboards.web",
    "compliance.api.routes",
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = app.state.pool
    # Open without waiting: /healthz must answer (with 503) while the database is down.
    await pool.open(wait=False)
    try:
        async with AsyncExitStack() as stack:
            for lifespan in hooks.app_lifespans():
                await stack.enter_async_context(lifespan(app))
            yield
    finally:
        await pool.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Clearwell",
        version=__version__,
        description="Operations record for water and wastewater treatment plants.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.add_middleware(HttpGuard, proxies=settings.trusted_proxies)
    app.state.pool = make_pool(settings.database_dsn, max_size=settings.db_pool_max)
    app.add_middleware(RefuseUnstorable)
    app.add_exception_handler(RequestValidationError, validation_error)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Database reachability and the TimescaleDB version and license."""
        body: dict[str, Any] = {"status": "ok", "version": __version__}
        try:
            async with app.state.pool.connection(timeout=5) as conn:
                cur = await conn.execute(
                    "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),"
                    " current_setting('timescaledb.license', true),"
                    " current_setting('server_version')"
                )
                row = await cur.fetchone()
        except (psycopg.Error, TimeoutError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            body.update(
                status="degraded",
                database="unreachable",
                error=first,
                target=describe_target(settings.database_dsn),
            )
            return JSONResponse(body, status_code=503)
        assert row is not None
        body.update(database="ok", timescaledb=row[0], license=row[1], postgresql=row[2])
        if row[0] is None:
            body.update(status="degraded", error="the timescaledb extension is not installed")
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    for module in ROUTER_MODULES:
        app.include_router(importlib.import_module(module).router)
    return app

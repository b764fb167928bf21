"""Downloads of the exports (``/exports/{site}/{month}/{kind}``) and the exports page.

For the regulator and the chief operator of the site, and admins (the access matrix's
``exports.read``); anyone else gets an audited 403, a browser without a session the login
page. Every download is made fresh from the
database and written to the audit log (``export.web``) with the SHA-256 of what
was sent. The panel template ``_exports_panel.html`` takes the context that
:func:`dashboards.exports.view.panel_context` makes, so other pages (the regulator's)
can include it.

A download that cannot be made is never a download the browser cancels: it answers with
a status naming the problem (404 unknown kind or site, 422 a month that is not one or has
not begun, 409 what the site's records or file lack, 503 the database away) and the
message, as the exports page with the message for a browser, as JSON (``detail``) for
anything else.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import psycopg
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from clearwell.db import CONNECT_TIMEOUT_S
from clearwell.errors import ClearwellError
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.exports import service
from dashboards.exports.plant_day import MonthRefused, parse_month
from dashboards.exports.service import KINDS, MEDIA_TYPES
from dashboards.exports.view import panel_context
from dashboards.trends import queries
from logbook.auth.sessions import Principal

log = logging.getLogger(__name__)

router = APIRouter(tags=["exports"])
ExportUser = Annotated[Principal, Depends(page_action("exports.read"))]


async def _sites(request: Request, user: Principal) -> list[dict[str, Any]]:
    async with request.app.state.pool.connection() as conn:
        return only(await queries.sites(conn), await codes_for(conn, user, "exports.read"))


@router.get("/exports", response_class=HTMLResponse)
async def exports_page(
    request: Request,
    user: ExportUser,
    site: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> HTMLResponse:
    if site:
        async with request.app.state.pool.connection() as conn:
            await at_site(request, conn, user, "exports.read", site)
    context = panel_context(await _sites(request, user), site, month, datetime.now(UTC))
    return templates.TemplateResponse(request, "exports.html", {"user": user, **context})


def _wants_page(request: Request) -> bool:
    """A browser following a link asks for HTML first; scripts and tools do not."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept.split(",")[0]


async def _refused(
    request: Request, user: Principal, code: int, message: str, site: str, month: str
) -> Response:
    """A download that cannot be made: the exports page naming the problem, or JSON."""
    if not _wants_page(request):
        return JSONResponse({"detail": message}, status_code=code)
    try:
        sites = await _sites(request, user)
    except psycopg.Error:
        sites = []
    context = panel_context(sites, site, month, datetime.now(UTC))
    return templates.TemplateResponse(
        request,
        "exports.html",
        {"user": user, **context, "exports_problem": message},
        status_code=code,
    )


def _run_export(
    dsn: str, request: Request, code: str, month: str, kind: str, user: Principal
) -> dict[str, bytes]:
    settings = request.app.state.settings

    async def run() -> dict[str, bytes]:
        async with await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as conn:
            needs_permit = kind in service.REPORT_KINDS or kind == "bundle.zip"
            permit = service.permit_for(code, settings.data_dir) if needs_permit else None
            who = service.Exporter(user.id, user.username, user.full_name, user.role)
            return await service.export(
                conn,
                code=code,
                month_text=month,
                kinds=(kind,),
                who=who,
                permit=permit,
                data_dir=settings.data_dir,
                via="web",
            )

    # Loading, pandas and the PDF take a second or more: off the server's event loop.
    return asyncio.run(run())


@router.get("/exports/{site}/{month}/{kind}")
async def download(
    request: Request, user: ExportUser, site: str, month: str, kind: str
) -> Response:
    if kind not in KINDS:
        return await _refused(
            request,
            user,
            status.HTTP_404_NOT_FOUND,
            f"no export kind {kind!r}; have {', '.join(KINDS)}",
            site,
            month,
        )
    try:
        parse_month(month)
    except MonthRefused as exc:
        return await _refused(request, user, 422, str(exc), site, month)
    try:
        async with request.app.state.pool.connection() as conn:
            site_id = await at_site(request, conn, user, "exports.read", site)
    except psycopg.Error as exc:
        return await _refused(
            request, user, 503, f"the database is not answering: {exc}", site, month
        )
    if site_id is None:
        return await _refused(
            request, user, status.HTTP_404_NOT_FOUND, f"no site {site!r}", site, month
        )
    dsn = request.app.state.settings.database_dsn
    try:
        files = await anyio.to_thread.run_sync(_run_export, dsn, request, site, month, kind, user)
    except MonthRefused as exc:
        return await _refused(request, user, 422, str(exc), site, month)
    except ClearwellError as exc:
        return await _refused(request, user, status.HTTP_409_CONFLICT, str(exc), site, month)
    except psycopg.OperationalError as exc:
        return await _refused(
            request, user, 503, f"the database is not answering: {exc}", site, month
        )
    except Exception as exc:
        # A fault of the exports themselves: logged with its traceback, and named on the
        # page rather than left to a bare "Internal Server Error" the browser drops.
        log.exception("export %s %s %s failed", site, month, kind)
        return await _refused(
            request,
            user,
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            f"the export failed ({type(exc).__name__}: {exc}); the server's log has the details",
            site,
            month,
        )
    name, data = next(iter(files.items()))
    return Response(
        data,
        media_type=MEDIA_TYPES[KINDS[kind][1]],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

"""Downloads of the exports (``/exports/{site}/{month}/{kind}``) and the exports page.

For the regulator and the chief operator of the site, and admins (the access matrix's
``exports.read``); anyone else gets an audited 403, a browser without a session the login
page. Every download is made fresh from the
database and written to the audit log (``export.web``) with the SHA-256 of what
was sent. The panel template ``_exports_panel.html`` takes the context that
:func:`dashboards.exports.view.panel_context` makes, so other pages (the regulator's)
can include it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from clearwell.db import CONNECT_TIMEOUT_S
from clearwell.errors import ClearwellError
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.exports import service
from dashboards.exports.service import KINDS, MEDIA_TYPES
from dashboards.exports.view import panel_context
from dashboards.trends import queries
from logbook.auth.sessions import Principal

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
    context = panel_context(await _sites(request, user), site, month, datetime.now(UTC).date())
    return templates.TemplateResponse(request, "exports.html", {"user": user, **context})


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
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no export kind {kind!r}; have {', '.join(KINDS)}"
        )
    try:
        service.parse_month(month)
    except ClearwellError as exc:
        raise HTTPException(422, str(exc)) from None
    async with request.app.state.pool.connection() as conn:
        if await at_site(request, conn, user, "exports.read", site) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site!r}")
    dsn = request.app.state.settings.database_dsn
    try:
        files = await anyio.to_thread.run_sync(_run_export, dsn, request, site, month, kind, user)
    except ClearwellError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    name, data = next(iter(files.items()))
    return Response(
        data,
        media_type=MEDIA_TYPES[KINDS[kind][1]],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

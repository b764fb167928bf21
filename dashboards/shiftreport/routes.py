"""The shift report's endpoints: ``GET /api/shifts/{id}/report.pdf`` and ``.html``, for
whoever may read the shift's site's shifts (``shift.read`` in ``clearwell.access``: its
members, admins, the site's regulator). The PDF answers 401 without a session; the page
sends a browser to the login page and back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from clearwell.authorize import acting, authorize
from clearwell.params import Id
from clearwell.web import not_found
from dashboards.access import page_action
from dashboards.assets import templates
from dashboards.shiftreport import pdf, queries
from dashboards.shiftreport.view import ShiftReport, report
from logbook.auth.sessions import Principal

router = APIRouter(tags=["reports"])

Reader = Annotated[Principal, Depends(acting("shift.read"))]
PageReader = Annotated[Principal, Depends(page_action("shift.read"))]


async def _report(request: Request, shift_id: int, user: Principal) -> ShiftReport:
    async with request.app.state.pool.connection() as conn:
        shift = await queries.shift_row(conn, shift_id)
        if shift is None:
            raise not_found("shift", shift_id)
        await authorize(request, user, "shift.read", int(shift["site_id"]))
        found = await queries.load(
            conn,
            shift,
            datetime.now(UTC),
            Path(request.app.state.settings.data_dir),
            f"{user.full_name} ({user.username})",
        )
    return report(found, ZoneInfo(shift["site"]["timezone"]))


def _file_name(r: ShiftReport) -> str:
    return f"{r.facility_code}-shift-{r.shift_id}.pdf"


@router.get(
    "/api/shifts/{shift_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {}},
    name="shift_report_pdf",
)
async def shift_report_pdf(shift_id: Id, request: Request, user: Reader) -> Response:
    """The shift's printable report: crew and who held charge, every entry with its
    verification and amendments, samples, alarms and acknowledgements, handoff notes, key
    readings, signatures; times in the plant's zone."""
    found = await _report(request, shift_id, user)
    return Response(
        pdf.to_pdf(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_file_name(found)}"'},
    )


@router.get(
    "/api/shifts/{shift_id}/report.html",
    response_class=HTMLResponse,
    responses={404: {}},
    name="shift_report_html",
)
async def shift_report_html(shift_id: Id, request: Request, user: PageReader) -> HTMLResponse:
    """The shift's report as a printable page (the PDF's sections)."""
    found = await _report(request, shift_id, user)
    return templates.TemplateResponse(
        request,
        "shift_report.html",
        {
            "user": user,
            "r": found,
            "pdf_href": str(request.url_for("shift_report_pdf", shift_id=shift_id)),
        },
    )

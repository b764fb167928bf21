"""The chief operator's page: a month of DRC coverage as a picture, the findings behind it
(each with what it rests on: a regulation or the site's competency policy), each person's
competency level and what they may record unsupervised, certificates and training running
short, and the records waiting for review.

Reads only: the coverage report is the compliance engine's from live data, the expiries
are compliance's own list, and countersigning goes to the logbook's API from the page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from psycopg import AsyncConnection

from clearwell.access import decide
from compliance.adapter import NoProfile, Site, load, resolve_site
from compliance.engine import check
from compliance.report import Report
from compliance.services.expiries import expiry_report
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.chief import queries
from dashboards.chief.competency import PersonLevel, person_levels
from dashboards.chief.view import (
    day_rows,
    drc_colours,
    finding_views,
    month_period,
    parse_month,
    shift_month,
)
from dashboards.exports.plant_day import month_bounds, month_days
from dashboards.regulator import queries as regulator_queries
from dashboards.regulator.view import (
    changes_of,
    confirmation_views,
    entry_href,
    entry_summary,
    kind_label,
    pick_site,
    show_value,
)
from logbook.auth.sessions import Principal

router = APIRouter(tags=["pages"])

ChiefUser = Annotated[Principal, Depends(page_action("chief.read"))]


async def _expiries(
    conn: AsyncConnection[Any], site: Site, now: datetime
) -> tuple[list[Any], str | None]:
    """Compliance's expiry list for the facility, most urgent first (or why there is none)."""
    try:
        report = await expiry_report(conn, site, now)
    except NoProfile as exc:
        return [], str(exc)
    return list(report["items"]), None


@router.get("/chief", response_class=HTMLResponse, name="chief_page")
async def chief_page(
    request: Request,
    user: ChiefUser,
    facility: Annotated[str | None, Query(description="site code")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM (default: this month)")] = None,
) -> HTMLResponse:
    now = datetime.now(UTC)
    problems: list[str] = []
    report: Report | None = None
    names: dict[str, str] = {}
    levels: list[PersonLevel] = []
    levels_day: date | None = None
    async with request.app.state.pool.connection() as conn:
        if facility:
            await at_site(request, conn, user, "chief.read", facility)
        sites = only(await regulator_queries.sites(conn), await codes_for(conn, user, "chief.read"))
        site, problem = pick_site(sites, facility)
        if problem:
            problems.append(problem)
        if site is None:
            return templates.TemplateResponse(
                request, "chief.html", {"user": user, "site": None, "problems": problems}
            )
        tz = ZoneInfo(site["timezone"])
        today = now.astimezone(tz).date()
        try:
            year, mon = parse_month(month, today)
        except ValueError as exc:
            problems.append(f"{exc}; showing this month.")
            year, mon = today.year, today.month
        first, last = month_bounds(year, mon, tz)
        period = month_period(first, last, now)
        engine_site = await resolve_site(conn, site["code"])
        if period is not None:
            try:
                loaded = await load(conn, engine_site, *period, now)
            except NoProfile as exc:
                problems.append(
                    f"{exc}. A chief operator records the facility's class first"
                    f" (POST /api/compliance/facilities/{site['code']}/profile)."
                )
            else:
                report = check(loaded.scenario)
                names = {str(k): v for k, v in loaded.names.items()}
                assessors = {
                    int(a.assessor)
                    for op in loaded.scenario.operators
                    for a in op.assessments
                    if a.assessor is not None and a.assessor not in names
                }
                extra = await regulator_queries.names(conn, assessors)
                levels_day = (period[1] - timedelta(microseconds=1)).astimezone(tz).date()
                levels = person_levels(
                    loaded.scenario, levels_day, names | {str(k): v for k, v in extra.items()}
                )
        amendments = await queries.amendments_at(conn, site["id"], first, last)
        confirmations = await queries.confirmations_at(conn, site["id"], first, last)
        awaiting = await queries.awaiting_countersignature(conn, site["id"], user.id)
        authors = await regulator_queries.names(
            conn,
            regulator_queries.people_in(awaiting) | {int(c["confirmed_by"]) for c in confirmations},
        )
        refs = await regulator_queries.refs(conn, awaiting, authors)
        expiries, expiry_problem = await _expiries(conn, engine_site, now)
    rows = day_rows(
        month_days(year, mon),
        tz,
        report.coverage if report else (),
        report.findings if report else (),
        names,
        now,
    )
    prev_y, prev_m = shift_month(year, mon, -1)
    next_y, next_m = shift_month(year, mon, 1)
    return templates.TemplateResponse(
        request,
        "chief.html",
        {
            "user": user,
            "sites": sites,
            "site": site,
            "tz": tz,
            "problems": problems,
            "month": f"{year:04d}-{mon:02d}",
            "month_label": first.astimezone(tz).strftime("%B %Y"),
            "prev_month": f"{prev_y:04d}-{prev_m:02d}",
            "next_month": f"{next_y:04d}-{next_m:02d}",
            "report": report,
            "rows": rows,
            "colours": drc_colours(rows),
            "findings": finding_views(
                report.findings if report else (), names, tz, report.coverage if report else ()
            ),
            "violations": sum(1 for f in report.findings if f.severity == "violation")
            if report
            else 0,
            "policy_findings": sum(1 for f in report.findings if f.severity == "policy")
            if report
            else 0,
            "levels": levels,
            "levels_day": levels_day,
            "expiries": expiries,
            "expiry_problem": expiry_problem,
            "amendments": amendments,
            "confirmations": list(
                zip(confirmations, confirmation_views(confirmations, authors, tz), strict=True)
            ),
            "awaiting": awaiting,
            "authors": authors,
            "may_countersign": decide(user, "entry.countersign", site["id"]) is None,
            "entry_summary": partial(entry_summary, refs=refs),
            "changes_of": changes_of,
            "kind_label": kind_label,
            "show_value": show_value,
            "entry_href": entry_href(str(request.url_for("record_entry_page", entry_id=0))),
        },
    )

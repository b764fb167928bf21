"""The regulator's pages: a facility's logbook and lab results for a period, each record
with its amendment history (the original, then every amendment: who, when, why, what it
changed), and the place for the export downloads. Read-only: nothing here writes, and the
logbook's and compliance's APIs refuse a regulator's writes on the server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from clearwell.authorize import authorize
from clearwell.params import Id, day_problem
from clearwell.web import not_found
from compliance.adapter import site_by_id
from dashboards.access import at_site, codes_for, only, page_action
from dashboards.assets import templates
from dashboards.exports.plant_day import day_bounds
from dashboards.exports.view import panel_context
from dashboards.regulator import queries
from dashboards.regulator.view import (
    Refs,
    amendment_views,
    confirmation_views,
    entry_fields,
    entry_href,
    entry_summary,
    kind_label,
    pick_site,
    show_value,
)
from logbook import store
from logbook.auth.sessions import Principal
from logbook.search import MAX_QUERY, SearchRefused

router = APIRouter(tags=["pages"])

Reader = Annotated[Principal, Depends(page_action("records.read"))]
MAX_DAYS = 93
MAX_ENTRIES = 2000
MAX_SAMPLES = 500


def period_of(start: str | None, end: str | None, today: date) -> tuple[date, date, list[str]]:
    """Local days [first, last] from the query (default: this month so far), and what was
    wrong with it. A bad date falls back to the default; a span too long is cut."""
    problems = []
    first, last = today.replace(day=1), today
    for name, text in (("from", start), ("to", end)):
        if not text:
            continue
        try:
            value = date.fromisoformat(text)
        except ValueError:
            problems.append(f"“{name}” must be a date written YYYY-MM-DD (got “{text}”).")
            continue
        if (problem := day_problem(value)) is not None:
            problems.append(f"“{name}” {problem} (got “{text}”).")
            continue
        if name == "from":
            first = value
        else:
            last = value
    if last < first:
        problems.append("“to” is before “from”; showing the one day “from”.")
        last = first
    if (last - first).days + 1 > MAX_DAYS:
        last = first + timedelta(days=MAX_DAYS - 1)
        problems.append(f"At most {MAX_DAYS} days at a time; showing up to {last.isoformat()}.")
    return first, last, problems


def _helpers(request: Request, tz: ZoneInfo, refs: Refs) -> dict[str, Any]:
    return {
        "entry_href": entry_href(str(request.url_for("record_entry_page", entry_id=0))),
        "tz": tz,
        "refs": refs,
        "entry_summary": partial(entry_summary, refs=refs),
        "entry_fields": partial(entry_fields, refs=refs, tz=tz),
        "kind_label": kind_label,
        "show_value": show_value,
        "amendment_views": amendment_views,
        "confirmation_views": confirmation_views,
    }


@router.get("/regulator", response_class=HTMLResponse, name="regulator_page")
async def regulator_page(
    request: Request,
    user: Reader,
    facility: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[str | None, Query(alias="from", description="first local day")] = None,
    end: Annotated[str | None, Query(alias="to", description="last local day")] = None,
    q: Annotated[str | None, Query(description="words to search the log for")] = None,
) -> HTMLResponse:
    now = datetime.now(UTC)
    async with request.app.state.pool.connection() as conn:
        if facility:
            await at_site(request, conn, user, "records.read", facility)
        sites = only(await queries.sites(conn), await codes_for(conn, user, "records.read"))
        site, problem = pick_site(sites, facility)
        problems = [problem] if problem else []
        if site is None:
            return templates.TemplateResponse(
                request, "regulator.html", {"user": user, "site": None, "problems": problems}
            )
        tz = ZoneInfo(site["timezone"])
        first, last, bad = period_of(start, end, now.astimezone(tz).date())
        problems += bad
        p0, p1 = day_bounds(first, tz)[0], day_bounds(last, tz)[1]
        searched = None
        if q:
            try:
                entries = await queries.entries_matching(
                    conn, site["id"], q, p0, p1, MAX_ENTRIES + 1
                )
                searched = q.strip()
            except SearchRefused as exc:
                problems.append(f"Search: {exc}.")
        if searched is None:
            entries = await queries.entries_in(conn, site["id"], p0, p1, MAX_ENTRIES + 1)
        samples = await queries.samples_in(conn, site["id"], p0, p1, MAX_SAMPLES + 1)
        names = await queries.names(conn, queries.people_in(entries) | queries.people_in(samples))
        refs = await queries.refs(conn, entries, names)
    this_month = now.astimezone(tz).date().replace(day=1)
    month = None if first >= this_month else first.strftime("%Y-%m")
    if len(entries) > MAX_ENTRIES:
        entries = entries[:MAX_ENTRIES]
        problems.append(f"Showing the first {MAX_ENTRIES} entries; choose a shorter period.")
    if len(samples) > MAX_SAMPLES:
        samples = samples[:MAX_SAMPLES]
        problems.append(f"Showing the first {MAX_SAMPLES} samples; choose a shorter period.")
    return templates.TemplateResponse(
        request,
        "regulator.html",
        {
            "user": user,
            "sites": sites,
            "site": site,
            "problems": problems,
            "first": first,
            "last": last,
            "entries": entries,
            "searched": searched,
            "q": q or "",
            "max_query": MAX_QUERY,
            "samples": samples,
            "names": names,
            "amended_entries": sum(1 for e in entries if e["amended"]),
            **_helpers(request, tz, refs),
            **panel_context(sites, site["code"], month, now),
        },
    )


@router.get("/records/entries/{entry_id}", response_class=HTMLResponse, name="record_entry_page")
async def record_entry_page(request: Request, user: Reader, entry_id: Id) -> HTMLResponse:
    """One entry: its values now, as first recorded, and every amendment in between."""
    async with request.app.state.pool.connection() as conn:
        entry = await store.entry(conn, entry_id)
        if entry is None:
            raise not_found("entry", entry_id)
        await authorize(request, user, "records.read", entry["site_id"], None, "entry", entry_id)
        site = await site_by_id(conn, entry["site_id"])
        names = await queries.names(conn, queries.people_in([entry]))
        refs = await queries.refs(conn, [entry], names)
    return templates.TemplateResponse(
        request,
        "regulator_entry.html",
        {
            "user": user,
            "site": site,
            "e": entry,
            "names": names,
            **_helpers(request, ZoneInfo(site.timezone), refs),
        },
    )

"""The floor terminal: ``/floor/{site}`` and the partials its page refreshes with htmx.

The page reads. What a person records goes from the page's script straight to the
logbook's API (``/api/entries``, ``/api/shifts``, ``/api/samples``, ``/api/amendments``…),
which checks roles, validates, attributes and audits; entries carry an idempotency key
so a resend from the terminal's offline queue never makes a second record. One write is
the terminal's own: a verification (``POST /floor/{site}/verify``), made by a qualified
crew member who proves who they are with their PIN or password at this terminal, in
someone else's session, after compliance says they may verify (the site's competency
policy) and under the logbook's rules for a countersignature. Every route asks the access
matrix at its site: the terminal's person ``floor.read`` (``floor.verify`` to host a
verification), the verifier ``entry.countersign``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, model_validator

from clearwell.access import decide, sites_for
from clearwell.authorize import acting, authorize
from clearwell.errors import ConfigError
from clearwell.http_guard import client_address, cookie_secure
from clearwell.jsontext import dumps
from clearwell.params import Id
from clearwell.web import json_response, transaction
from compliance import adapter
from compliance.services.coverage import FloorFacts, floor_body, floor_facts
from compliance.services.verification import ToVerify, verification_problems
from dashboards.access import page_action
from dashboards.assets import templates
from dashboards.floor import queries as fq
from dashboards.floor.coverage import CoverageView, charge_roles, coverage_view
from dashboards.floor.forms import ACTIONS, FORMS, KIND_LABELS, with_ranges
from dashboards.floor.shiftlog import log_rows, people_in
from dashboards.floor.view import (
    Alarm,
    Latest,
    Tile,
    group_by_area,
    is_on_off,
    label_of,
    order_alarms,
    source_of,
    sparkline,
    tile_for,
)
from dashboards.floor.words import ROLE_WORDS, entry_lines, summary
from dashboards.login import TERMINAL_COOKIE
from dashboards.trends import queries
from dashboards.trends.quality import gap_after_s, is_good
from ingest import heartbeat
from logbook import store
from logbook.auth.sessions import Principal, confirm_identity
from logbook.write.crew import CHARGE_ROLES
from logbook.write.plausibility import site_ranges
from logbook.write.signatures import countersign
from sitefile.ranges import NO_RANGES, SiteRanges

log = logging.getLogger(__name__)

SPARK_WINDOW = timedelta(hours=2)
# Sparkline buckets: 24 points across a tile (more would not show, and cost 5x the time).
SPARK_STEP_S = 300

router = APIRouter(tags=["floor"])
FloorPage = Annotated[Principal, Depends(page_action("floor.read"))]
# Partials answer 401 rather than redirect: htmx would swap the login page into a tile.
FloorPart = Annotated[Principal, Depends(acting("floor.read"))]
NO_STORE = {"Cache-Control": "no-store"}
# What the verify route says when the verifier is not who they say: a 403, not a 401,
# since the terminal's own session is fine.
IDENTITY_REFUSED = {
    "bad_credentials": (status.HTTP_403_FORBIDDEN, "Wrong user name, PIN or password."),
    "disabled": (status.HTTP_403_FORBIDDEN, "Wrong user name, PIN or password."),
    "rate_limited": (
        status.HTTP_429_TOO_MANY_REQUESTS,
        "Too many failed attempts for this person: wait {wait} and try again.",
    ),
    "pin_not_allowed": (status.HTTP_403_FORBIDDEN, "PINs are not allowed at this site."),
    "not_member": (status.HTTP_403_FORBIDDEN, "Not one of this site's people."),
}


async def _site(
    request: Request, conn: fq.Conn, code: str, user: Principal, action: str = "floor.read"
) -> dict[str, Any]:
    """The site of a floor path, once the matrix lets ``user`` take ``action`` there."""
    found = await fq.site(conn, code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {code!r}")
    await authorize(request, user, action, found["id"])
    return found


@router.get("/floor", response_class=RedirectResponse, status_code=status.HTTP_303_SEE_OTHER)
async def floor_home(request: Request, user: FloorPage) -> RedirectResponse:
    """The terminal of the site a PIN session was opened at, else the person's first."""
    allowed = sites_for(user, "floor.read")
    async with request.app.state.pool.connection() as conn:
        code = await fq.site_code_by_id(conn, user.site_id) if user.site_id else None
        code = code or await fq.first_site_code(conn, None if allowed is None else sorted(allowed))
    if code is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no site is set up for you yet")
    return RedirectResponse(f"/floor/{code}", status.HTTP_303_SEE_OTHER)


async def _tiles(conn: fq.Conn, site: dict[str, Any], alarms: list[Alarm]) -> list[Tile]:
    now, rows = await queries.latest_readings(conn, site["code"])
    zone = ZoneInfo(site["timezone"])
    since = now - SPARK_WINDOW
    buckets = await fq.spark_points(conn, [r["id"] for r in rows], since, SPARK_STEP_S)
    sources = await fq.sources(conn, site["code"])
    addresses = await fq.tag_addresses(conn, [r["id"] for r in rows])
    by_tag: dict[int, list[int]] = {}
    for a in alarms:
        if a.tag_id is not None:
            by_tag.setdefault(a.tag_id, []).append(a.id)
    tiles = []
    for r in rows:
        points: list[tuple[float, float | None]] = list(buckets.get(r["id"], []))
        if r["time"] is not None and r["value"] is not None and is_good(r["status"]):
            points.append((r["time"].timestamp(), r["value"]))
        interval = float(r["expected_interval_s"])
        address = addresses.get(r["id"], "")
        source = sources.get(source_of(r["source_protocol"], address) or "")
        latest = Latest(
            tag_id=r["id"],
            name=r["name"],
            description=r["description"],
            unit=r["unit"],
            expected_interval_s=interval,
            value=r["value"],
            status=r["status"],
            age_s=(now - r["time"]).total_seconds() if r["time"] else None,
            time_text=r["time"].astimezone(zone).strftime("%H:%M") if r["time"] else "",
            limits=(r["limit_lo_lo"], r["limit_lo"], r["limit_hi"], r["limit_hi_hi"]),
            source_silent_s=float(source["silent_s"]) if source else None,
            on_off=is_on_off(address, r["unit"], r["eng_low"], r["eng_high"]),
        )
        spark = sparkline(
            points,
            since.timestamp(),
            now.timestamp(),
            gap_s=max(gap_after_s(interval), 2.0 * SPARK_STEP_S),
        )
        tiles.append(tile_for(latest, spark, by_tag.get(r["id"], ())))
    return tiles


async def _alarms(conn: fq.Conn, site: dict[str, Any]) -> list[Alarm]:
    """The site's alarms, after raising or clearing its "data collection stopped" ones: no
    collector is left to raise that alarm when the collectors stop (ingest.heartbeat)."""
    await heartbeat.watch(conn, site["id"], site["code"], ZoneInfo(site["timezone"]))
    return order_alarms(Alarm(**r) for r in await fq.alarms(conn, site["id"]))


def _crew_roles(crew: list[dict[str, Any]]) -> dict[int, str]:
    return {c["person_id"]: c["shift_role"] for c in crew if c["left_at"] is None}


async def _coverage_facts(conn: fq.Conn, site_id: int) -> FloorFacts | None:
    """The facts of the engine's answer for now; None where the site has no profile."""
    try:
        site = await adapter.site_by_id(conn, site_id)
        return await floor_facts(conn, site, datetime.now(UTC))
    except adapter.NoProfile:
        return None


def _coverage(
    facts: FloorFacts | None, shifts: dict[int, str], roles: dict[int, str]
) -> CoverageView:
    # Judged after the connection is back in the pool: nothing waits on the engine.
    body = floor_body(facts, datetime.now(UTC)) if facts is not None else None
    return coverage_view(body, shifts, roles)


async def _shift(conn: fq.Conn, site: dict[str, Any], user: Principal) -> dict[str, Any]:
    """The shift panel's facts: the open shift and its crew, the handoff waiting, the
    shifts waiting to be signed, the shift's entries, and the engine's facts."""
    shift = await fq.current_shift(conn, site["id"])
    handoff = await fq.pending_handoff(conn, site["id"], shift["opened_at"] if shift else None)
    awaiting, awaiting_all = await fq.awaiting_signature(conn, site["id"])
    count, unverified, latest = await fq.shift_tally(conn, shift["id"]) if shift else (0, 0, None)
    names = await _names(conn, site, [latest]) if latest else {}
    crew = shift["crew"] if shift else []
    here = [c for c in crew if c["left_at"] is None]
    in_charge = any(c["person_id"] == user.id and c["shift_role"] in CHARGE_ROLES for c in here)
    closer = await fq.people_names(conn, [a["closed_by"] for a in awaiting if a["closed_by"]])
    return {
        "shift": shift,
        "crew_here": here,
        "crew_left": [c for c in crew if c["left_at"] is not None],
        "on_crew": any(c["person_id"] == user.id for c in here),
        "handoff": handoff,
        "can_ack": bool(shift and in_charge and handoff),
        "awaiting": awaiting,
        "awaiting_more": awaiting_all - len(awaiting),
        "closed_by": closer,
        "entry_count": count,
        "unverified": unverified,
        "latest": latest,
        "latest_words": summary(entry_lines(latest["kind"], latest["data"], names))
        if latest
        else "",
        "facts": await _coverage_facts(conn, site["id"]),
    }


async def _ranges(request: Request, code: str) -> SiteRanges:
    """The site's ranges for the forms; none while its file is not valid (the API then
    refuses the numbers it would judge, and says why)."""
    try:
        return await site_ranges(Path(request.app.state.settings.data_dir), code)
    except ConfigError as exc:
        log.warning("floor %s: the forms go without ranges: %s", code, exc)
        return NO_RANGES


def _shift_context(shift: dict[str, Any]) -> dict[str, Any]:
    """The shift panel's context, the coverage judged (after the connection is back)."""
    facts = shift.pop("facts")
    shift["charge_roles"] = (
        charge_roles(
            facts.loaded.profile.rules, datetime.now(ZoneInfo(facts.loaded.site.timezone)).date()
        )
        if facts is not None
        else ()
    )
    labels = {a["id"]: a["label"] for a in shift["awaiting"]}
    if shift["shift"]:
        labels[shift["shift"]["id"]] = shift["shift"]["label"]
    roles = _crew_roles(shift["shift"]["crew"]) if shift["shift"] else {}
    return {**shift, "coverage": _coverage(facts, labels, roles)}


def _context(user: Principal, site: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": user,
        "site": site,
        "zone": ZoneInfo(site["timezone"]),
        "kind_labels": KIND_LABELS,
        "role_words": ROLE_WORDS,
        "actions": ACTIONS,
        "can_open": decide(user, "shift.open", site["id"]) is None,
        "can_designate": decide(user, "crew.designate_drc", site["id"]) is None,
    }


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, headers=NO_STORE)


def _tag_names(tiles: list[Tile]) -> dict[int, str]:
    return {t.tag_id: t.label for t in tiles}


@router.get("/floor/{site}", response_class=HTMLResponse)
async def floor_page(request: Request, site: str, user: FloorPage) -> HTMLResponse:
    started = time.perf_counter()
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        alarms = await _alarms(conn, found)
        tiles = await _tiles(conn, found, alarms)
        shift = await _shift(conn, found, user)
        people = await fq.crew_candidates(conn)
        last = await fq.last_values(conn, found["id"])
        samples = await fq.recent_samples(conn, found["id"])
        pins = await fq.pin_allowed(conn, found["id"])
    context = _shift_context(shift)
    data = {
        "site": found["code"],
        "user": {"id": user.id, "name": user.full_name, "role": user.role},
        # Seconds without a touch before the terminal locks (CLEARWELL_FLOOR_LOCK_AFTER_S).
        "lock_after_s": request.app.state.settings.floor_lock_after_s,
        # The site's current tags: the tiles are one per tag, in that order.
        "tags": [
            {
                "id": t.tag_id,
                "name": t.name,
                "label": t.label,
                "unit": t.raw_unit,
                "unit_text": t.unit,
            }
            for t in tiles
        ],
        "people": people,
        # The record forms, from the logbook's definitions of each kind, with the ranges
        # the site file sets for their numbers.
        "forms": with_ranges(
            FORMS, await _ranges(request, found["code"]), {t.name: t.tag_id for t in tiles}
        ),
        "last_values": last,
        "samples": [
            {"id": s["id"], "label": f"{s['sample_point']} ({s['sample_type']})"} for s in samples
        ],
        "charge_roles": [[r, ROLE_WORDS.get(r, r)] for r in context["charge_roles"]],
        "pin_allowed": pins,
    }
    response = _render(
        request,
        "floor.html",
        {
            **_context(user, found),
            **context,
            "areas": group_by_area(tiles),
            "alarms": alarms,
            "people": people,
            # Inside a <script> element: no "<" may close it early.
            "floor_data": dumps(data).replace("<", "\\u003c"),
        },
    )
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    # This browser is the site's floor terminal: its login asks for a PIN first.
    response.set_cookie(
        TERMINAL_COOKIE,
        found["code"],
        max_age=365 * 86400,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )
    return response


@router.get("/floor/{site}/tiles", response_class=HTMLResponse)
async def floor_tiles(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    """The tiles, and the alarm bar with them as an htmx out-of-band swap: the tiles need
    the alarms anyway, so the terminal's one poll refreshes both."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        alarms = await _alarms(conn, found)
        tiles = await _tiles(conn, found, alarms)
    return _render(
        request,
        "_floor_tiles.html",
        {
            **_context(user, found),
            "areas": group_by_area(tiles),
            "alarms": alarms,
            "alarms_oob": True,
        },
    )


@router.get("/floor/{site}/alarms", response_class=HTMLResponse)
async def floor_alarms(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    """The alarm bar alone (the page gets it with the tiles; kept for tools and tests)."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        alarms = await _alarms(conn, found)
    return _render(request, "_floor_alarms.html", {**_context(user, found), "alarms": alarms})


@router.get("/floor/{site}/shift", response_class=HTMLResponse)
async def floor_shift(request: Request, site: str, user: FloorPart) -> HTMLResponse:
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        shift = await _shift(conn, found, user)
        people = await fq.crew_candidates(conn)
    return _render(
        request,
        "_floor_shift.html",
        {**_context(user, found), **_shift_context(shift), "people": people},
    )


async def _chosen_shift(
    conn: fq.Conn, site: dict[str, Any], shift_id: int | None
) -> dict[str, Any] | None:
    """The shift asked for (one of the site's), else the open one."""
    if shift_id is not None:
        return await fq.site_shift(conn, site["id"], shift_id)
    return await fq.current_shift(conn, site["id"])


async def _names(
    conn: fq.Conn, site: dict[str, Any], entries: list[dict[str, Any]]
) -> dict[str, dict[Any, str]]:
    """The names of what entries point at: tags as on their tiles, alarms by message."""
    wanted = any(e["data"].get("tag_id") is not None for e in entries)
    tags = await fq.tag_names(conn, site["id"]) if wanted else {}
    events = [int(e["event_id"]) for e in entries if e.get("event_id")]
    return {
        "tags": {i: label_of(name, description) for i, (name, description) in tags.items()},
        "alarms": dict(await fq.alarm_messages(conn, events)),
    }


async def _log_facts(
    conn: fq.Conn, site: dict[str, Any], shift: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[int, str], dict[str, dict[Any, str]]]:
    """A shift's entries, the people they name and the names of what they point at."""
    entries = await fq.shift_entries(conn, shift["id"]) if shift else []
    people = await fq.people_names(conn, sorted(people_in(entries)))
    return entries, people, await _names(conn, site, entries)


ShiftParam = Annotated[Id | None, Query(description="a shift of the site; default: the open one")]


@router.get("/floor/{site}/log", response_class=HTMLResponse)
async def floor_log(
    request: Request, site: str, user: FloorPart, shift: ShiftParam = None
) -> HTMLResponse:
    """The shift log: the shift's entries newest first, who and when, what waits for
    verification, and each one's amendments."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        chosen = await _chosen_shift(conn, found, shift)
        entries, people, names = await _log_facts(conn, found, chosen)
    zone = ZoneInfo(found["timezone"])
    rows = log_rows(entries, people, names, zone, datetime.now(zone))
    return _render(
        request,
        "_floor_log.html",
        {
            **_context(user, found),
            "shift": chosen,
            "rows": rows,
            "unverified": [r for r in rows if r.awaiting],
            "entries_json": dumps({r.id: {"kind": r.kind, "data": r.data} for r in rows}),
        },
    )


@router.get("/floor/{site}/review", response_class=HTMLResponse)
async def floor_review(
    request: Request, site: str, user: FloorPart, shift: ShiftParam = None
) -> HTMLResponse:
    """A shift's entries and samples, to read before closing and signing: what still
    waits for verification first, and who may sign."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        chosen = await _chosen_shift(conn, found, shift)
        entries, people, names = await _log_facts(conn, found, chosen)
        samples = await fq.shift_samples(conn, chosen["id"]) if chosen else []
        note = await fq.own_handoff(conn, chosen["id"]) if chosen else None
    zone = ZoneInfo(found["timezone"])
    rows = log_rows(entries, people, names, zone, datetime.now(zone))
    crew = chosen["crew"] if chosen else []
    signers = [c for c in crew if c["shift_role"] != "trainee"]
    return _render(
        request,
        "_floor_review.html",
        {
            **_context(user, found),
            "shift": chosen,
            "rows": rows,
            "unverified": [r for r in rows if r.awaiting],
            "samples": samples,
            "own_note": note,
            "signers": list(dict.fromkeys(c["full_name"] for c in signers)),
            "may_sign": any(c["person_id"] == user.id for c in signers)
            and decide(user, "shift.sign", found["id"]) is None,
        },
    )


@router.get("/floor/{site}/verify", response_class=HTMLResponse)
async def floor_verify_form(
    request: Request,
    site: str,
    user: FloorPart,
    shift: ShiftParam = None,
    entry: Annotated[Id | None, Query(description="the entry to verify; default: all")] = None,
) -> HTMLResponse:
    """The verification form: the shift's entries waiting for it, and who of its crew
    verifies them with their own PIN or password."""
    async with request.app.state.pool.connection() as conn:
        found = await _site(request, conn, site, user)
        chosen = await _chosen_shift(conn, found, shift)
        entries, people, names = await _log_facts(conn, found, chosen)
        pins = await fq.pin_allowed(conn, found["id"])
    zone = ZoneInfo(found["timezone"])
    rows = [r for r in log_rows(entries, people, names, zone, datetime.now(zone)) if r.awaiting]
    crew = chosen["crew"] if chosen else []
    # On an open shift, who is on site; once it is closed, anyone who worked it.
    verifiers = {
        c["username"]: c["full_name"]
        for c in crew
        if c["shift_role"] != "trainee" and (chosen and chosen["closed_at"] or not c["left_at"])
    }
    return _render(
        request,
        "_floor_verify.html",
        {
            **_context(user, found),
            "shift": chosen,
            "rows": rows,
            "chosen": entry,
            "verifiers": verifiers,
            "me_verifier": user.username if user.username in verifiers else "",
            "pin_allowed": pins,
        },
    )


class VerifyIn(BaseModel):
    entry_ids: list[Id] = Field(min_length=1, max_length=200)
    username: Annotated[str, Field(min_length=1, max_length=63)]
    pin: Annotated[str | None, Field(min_length=1, max_length=16)] = None
    password: Annotated[str | None, Field(min_length=1, max_length=1024)] = None

    @model_validator(mode="after")
    def _one_secret(self) -> VerifyIn:
        if (self.pin is None) == (self.password is None):
            raise ValueError("give a pin or a password")
        return self


@router.post("/floor/{site}/verify", responses={403: {}, 409: {}, 429: {}})
async def floor_verify(
    request: Request,
    site: str,
    body: VerifyIn,
    user: Annotated[Principal, Depends(acting("floor.verify"))],
) -> Response:
    """A crew member verifies trainee entries at this terminal: they prove who they are
    with their PIN (where the site allows it) or password, compliance says whether they
    may verify each entry now, and the logbook records each verification as theirs (as the
    access matrix lets them countersign at this site)."""
    method, secret = ("pin", body.pin) if body.pin is not None else ("password", body.password)
    assert secret is not None
    async with transaction(request, user) as conn:
        found = await _site(request, conn, site, user, "floor.verify")
        allowed = await fq.pin_allowed(conn, found["id"])
        confirmed = await confirm_identity(
            conn,
            body.username.strip().lower(),
            secret,
            method,
            client_address(request),
            found["id"],
            allowed,
        )
    if confirmed.outcome != "ok" or confirmed.principal is None:
        code, message = IDENTITY_REFUSED[confirmed.outcome]
        wait = confirmed.retry_after_s
        headers = {"Retry-After": str(wait)} if code == 429 else None
        told = f"{-(-wait // 60)} min" if wait >= 60 else f"{wait} s"
        raise HTTPException(code, message.format(wait=told), headers=headers)
    verifier = confirmed.principal
    now = datetime.now(UTC)
    async with transaction(request, verifier) as conn:
        entries = []
        for entry_id in dict.fromkeys(body.entry_ids):
            entry = await store.entry(conn, entry_id)
            if entry is None or entry["site_id"] != found["id"]:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entry {entry_id} here")
            entries.append(entry)
        try:
            problems = await verification_problems(
                conn,
                found["id"],
                [ToVerify(e["id"], e["kind"], e["occurred_at"], e["recorded_by"]) for e in entries],
                verifier.id,
                now,
            )
        except adapter.NoProfile:
            # No rule set to judge by: the logbook's rules alone apply.
            problems = {}
        refused = [
            {"id": e["id"], "why": f"{verifier.full_name} {problems[e['id']]}"}
            for e in entries
            if problems.get(e["id"])
        ]
        if refused:
            return json_response(
                {
                    "detail": "Not verified: "
                    + "; ".join(f"entry {r['id']}: {r['why']}" for r in refused),
                    "refused": refused,
                },
                status.HTTP_409_CONFLICT,
            )
        for entry in entries:
            state = await store.shift_state(conn, entry["shift_id"], "share")
            assert state is not None
            await countersign(conn, verifier, entry, state)
    return json_response(
        {"verified": [e["id"] for e in entries], "by": verifier.full_name}, status.HTTP_201_CREATED
    )

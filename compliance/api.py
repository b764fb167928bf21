"""The compliance API: coverage reports from live data, who is covering now, certificates,
training, expiries and facility profiles. Records are appended, never edited; every write
is in the audit chain.

Who may do what: chief operators and admins write; chief operators, admins and regulators
(``Auditor``) read reports and everyone's records; anyone logged in sees the floor view
(``/now``), a facility's profile and their own certificates and training.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from psycopg.types.json import Jsonb
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clearwell.web import Denied, invalid, not_found, transaction
from compliance import rulesets as R
from compliance.adapter import (
    NoProfile,
    ProfileVersion,
    Site,
    UnknownFacility,
    facility_from,
    load,
    operators_from,
    people_records,
    profile_versions,
    profiles_in_force,
    resolve_site,
    version_at,
)
from compliance.engine import check
from compliance.grades import Grade, GradeError, ny_reclassify, parse_grade
from compliance.jsonpath import ScenarioError
from compliance.model import Period, Scenario
from compliance.rulesets import RULE_SETS, RuleSet
from compliance.scenario import classify_item
from logbook import audit
from logbook.auth.deps import Auditor, CurrentUser, Supervisor
from logbook.auth.sessions import Principal

router = APIRouter(prefix="/api/compliance", tags=["compliance"])

AUDITOR_ROLES = ("chief_operator", "admin", "regulator")
# A coverage report longer than this is refused: a year and a bit covers an annual review.
MAX_PERIOD = timedelta(days=400)
# The floor view looks back this far when no shift is open.
FLOOR_LOOKBACK = timedelta(hours=12)
# Whose records the expiry list covers: crew of the facility's shifts this recently.
EXPIRY_CREW_SINCE = timedelta(days=400)

State = Literal["UT", "VT", "NY"]
CategoryName = Literal["treatment", "collection", "small_lagoon"]
KindName = Literal["full", "restricted", "provisional", "grandfather"]
FacilityQuery = Annotated[str, Query(min_length=1, max_length=63, description="site code or id")]


# --- JSON ------------------------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json(body: Any, status_code: int = 200) -> Response:
    text = json.dumps(body, default=_default, separators=(",", ":"), ensure_ascii=False)
    return Response(text.encode(), status_code=status_code, media_type="application/json")


def _latest(state: str) -> RuleSet:
    return max(RULE_SETS[state], key=lambda v: v.effective_from or date.min)


async def _site(conn: psycopg.AsyncConnection[Any], facility: str, where: str = "query") -> Site:
    try:
        return await resolve_site(conn, facility)
    except UnknownFacility as exc:
        if where == "path":
            raise not_found("facility", facility) from None
        raise invalid("facility", str(exc), where=where) from None


def _no_profile(exc: NoProfile) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end <= start:
        raise invalid("end", "must be after start", where="query")
    if end - start > MAX_PERIOD:
        raise invalid("end", f"the period may be at most {MAX_PERIOD.days} days", where="query")
    return start.astimezone(UTC), end.astimezone(UTC)


def _people(names: dict[int, str], ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"person_id": int(i), "name": names.get(int(i))} for i in ids]


# --- coverage ------------------------------------------------------------------------------


@router.get("/coverage", responses={409: {"description": "the facility has no profile"}})
async def coverage(
    user: Auditor,
    request: Request,
    facility: FacilityQuery,
    start: Annotated[AwareDatetime, Query(description="period start, with UTC offset")],
    end: Annotated[AwareDatetime, Query(description="period end (exclusive)")],
    entries: Annotated[bool, Query(description="include the per-entry stamps")] = False,
) -> Response:
    """The engine's report for a facility and period, from the logbook as it is now.

    Times in the report are in the facility's local time; people are ``people.id`` as
    strings, named in ``people``.
    """
    p0, p1 = _period(start, end)
    now = datetime.now(UTC)
    async with transaction(request, user) as conn:
        site = await _site(conn, facility)
        try:
            loaded = await load(conn, site, p0, p1, now)
        except NoProfile as exc:
            raise _no_profile(exc) from None
    report = check(loaded.scenario)
    body = report.to_dict(entries=entries)
    if not entries:
        body.pop("entries")
    body["site"] = {"id": site.id, "code": site.code}
    body["people"] = {str(k): v for k, v in sorted(loaded.names.items())}
    return _json(body)


@router.get("/now", responses={409: {"description": "the facility has no profile"}})
async def now_view(user: CurrentUser, request: Request, facility: FacilityQuery) -> Response:
    """For the floor terminal: who is in DRC and which certified operators are on site now,
    and the findings open on the current shift."""
    now = datetime.now(UTC)
    async with transaction(request, user) as conn:
        site = await _site(conn, facility)
        cur = await conn.execute(
            "SELECT min(s.opened_at) FROM shifts s"
            " WHERE s.site_id = %s AND s.opened_at <= %s AND s.opened_at > %s"
            " AND NOT EXISTS (SELECT 1 FROM shift_closures c WHERE c.shift_id = s.id)",
            (site.id, now, now - timedelta(days=2)),
        )
        row = await cur.fetchone()
        start = row[0] if row and row[0] else now - FLOOR_LOOKBACK
        end = now + timedelta(microseconds=1)
        try:
            # Open shifts run to the end of the instant looked at.
            loaded = await load(conn, site, start, end, end, with_training=False)
        except NoProfile as exc:
            raise _no_profile(exc) from None
    report = check(loaded.scenario)
    last = report.coverage[-1]
    names = dict(loaded.names)
    open_findings = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "start": f.start.astimezone(UTC).isoformat(),
            "end": f.end.astimezone(UTC).isoformat(),
            "ongoing": f.end >= end,
            "operators": _people(names, f.operators),
            "entries": [int(e) for e in f.entries],
            "message": f.message,
            "citation": f.citation,
        }
        for f in report.findings
        if f.severity == "violation"
    ]
    ongoing = {f["rule"] for f in open_findings if f["ongoing"]}
    return _json(
        {
            "site": {"id": site.id, "code": site.code, "name": site.name},
            "at": now,
            "since": start,
            "rules": report.rules,
            "facility_class": report.class_spans[-1].facility_class,
            "required": report.class_spans[-1].required,
            "shifts_open": [int(s) for s in last.shifts],
            "drc": _people(names, last.drc),
            "on_site": _people(names, last.on_site),
            "certified_on_site": _people(names, last.certified_on_site),
            # "Is coverage in order right now": someone qualified in DRC, on site.
            "in_order": bool(last.shifts)
            and not ongoing & {R.DRC_MISSING, R.DRC_UNQUALIFIED}
            and bool(last.certified_on_site),
            "findings": open_findings,
        }
    )


# --- certificates --------------------------------------------------------------------------


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int
    state: State = Field(description="issuing state")
    category: CategoryName
    grade: Annotated[str, Field(max_length=20)] | int | None = Field(
        None, description="III, 3 or 3A (NY activated-sludge series)"
    )
    legacy_grade: Annotated[str, Field(max_length=10)] | None = Field(
        None, description="NY 650.12 Table 4 old name (IA, IIB...), instead of grade"
    )
    number: Annotated[str, Field(max_length=60)] = ""
    kind: KindName = "full"
    facility: Annotated[str, Field(max_length=63)] | None = Field(
        None, description="grandfather certificates: the one facility (site code or id)"
    )
    issued: date
    expires: date = Field(description="the last day in effect")
    supersedes: int | None = Field(None, description="the certificate row this one corrects")


def _grade(body: CertificateIn) -> tuple[Grade, str | None]:
    rules = _latest(body.state)
    if body.legacy_grade is not None:
        if body.grade is not None:
            raise invalid("legacy_grade", "give grade or legacy_grade, not both")
        if body.state != "NY":
            raise invalid("legacy_grade", "old certificate names are New York's (Table 4)")
        try:
            return ny_reclassify(body.legacy_grade), body.legacy_grade.strip().upper()
        except GradeError as exc:
            raise invalid("legacy_grade", str(exc)) from None
    if body.grade is None:
        raise invalid("grade", "is required")
    try:
        grade = parse_grade(body.grade)
    except GradeError as exc:
        raise invalid("grade", str(exc)) from None
    if grade.level > rules.max_level:
        raise invalid("grade", f"{body.state} grades go up to {rules.show(Grade(rules.max_level))}")
    if grade.activated_sludge and not rules.activated_sludge_series:
        raise invalid("grade", f"the A series is New York's; {body.state} has no grade {grade}")
    return grade, None


async def _person(conn: psycopg.AsyncConnection[Any], person_id: int, field: str) -> str:
    cur = await conn.execute("SELECT full_name FROM people WHERE id = %s", (person_id,))
    row = await cur.fetchone()
    if row is None:
        raise invalid(field, f"no person with id {person_id}")
    return str(row[0])


async def _check_supersedes(
    conn: psycopg.AsyncConnection[Any], table: str, ident: int, person_id: int
) -> None:
    queries = {
        "certificate": (
            "SELECT c.person_id, EXISTS (SELECT 1 FROM operator_certificates n"
            " WHERE n.supersedes = c.id), EXISTS (SELECT 1 FROM operator_certificate_retractions"
            " r WHERE r.certificate_id = c.id) FROM operator_certificates c WHERE c.id = %s"
        ),
        "training": (
            "SELECT t.person_id, EXISTS (SELECT 1 FROM operator_training n"
            " WHERE n.supersedes = t.id), EXISTS (SELECT 1 FROM operator_training_retractions"
            " r WHERE r.training_id = t.id) FROM operator_training t WHERE t.id = %s"
        ),
    }
    cur = await conn.execute(queries[table], (ident,))
    row = await cur.fetchone()
    if row is None:
        raise invalid("supersedes", f"no {table} record {ident}")
    if row[0] != person_id:
        raise invalid("supersedes", f"{table} record {ident} is another person's")
    if row[1] or row[2]:
        raise invalid("supersedes", f"{table} record {ident} is already superseded or retracted")


_CERT_COLUMNS = (
    "c.id, c.person_id, p.full_name, c.state, c.category, c.grade, c.legacy_grade, c.number,"
    " c.kind, c.facility_id, f.code, c.issued, c.expires, c.supersedes, c.recorded_by,"
    " c.recorded_at, r.reason, r.retracted_at,"
    " EXISTS (SELECT 1 FROM operator_certificates n WHERE n.supersedes = c.id)"
)
_CERT_KEYS = (
    "id",
    "person_id",
    "name",
    "state",
    "category",
    "grade",
    "legacy_grade",
    "number",
    "kind",
    "facility_id",
    "facility",
    "issued",
    "expires",
    "supersedes",
    "recorded_by",
    "recorded_at",
    "retraction_reason",
    "retracted_at",
    "superseded",
)
_CERT_FROM = (
    " FROM operator_certificates c JOIN people p ON p.id = c.person_id"
    " LEFT JOIN sites f ON f.id = c.facility_id"
    " LEFT JOIN operator_certificate_retractions r ON r.certificate_id = c.id"
)


def _cert_row(r: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_CERT_KEYS, r, strict=True))
    out["in_force"] = not out["superseded"] and out["retracted_at"] is None
    return out


async def _certificate(conn: psycopg.AsyncConnection[Any], ident: int) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT " + _CERT_COLUMNS + _CERT_FROM + " WHERE c.id = %s",
        (ident,),
    )
    row = await cur.fetchone()
    return _cert_row(row) if row else None


@router.post("/certificates", status_code=201, responses={403: {}, 422: {}})
async def add_certificate(body: CertificateIn, user: Supervisor, request: Request) -> Response:
    """Record an operator's certificate (or, with ``supersedes``, a correction of one)."""
    grade, legacy = _grade(body)
    rules = _latest(body.state)
    if body.kind not in rules.kinds:
        kinds = ", ".join(sorted(rules.kinds))
        raise invalid("kind", f"{body.state} issues {kinds} certificates, not {body.kind}")
    if body.expires < body.issued:
        raise invalid("expires", "is before issued")
    if (body.kind == "grandfather") != (body.facility is not None):
        raise invalid("facility", "is required for grandfather certificates, and only for them")
    async with transaction(request, user) as conn:
        await _person(conn, body.person_id, "person_id")
        facility_id = None
        if body.facility is not None:
            facility_id = (await _site(conn, body.facility, where="body")).id
        if body.supersedes is not None:
            await _check_supersedes(conn, "certificate", body.supersedes, body.person_id)
        cur = await conn.execute(
            "INSERT INTO operator_certificates (person_id, state, category, grade, legacy_grade,"
            " number, kind, facility_id, issued, expires, supersedes, recorded_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                body.person_id,
                body.state,
                body.category,
                rules.show(grade),
                legacy,
                body.number.strip(),
                body.kind,
                facility_id,
                body.issued,
                body.expires,
                body.supersedes,
                user.id,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        created = await _certificate(conn, row[0])
        await audit.append(
            conn,
            user.actor,
            "compliance.certificate_add",
            "certificate",
            row[0],
            facility_id,
            {**body.model_dump(mode="json"), "grade": rules.show(grade)},
        )
    return _json(created, 201)


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


@router.post("/certificates/{cert_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_certificate(
    cert_id: int, body: RetractIn, user: Supervisor, request: Request
) -> Response:
    """Withdraw a certificate entered in error (or revoked): it no longer counts."""
    if not body.reason.strip():
        raise invalid("reason", "must not be blank")
    async with transaction(request, user) as conn:
        found = await _certificate(conn, cert_id)
        if found is None:
            raise not_found("certificate", cert_id)
        cur = await conn.execute(
            "INSERT INTO operator_certificate_retractions (certificate_id, reason, retracted_by)"
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING certificate_id",
            (cert_id, body.reason, user.id),
        )
        if await cur.fetchone() is None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"certificate {cert_id} is retracted")
        await audit.append(
            conn,
            user.actor,
            "compliance.certificate_retract",
            "certificate",
            cert_id,
            found["facility_id"],
            {"reason": body.reason},
        )
        out = await _certificate(conn, cert_id)
    return _json(out)


def _may_read(user: Principal, person: int | None) -> int | None:
    """Auditors read anyone's records; others their own."""
    if user.role in AUDITOR_ROLES:
        return person
    if person is not None and person != user.id:
        raise Denied("only a chief operator, admin or regulator reads others' records")
    return user.id


@router.get("/certificates", responses={403: {}})
async def list_certificates(
    user: CurrentUser,
    request: Request,
    person: Annotated[int | None, Query(description="people.id")] = None,
    all_versions: Annotated[
        bool, Query(description="include superseded and retracted rows")
    ] = False,
) -> Response:
    """Certificates in force (or every recorded row), by person and issue date."""
    async with transaction(request, user) as conn:
        who = _may_read(user, person)
        cur = await conn.execute(
            "SELECT "
            + _CERT_COLUMNS
            + _CERT_FROM
            + " WHERE (%(p)s::int IS NULL OR c.person_id = %(p)s::int)"
            " ORDER BY c.person_id, c.issued, c.id",
            {"p": who},
        )
        rows = [_cert_row(r) for r in await cur.fetchall()]
    return _json({"items": [r for r in rows if all_versions or r["in_force"]]})


# --- training --------------------------------------------------------------------------


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    person_id: int
    taken_on: date = Field(alias="date", description="the day the course was taken")
    hours: float = Field(gt=0, le=1000, description="contact hours (1 CEU = 10)")
    online: bool = False
    approved: bool = Field(True, description="VT: only pre-approved courses count")
    title: Annotated[str, Field(max_length=200)] = ""
    supersedes: int | None = None


_TRAIN_SELECT = (
    "SELECT t.id, t.person_id, p.full_name, t.taken_on, t.hours, t.online, t.approved, t.title,"
    " t.supersedes, t.recorded_by, t.recorded_at, r.reason, r.retracted_at,"
    " EXISTS (SELECT 1 FROM operator_training n WHERE n.supersedes = t.id)"
    " FROM operator_training t JOIN people p ON p.id = t.person_id"
    " LEFT JOIN operator_training_retractions r ON r.training_id = t.id"
)
_TRAIN_KEYS = (
    "id",
    "person_id",
    "name",
    "date",
    "hours",
    "online",
    "approved",
    "title",
    "supersedes",
    "recorded_by",
    "recorded_at",
    "retraction_reason",
    "retracted_at",
    "superseded",
)


def _train_row(r: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_TRAIN_KEYS, r, strict=True))
    out["in_force"] = not out["superseded"] and out["retracted_at"] is None
    return out


async def _training(conn: psycopg.AsyncConnection[Any], ident: int) -> dict[str, Any] | None:
    cur = await conn.execute(_TRAIN_SELECT + " WHERE t.id = %s", (ident,))
    row = await cur.fetchone()
    return _train_row(row) if row else None


@router.post("/training", status_code=201, responses={403: {}, 422: {}})
async def add_training(body: TrainingIn, user: Supervisor, request: Request) -> Response:
    """Record training an operator took (or, with ``supersedes``, a correction)."""
    async with transaction(request, user) as conn:
        await _person(conn, body.person_id, "person_id")
        if body.supersedes is not None:
            await _check_supersedes(conn, "training", body.supersedes, body.person_id)
        cur = await conn.execute(
            "INSERT INTO operator_training (person_id, taken_on, hours, online, approved, title,"
            " supersedes, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                body.person_id,
                body.taken_on,
                Decimal(str(round(body.hours, 2))),
                body.online,
                body.approved,
                body.title,
                body.supersedes,
                user.id,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        created = await _training(conn, row[0])
        await audit.append(
            conn,
            user.actor,
            "compliance.training_add",
            "training",
            row[0],
            None,
            body.model_dump(mode="json", by_alias=True),
        )
    return _json(created, 201)


@router.post("/training/{training_id}/retract", responses={403: {}, 404: {}, 409: {}})
async def retract_training(
    training_id: int, body: RetractIn, user: Supervisor, request: Request
) -> Response:
    if not body.reason.strip():
        raise invalid("reason", "must not be blank")
    async with transaction(request, user) as conn:
        if await _training(conn, training_id) is None:
            raise not_found("training record", training_id)
        cur = await conn.execute(
            "INSERT INTO operator_training_retractions (training_id, reason, retracted_by)"
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING training_id",
            (training_id, body.reason, user.id),
        )
        if await cur.fetchone() is None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"training {training_id} is retracted")
        await audit.append(
            conn,
            user.actor,
            "compliance.training_retract",
            "training",
            training_id,
            None,
            {"reason": body.reason},
        )
        out = await _training(conn, training_id)
    return _json(out)


@router.get("/training", responses={403: {}})
async def list_training(
    user: CurrentUser,
    request: Request,
    person: Annotated[int | None, Query(description="people.id")] = None,
    all_versions: bool = False,
) -> Response:
    async with transaction(request, user) as conn:
        who = _may_read(user, person)
        cur = await conn.execute(
            _TRAIN_SELECT + " WHERE (%(p)s::int IS NULL OR t.person_id = %(p)s::int)"
            " ORDER BY t.person_id, t.taken_on, t.id",
            {"p": who},
        )
        rows = [_train_row(r) for r in await cur.fetchall()]
    return _json({"items": [r for r in rows if all_versions or r["in_force"]]})


# --- expiries --------------------------------------------------------------------------


@router.get("/expiries", responses={409: {"description": "the facility has no profile"}})
async def expiries(user: Auditor, request: Request, facility: FacilityQuery) -> Response:
    """Per person on the facility's crews: certificates expiring (or lately expired) within
    the facility's horizon, and renewal training hours short; most urgent first."""
    now = datetime.now(UTC)
    async with transaction(request, user) as conn:
        site = await _site(conn, facility)
        try:
            body = await expiry_report(conn, site, now)
        except NoProfile as exc:
            raise _no_profile(exc) from None
    return _json(body)


async def expiry_report(
    conn: psycopg.AsyncConnection[Any], site: Site, now: datetime
) -> dict[str, Any]:
    """The body of ``GET /expiries`` for a site at ``now`` (dates and times as Python
    values; ``ends`` already an ISO string in the facility's time). Raises ``NoProfile``."""
    versions = profiles_in_force(await profile_versions(conn, site.id))
    today = now.astimezone(_tz(site)).date()
    fac = facility_from(site, versions, today)
    current = version_at(versions, today)
    cur = await conn.execute(
        "SELECT DISTINCT m.person_id FROM shift_crew m JOIN shifts s ON s.id = m.shift_id"
        " WHERE s.site_id = %s AND s.opened_at >= %s"
        " UNION SELECT person_id FROM operator_certificates WHERE facility_id = %s",
        (site.id, now - EXPIRY_CREW_SINCE, site.id),
    )
    crew_ids = sorted(r[0] for r in await cur.fetchall())
    names, cert_rows, train_rows = await people_records(conn, crew_ids)
    horizon = timedelta(days=current.expiry_horizon_days)
    # The period is the horizon before now, so certificates that lapsed lately show too;
    # the engine warns of those ending up to a horizon after it.
    scenario = Scenario(
        rules=current.rules,
        facility=fac,
        period=Period(now - horizon - timedelta(microseconds=1), now),
        operators=operators_from(names, cert_rows, train_rows),
        expiry_horizon=horizon,
    )
    report = check(scenario)
    tz = fac.tz
    per: dict[int, dict[str, Any]] = {
        pid: {"person_id": pid, "name": names.get(pid), "certificates": [], "findings": []}
        for pid in crew_ids
    }
    for op in scenario.operators:
        item = per[int(op.id)]
        for c in op.certificates:
            item["certificates"].append(
                {
                    "number": c.id,
                    "state": c.state,
                    "category": c.category,
                    "grade": str(c.grade),
                    "kind": c.kind,
                    "issued": c.issued,
                    "expires": c.expires,
                    "days_left": (c.expires - today).days + 1,
                }
            )
    for f in report.findings:
        if f.rule not in (R.CERTIFICATE_EXPIRING, R.RENEWAL_TRAINING):
            continue
        for op_id in f.operators:
            per[int(op_id)]["findings"].append(
                {
                    "rule": f.rule,
                    "ends": f.end.astimezone(tz).isoformat(),
                    "days_left": (f.end - now).total_seconds() / 86400,
                    "message": f.message,
                    "citation": f.citation,
                }
            )
    items = [p for p in per.values() if p["findings"]]
    for p in items:
        p["findings"].sort(key=lambda f: f["days_left"])
    items.sort(key=lambda p: (p["findings"][0]["days_left"], p["person_id"]))
    return {
        "site": {"id": site.id, "code": site.code},
        "at": now,
        "horizon_days": horizon.days,
        "items": items,
        "people_checked": len(crew_ids),
    }


# --- facility profile ------------------------------------------------------------------


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    effective_from: date = Field(description="local date the version takes effect")
    rules: State | None = Field(None, description="state rule set (default: the site's state)")
    category: CategoryName | None = Field(None, description="default: the site's category")
    facility_class: Annotated[str, Field(max_length=10)] | int | None = Field(
        None, alias="class", description="entered class (VT; or any state)"
    )
    points: float | dict[str, Any] | None = Field(
        None, description="UT Table 2 (number or itemized object) or NY point score"
    )
    population: float | None = Field(None, ge=0, description="UT collection / small lagoon")
    activated_sludge: bool = False
    processes_added: list[date] = Field(default_factory=list, max_length=100)
    expiry_horizon_days: int = Field(90, ge=0, le=3650)
    note: Annotated[str, Field(max_length=2000)] = ""


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _loc(path: str) -> list[str]:
    """``$.points.processes[2]`` -> ``["points", "processes", "2"]``."""
    return [m.group(1) or m.group(2) for m in _PATH_PART.finditer(path)]


def _profile_json(v: ProfileVersion, in_force: bool) -> dict[str, Any]:
    try:
        c = v.classify()
        classification: dict[str, Any] = {
            "class": _latest(v.rules).show(c.grade),
            "points": c.points,
            "citation": c.citation,
            "breakdown": [
                {"item": x.item, "points": x.points, "note": x.note} for x in c.breakdown
            ],
            **c.extra,
        }
    except ScenarioError as exc:  # rules changed since the row was written
        classification = {"error": str(exc)}
    return {
        "id": v.id,
        "effective_from": v.effective_from,
        "rules": v.rules,
        "category": v.category,
        "class": v.facility_class,
        "points": v.points,
        "population": v.population,
        "activated_sludge": v.activated_sludge,
        "processes_added": list(v.processes_added),
        "expiry_horizon_days": v.expiry_horizon_days,
        "note": v.note,
        "recorded_by": v.recorded_by,
        "recorded_at": v.recorded_at,
        "in_force": in_force,
        "classification": classification,
    }


def _profile_body(site: Site, rows: list[ProfileVersion], today: date) -> dict[str, Any]:
    versions = profiles_in_force(rows)
    live = {v.id for v in versions}
    current = version_at(versions, today) if versions else None
    return {
        "site": {"id": site.id, "code": site.code, "name": site.name, "timezone": site.timezone},
        "current": _profile_json(current, True) if current else None,
        "versions": [_profile_json(v, True) for v in versions],
        "history": [_profile_json(v, v.id in live) for v in rows],
    }


@router.post("/facilities/{facility}/profile", status_code=201, responses={403: {}, 404: {}})
async def set_profile(
    facility: str, body: ProfileIn, user: Supervisor, request: Request
) -> Response:
    """Record a version of the facility's compliance profile, in force from
    ``effective_from``; a second version with the same date corrects the first."""
    async with transaction(request, user) as conn:
        site = await _site(conn, facility, where="path")
        rules = body.rules or site.state
        if rules not in RULE_SETS:
            raise invalid("rules", f"the site's state {site.state!r} has no rule set; give rules")
        category = body.category or site.category
        if category is None:
            raise invalid("category", "is required (the site has none)")
        if category not in _latest(rules).accepts:
            allowed = ", ".join(_latest(rules).accepts)
            raise invalid("category", f"{rules} rules cover {allowed}, not {category}")
        if body.activated_sludge and rules != "NY":
            raise invalid("activated_sludge", "the activated-sludge flag applies to New York")
        given = {"class": body.facility_class, "points": body.points, "population": body.population}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise invalid("class", "give exactly one of class, points or population")
        ((key, value),) = given.items()
        if key == "points" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if key == "population" and isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            c = classify_item({key: value}, rules, category, body.activated_sludge)
        except ScenarioError as exc:
            raise invalid(_loc(exc.path), exc.problem) from None
        cls = _latest(rules).show(c.grade) if key == "class" else None
        cur = await conn.execute(
            "INSERT INTO facility_profiles (site_id, effective_from, rules, category,"
            " facility_class, points, population, activated_sludge, processes_added,"
            " expiry_horizon_days, note, recorded_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                site.id,
                body.effective_from,
                rules,
                category,
                cls,
                Jsonb(value) if key == "points" else None,
                value if key == "population" else None,
                body.activated_sludge,
                body.processes_added,
                body.expiry_horizon_days,
                body.note,
                user.id,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        rows = await profile_versions(conn, site.id)
        await audit.append(
            conn,
            user.actor,
            "compliance.profile_set",
            "facility_profile",
            row[0],
            site.id,
            {
                **body.model_dump(mode="json", by_alias=True),
                "rules": rules,
                "category": category,
                "computed_class": _latest(rules).show(c.grade),
                "points_total": c.points,
            },
        )
    today = datetime.now(UTC).astimezone(_tz(site)).date()
    return _json(_profile_body(site, rows, today), 201)


def _tz(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone)


@router.get("/facilities/{facility}/profile", responses={404: {}})
async def get_profile(facility: str, user: CurrentUser, request: Request) -> Response:
    """The version in force today, the versions by date, and every row recorded."""
    async with transaction(request, user) as conn:
        site = await _site(conn, facility, where="path")
        rows = await profile_versions(conn, site.id)
    today = datetime.now(UTC).astimezone(_tz(site)).date()
    return _json(_profile_body(site, rows, today))

"""Operators' certificates and training records: added (or corrected with ``supersedes``),
retracted, and read back. Rows are appended, never edited; every write is audited.

The input models are the API's request bodies; the functions run on the caller's
connection, inside its transaction, and raise ``compliance.services.errors`` refusals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from clearwell.params import Id
from compliance.adapter import UnknownFacility, resolve_site
from compliance.certificates import CertificateProblem, certificate_problem, read_grade
from compliance.grades import Grade
from compliance.model import Category, Certificate, Kind, State, WasteType
from compliance.rulesets import RuleSet, latest
from compliance.services.errors import AlreadyRetracted, NotFound, Refused
from logbook import audit


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: Id
    state: State = Field(description="issuing state")
    category: Category
    grade: Annotated[str, Field(max_length=20)] | int | None = Field(
        None, description="III, 3 or 3A (NY activated-sludge series)"
    )
    legacy_grade: Annotated[str, Field(max_length=10)] | None = Field(
        None, description="NY 650.12 Table 4 old name (IA, IIB...), instead of grade"
    )
    number: Annotated[str, Field(max_length=60)] = ""
    kind: Kind = "full"
    facility: Annotated[str, Field(max_length=63)] | None = Field(
        None, description="grandfather certificates: the one facility (site code or id)"
    )
    issued: date
    expires: date = Field(description="the last day in effect; the term the state allows")
    type: WasteType = Field("domestic", description="VT: domestic or industrial")
    supersedes: Id | None = Field(None, description="the certificate row this one corrects")


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    person_id: Id
    taken_on: date = Field(alias="date", description="the day the course was taken")
    # Stored to the hundredth: less would round to 0 hours, which the table refuses.
    hours: float = Field(ge=0.01, le=1000, description="contact hours (1 CEU = 10)")
    online: bool = False
    approved: bool = Field(True, description="VT: only pre-approved courses count")
    title: Annotated[str, Field(max_length=200)] = ""
    supersedes: Id | None = None


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


# --- the two kinds of record -----------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    """Where a kind of record lives and how it reads back."""

    noun: str  # in messages, and the audit's subject
    missing: str  # what a 404 calls it
    select: str  # its columns, from its table as ``x`` and its retraction as ``r``
    keys: tuple[str, ...]
    order: str  # its ORDER BY: by person, then date
    supersedes_sql: str  # its owner, whether it is superseded, whether it is retracted
    retract_sql: str


_IN_FORCE_KEYS = ("recorded_by", "recorded_at", "retraction_reason", "retracted_at", "superseded")

CERTIFICATE = RecordKind(
    noun="certificate",
    missing="certificate",
    select=(
        "SELECT x.id, x.person_id, p.full_name, x.state, x.category, x.grade, x.legacy_grade,"
        " x.number, x.kind, x.facility_id, f.code, x.issued, x.expires, x.type, x.supersedes,"
        " x.recorded_by, x.recorded_at, r.reason, r.retracted_at,"
        " EXISTS (SELECT 1 FROM operator_certificates n WHERE n.supersedes = x.id)"
        " FROM operator_certificates x JOIN people p ON p.id = x.person_id"
        " LEFT JOIN sites f ON f.id = x.facility_id"
        " LEFT JOIN operator_certificate_retractions r ON r.certificate_id = x.id"
    ),
    keys=(
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
        "type",
        "supersedes",
        *_IN_FORCE_KEYS,
    ),
    order=" ORDER BY x.person_id, x.issued, x.id",
    supersedes_sql=(
        "SELECT x.person_id, EXISTS (SELECT 1 FROM operator_certificates n"
        " WHERE n.supersedes = x.id), EXISTS (SELECT 1 FROM operator_certificate_retractions"
        " r WHERE r.certificate_id = x.id) FROM operator_certificates x WHERE x.id = %s"
    ),
    retract_sql=(
        "INSERT INTO operator_certificate_retractions (certificate_id, reason, retracted_by)"
        " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING certificate_id"
    ),
)

TRAINING = RecordKind(
    noun="training",
    missing="training record",
    select=(
        "SELECT x.id, x.person_id, p.full_name, x.taken_on, x.hours, x.online, x.approved,"
        " x.title, x.supersedes, x.recorded_by, x.recorded_at, r.reason, r.retracted_at,"
        " EXISTS (SELECT 1 FROM operator_training n WHERE n.supersedes = x.id)"
        " FROM operator_training x JOIN people p ON p.id = x.person_id"
        " LEFT JOIN operator_training_retractions r ON r.training_id = x.id"
    ),
    keys=(
        "id",
        "person_id",
        "name",
        "date",
        "hours",
        "online",
        "approved",
        "title",
        "supersedes",
        *_IN_FORCE_KEYS,
    ),
    order=" ORDER BY x.person_id, x.taken_on, x.id",
    supersedes_sql=(
        "SELECT x.person_id, EXISTS (SELECT 1 FROM operator_training n"
        " WHERE n.supersedes = x.id), EXISTS (SELECT 1 FROM operator_training_retractions"
        " r WHERE r.training_id = x.id) FROM operator_training x WHERE x.id = %s"
    ),
    retract_sql=(
        "INSERT INTO operator_training_retractions (training_id, reason, retracted_by)"
        " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING training_id"
    ),
)


def _row(kind: RecordKind, r: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(kind.keys, r, strict=True))
    out["in_force"] = not out["superseded"] and out["retracted_at"] is None
    return out


async def find(
    conn: psycopg.AsyncConnection[Any], kind: RecordKind, ident: int
) -> dict[str, Any] | None:
    """One row of ``kind`` (``CERTIFICATE`` or ``TRAINING``) as the API shows it."""
    cur = await conn.execute(kind.select + " WHERE x.id = %s", (ident,))
    row = await cur.fetchone()
    return _row(kind, row) if row else None


async def listing(
    conn: psycopg.AsyncConnection[Any],
    kind: RecordKind,
    person: int | None,
    all_versions: bool,
    sites: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """A person's rows of ``kind`` (everyone's if None; with ``sites``, those of the people
    who belong to one of them) in force, or every recorded row."""
    query = sql.SQL(
        "{} WHERE (%(p)s::int IS NULL OR x.person_id = %(p)s::int)"
        " AND (%(s)s::int[] IS NULL OR x.person_id IN"
        " (SELECT m.person_id FROM site_members m WHERE m.site_id = ANY(%(s)s))){}"
    ).format(sql.SQL(kind.select), sql.SQL(kind.order))
    cur = await conn.execute(query, {"p": person, "s": None if sites is None else list(sites)})
    rows = [_row(kind, r) for r in await cur.fetchall()]
    return [r for r in rows if all_versions or r["in_force"]]


# --- checks ----------------------------------------------------------------------------


def _check_certificate(body: CertificateIn) -> tuple[RuleSet, Grade, str | None]:
    """What a certificate must be whatever the records say, as the scenario file reads it
    (``compliance.certificates``: grade or NY old name, kind, type, term): the issuing
    state's rules, the grade, and the NY Table 4 name it was given as."""
    rules = latest(body.state)
    try:
        grade = read_grade(rules, body.grade, body.legacy_grade)
    except CertificateProblem as exc:
        raise Refused(exc.field, exc.problem) from None
    cert = Certificate(
        id=body.number or "new",
        state=body.state,
        category=body.category,
        grade=grade,
        kind=body.kind,
        issued=body.issued,
        expires=body.expires,
        facility=body.facility,
        type=body.type,
    )
    if problem := certificate_problem(cert, rules):
        raise Refused(problem.field, problem.problem)
    if (body.kind == "grandfather") != (body.facility is not None):
        raise Refused("facility", "is required for grandfather certificates, and only for them")
    legacy = body.legacy_grade.strip().upper() if body.legacy_grade is not None else None
    return rules, grade, legacy


async def check_person(
    conn: psycopg.AsyncConnection[Any], person_id: int, field: str = "person_id"
) -> None:
    """Refuses ``field`` unless ``person_id`` names a person."""
    cur = await conn.execute("SELECT 1 FROM people WHERE id = %s", (person_id,))
    if await cur.fetchone() is None:
        raise Refused(field, f"no person with id {person_id}")


async def _check_supersedes(
    conn: psycopg.AsyncConnection[Any], kind: RecordKind, ident: int, person_id: int
) -> None:
    cur = await conn.execute(kind.supersedes_sql, (ident,))
    row = await cur.fetchone()
    if row is None:
        raise Refused("supersedes", f"no {kind.noun} record {ident}")
    if row[0] != person_id:
        raise Refused("supersedes", f"{kind.noun} record {ident} is another person's")
    if row[1] or row[2]:
        raise Refused(
            "supersedes", f"{kind.noun} record {ident} is already superseded or retracted"
        )


# --- writes ----------------------------------------------------------------------------


async def _added(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    kind: RecordKind,
    inserted: psycopg.AsyncCursor[Any],
    site_id: int | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The row an ``INSERT ... RETURNING id`` made, as read back, once audited."""
    row = await inserted.fetchone()
    assert row is not None
    created = await find(conn, kind, row[0])
    assert created is not None
    await audit.append(
        conn, actor, f"compliance.{kind.noun}_add", kind.noun, row[0], site_id, detail
    )
    return created


async def add_certificate(
    conn: psycopg.AsyncConnection[Any], actor: audit.Actor, body: CertificateIn
) -> dict[str, Any]:
    """Record an operator's certificate (or, with ``supersedes``, a correction of one)."""
    rules, grade, legacy = _check_certificate(body)
    await check_person(conn, body.person_id)
    facility_id = None
    if body.facility is not None:
        try:
            facility_id = (await resolve_site(conn, body.facility)).id
        except UnknownFacility as exc:
            raise Refused("facility", str(exc)) from None
    if body.supersedes is not None:
        await _check_supersedes(conn, CERTIFICATE, body.supersedes, body.person_id)
    cur = await conn.execute(
        "INSERT INTO operator_certificates (person_id, state, category, grade, legacy_grade,"
        " number, kind, facility_id, issued, expires, type, supersedes, recorded_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
            body.type,
            body.supersedes,
            actor.id,
        ),
    )
    detail = {**body.model_dump(mode="json"), "grade": rules.show(grade)}
    return await _added(conn, actor, CERTIFICATE, cur, facility_id, detail)


async def add_training(
    conn: psycopg.AsyncConnection[Any], actor: audit.Actor, body: TrainingIn
) -> dict[str, Any]:
    """Record training an operator took (or, with ``supersedes``, a correction)."""
    await check_person(conn, body.person_id)
    if body.supersedes is not None:
        await _check_supersedes(conn, TRAINING, body.supersedes, body.person_id)
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
            actor.id,
        ),
    )
    detail = body.model_dump(mode="json", by_alias=True)
    return await _added(conn, actor, TRAINING, cur, None, detail)


async def retract(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    kind: RecordKind,
    ident: int,
    reason: str,
) -> dict[str, Any]:
    """Withdraw a record entered in error (or a revoked certificate): it no longer counts."""
    if not reason.strip():
        raise Refused("reason", "must not be blank")
    found = await find(conn, kind, ident)
    if found is None:
        raise NotFound(kind.missing, ident)
    cur = await conn.execute(kind.retract_sql, (ident, reason, actor.id))
    if await cur.fetchone() is None:
        raise AlreadyRetracted(f"{kind.noun} {ident} is retracted")
    await audit.append(
        conn,
        actor,
        f"compliance.{kind.noun}_retract",
        kind.noun,
        ident,
        found.get("facility_id"),
        {"reason": reason},
    )
    out = await find(conn, kind, ident)
    assert out is not None
    return out

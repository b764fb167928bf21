"""Competency levels (seed 000, a site policy): each person's assessed level at a site,
recorded (or corrected with ``supersedes``) and read back. Rows are appended, never
edited; every write is audited.

The input model is the API's request body; the functions run on the caller's connection,
inside its transaction, and raise ``compliance.services.errors`` refusals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from clearwell.params import Id
from compliance.adapter import Site, assessment_from_row
from compliance.competency import Level, assessment_on
from compliance.services.errors import Refused
from compliance.services.records import check_person
from logbook import audit


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facility: Annotated[str, Field(min_length=1, max_length=63, description="site code or id")]
    person_id: Id
    level: Level
    assessed_on: date = Field(description="the local day from which the level holds")
    assessor_id: Id = Field(description="who assessed the person (people.id)")
    note: Annotated[str, Field(max_length=2000)] = ""
    supersedes: Id | None = Field(None, description="the assessment this one corrects")


_SELECT = (
    "SELECT a.id, a.person_id, a.level, a.assessed_on, a.assessor_id, a.note, a.supersedes,"
    " p.full_name, q.full_name, a.site_id, a.recorded_by, a.recorded_at,"
    " EXISTS (SELECT 1 FROM competency_assessments n WHERE n.supersedes = a.id)"
    " FROM competency_assessments a JOIN people p ON p.id = a.person_id"
    " JOIN people q ON q.id = a.assessor_id"
)
_KEYS = (
    "id",
    "person_id",
    "level",
    "assessed_on",
    "assessor_id",
    "note",
    "supersedes",
    "name",
    "assessor",
    "site_id",
    "recorded_by",
    "recorded_at",
    "superseded",
)


def _row(r: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_KEYS, r, strict=True))
    out["in_force"] = not out["superseded"]
    return out


async def find(conn: psycopg.AsyncConnection[Any], ident: int) -> dict[str, Any] | None:
    cur = await conn.execute(_SELECT + " WHERE a.id = %s", (ident,))
    row = await cur.fetchone()
    return _row(row) if row else None


async def listing(
    conn: psycopg.AsyncConnection[Any], site: Site, person: int | None, all_versions: bool
) -> list[dict[str, Any]]:
    """A person's assessments at ``site`` (everyone's if None) in force, or every row, by
    person and date."""
    cur = await conn.execute(
        _SELECT + " WHERE a.site_id = %(s)s AND (%(p)s::int IS NULL OR a.person_id = %(p)s::int)"
        " ORDER BY a.person_id, a.assessed_on, a.id",
        {"s": site.id, "p": person},
    )
    rows = [_row(r) for r in await cur.fetchall()]
    return [r for r in rows if all_versions or r["in_force"]]


def levels_on(rows: Sequence[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """Per person in ``rows`` (``listing``'s, every version), the assessment giving their
    level on local ``day``; a person with none by then is emerging, none on record (pure)."""
    people: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        people.setdefault(r["person_id"], []).append(r)
    out = []
    for pid, mine in people.items():
        by_id = {str(r["id"]): r for r in mine}
        # The first seven keys are the adapter's row (ASSESSMENTS_SQL), in its order.
        held = assessment_on([assessment_from_row([r[k] for k in _KEYS[:7]]) for r in mine], day)
        row = by_id[str(held.id)] if held is not None else None
        out.append(
            {
                "person_id": pid,
                "name": mine[0]["name"],
                "level": row["level"] if row else "emerging",
                "on_record": row is not None,
                "assessment_id": row["id"] if row else None,
                "assessed_on": row["assessed_on"] if row else None,
                "assessor_id": row["assessor_id"] if row else None,
                "assessor": row["assessor"] if row else None,
            }
        )
    return out


async def add_level(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    site: Site,
    body: LevelIn,
    today: date,
) -> dict[str, Any]:
    """Record a person's assessed level at ``site`` (or, with ``supersedes``, a correction
    of an assessment); ``today`` is the site's local day."""
    await check_person(conn, body.person_id)
    await check_person(conn, body.assessor_id, "assessor_id")
    if body.assessor_id == body.person_id:
        raise Refused("assessor_id", "a person is assessed by someone else")
    if body.assessed_on > today:
        raise Refused("assessed_on", f"is after today ({today.isoformat()} at {site.code})")
    if body.supersedes is not None:
        old = await find(conn, body.supersedes)
        if old is None:
            raise Refused("supersedes", f"no assessment {body.supersedes}")
        if (old["person_id"], old["site_id"]) != (body.person_id, site.id):
            raise Refused(
                "supersedes", f"assessment {body.supersedes} is another person's or site's"
            )
        if old["superseded"]:
            raise Refused("supersedes", f"assessment {body.supersedes} is already superseded")
    cur = await conn.execute(
        "INSERT INTO competency_assessments (site_id, person_id, level, assessed_on,"
        " assessor_id, note, supersedes, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id",
        (
            site.id,
            body.person_id,
            body.level,
            body.assessed_on,
            body.assessor_id,
            body.note,
            body.supersedes,
            actor.id,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    await audit.append(
        conn,
        actor,
        "compliance.level_add",
        "competency_assessment",
        row[0],
        site.id,
        {**body.model_dump(mode="json"), "facility": site.code},
    )
    created = await find(conn, row[0])
    assert created is not None
    return created

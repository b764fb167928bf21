"""Facility profiles: the versions of a facility's class and rule set, recorded and shown.

A version is in force from its ``effective_from`` (a local date); a second version with the
same date corrects the first. Every version shows its class and point breakdown.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from compliance.adapter import ProfileVersion, Site, profile_versions, profiles_in_force, version_at
from compliance.classify import LABORATORY_READINGS
from compliance.jsonpath import ScenarioError
from compliance.model import Category, State, WasteType
from compliance.rulesets import RULE_SETS, latest
from compliance.scenario import classify_item
from compliance.services.errors import Refused
from logbook import audit


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    effective_from: date = Field(description="local date the version takes effect")
    rules: State | None = Field(None, description="state rule set (default: the site's state)")
    category: Category | None = Field(None, description="default: the site's category")
    facility_class: Annotated[str, Field(max_length=10)] | int | None = Field(
        None, alias="class", description="entered class (VT; or any state)"
    )
    points: float | dict[str, Any] | None = Field(
        None, description="UT Table 2 (number or itemized object) or NY point score"
    )
    population: float | None = Field(None, ge=0, description="UT collection / small lagoon")
    activated_sludge: bool = False
    processes_added: list[date] = Field(default_factory=list, max_length=100)
    rating_changes: list[date] = Field(
        default_factory=list,
        max_length=100,
        description="UT: dates the collection system's rating changed (R317-10-11 G)",
    )
    employed_operators: int | None = Field(
        None, ge=1, description="operators employed (UT R317-10-4 I: 1 puts that one in DRC)"
    )
    wastewater_type: WasteType = Field("domestic", description="VT §3(a): domestic or industrial")
    laboratory_reading: Literal["ladder", "sum"] | None = Field(
        None,
        description="UT Table 2 laboratory control: ladder (default) or sum; the itemized"
        " points object may say it instead",
    )
    expiry_horizon_days: int = Field(90, ge=0, le=3650)
    note: Annotated[str, Field(max_length=2000)] = ""


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _fields(path: str) -> list[str]:
    """``$.points.processes[2]`` -> ``["points", "processes", "2"]``."""
    return [m.group(1) or m.group(2) for m in _PATH_PART.finditer(path)]


async def set_profile(
    conn: psycopg.AsyncConnection[Any], actor: audit.Actor, site: Site, body: ProfileIn
) -> list[ProfileVersion]:
    """Record a version of the facility's profile; every version recorded, after it."""
    rules = body.rules or site.state
    if rules not in RULE_SETS:
        raise Refused("rules", f"the site's state {site.state!r} has no rule set; give rules")
    rule_set = latest(rules)
    category = body.category or site.category
    if category is None:
        raise Refused("category", "is required (the site has none)")
    if category not in rule_set.accepts:
        allowed = ", ".join(rule_set.accepts)
        raise Refused("category", f"{rules} rules cover {allowed}, not {category}")
    if body.activated_sludge and not rule_set.activated_sludge_series:
        raise Refused("activated_sludge", "the activated-sludge flag applies to New York")
    given = {"class": body.facility_class, "points": body.points, "population": body.population}
    given = {k: v for k, v in given.items() if v is not None}
    if len(given) != 1:
        raise Refused("class", "give exactly one of class, points or population")
    ((key, value),) = given.items()
    if key in ("points", "population") and isinstance(value, float) and value.is_integer():
        value = int(value)
    if body.wastewater_type not in rule_set.types:
        raise Refused("wastewater_type", f"{rules} facilities have no {body.wastewater_type} type")
    laboratory = _laboratory_reading(body, value if key == "points" else None)
    read = {"laboratory_reading": laboratory, **value} if isinstance(value, dict) else value
    try:
        classified = classify_item({key: read}, rules, category, body.activated_sludge)
    except ScenarioError as exc:
        raise Refused(_fields(exc.path), exc.problem) from None
    shown = rule_set.show(classified.grade)
    cur = await conn.execute(
        "INSERT INTO facility_profiles (site_id, effective_from, rules, category,"
        " facility_class, points, population, activated_sludge, processes_added,"
        " expiry_horizon_days, note, recorded_by, employed_operators, rating_changes,"
        " wastewater_type, laboratory_reading)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            site.id,
            body.effective_from,
            rules,
            category,
            shown if key == "class" else None,
            Jsonb(value) if key == "points" else None,
            value if key == "population" else None,
            body.activated_sludge,
            body.processes_added,
            body.expiry_horizon_days,
            body.note,
            actor.id,
            body.employed_operators,
            body.rating_changes,
            body.wastewater_type,
            laboratory,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    rows = await profile_versions(conn, site.id)
    await audit.append(
        conn,
        actor,
        "compliance.profile_set",
        "facility_profile",
        row[0],
        site.id,
        {
            **body.model_dump(mode="json", by_alias=True),
            "rules": rules,
            "category": category,
            "laboratory_reading": laboratory,
            "computed_class": shown,
            "points_total": classified.points,
        },
    )
    return rows


def _laboratory_reading(body: ProfileIn, points: Any) -> str:
    """How Utah's Table 2 laboratory lists are read: as the body says, or the itemized points
    object; the ladder if neither does. The two saying different things is refused."""
    inside = points.get("laboratory_reading") if isinstance(points, dict) else None
    if inside is not None and inside not in LABORATORY_READINGS:
        raise Refused(
            ["points", "laboratory_reading"], f"must be one of {', '.join(LABORATORY_READINGS)}"
        )
    if inside is not None and body.laboratory_reading not in (None, inside):
        raise Refused(
            "laboratory_reading", f"is {body.laboratory_reading} but points says {inside}"
        )
    return str(body.laboratory_reading or inside or "ladder")


def _version(v: ProfileVersion, in_force: bool) -> dict[str, Any]:
    try:
        c = v.classify()
        classification: dict[str, Any] = {
            "class": latest(v.rules).show(c.grade),
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
        "rating_changes": list(v.rating_changes),
        "employed_operators": v.employed_operators,
        "wastewater_type": v.wastewater_type,
        "laboratory_reading": v.laboratory_reading,
        "expiry_horizon_days": v.expiry_horizon_days,
        "note": v.note,
        "recorded_by": v.recorded_by,
        "recorded_at": v.recorded_at,
        "in_force": in_force,
        "classification": classification,
    }


def profile_body(site: Site, rows: list[ProfileVersion], now: datetime) -> dict[str, Any]:
    """The version in force at ``now`` (the site's local day), the versions in force by
    date, and the ``history`` of every row recorded."""
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    versions = profiles_in_force(rows)
    live = {v.id for v in versions}
    current = version_at(versions, today) if versions else None
    return {
        "site": {"id": site.id, "code": site.code, "name": site.name, "timezone": site.timezone},
        "current": _version(current, True) if current else None,
        "versions": [_version(v, True) for v in versions],
        "history": [_version(v, v.id in live) for v in rows],
    }

"""Small builders for scenario JSON, so each table row states only what it varies."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from compliance.engine import check
from compliance.report import Report
from compliance.scenario import load_scenario

TZ = {"UT": "America/Denver", "VT": "America/New_York", "NY": "America/New_York"}
# Offsets on 2025-06-10 (summer time) for the zones above.
OFF = {"UT": "-06:00", "VT": "-04:00", "NY": "-04:00"}


# A term each state's rule allows (issue 15), in force on 2025-06-10: UT three years
# ending December 31; VT five years to July 1, provisional at most two years.
TERMS = {
    ("UT", "full"): ("2024-01-01", "2026-12-31"),
    ("VT", "full"): ("2022-07-01", "2027-07-01"),
    ("VT", "provisional"): ("2024-06-01", "2026-05-31"),
}


def cert(
    grade: str | int,
    *,
    state: str = "UT",
    category: str = "treatment",
    kind: str = "full",
    issued: str | None = None,
    expires: str | None = None,
    facility: str | None = None,
    id: str | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    term = TERMS.get((state, kind), TERMS.get((state, "full"), ("2020-01-01", "2030-12-31")))
    c: dict[str, Any] = {
        "state": state,
        "category": category,
        "grade": grade,
        "kind": kind,
        "issued": issued or term[0],
        "expires": expires or term[1],
    }
    if facility is not None:
        c["facility"] = facility
    if id is not None:
        c["id"] = id
    if type is not None:
        c["type"] = type
    return c


def op(
    id: str,
    *certs: dict[str, Any],
    training: list[dict[str, Any]] | None = None,
    level: str | None = "proficient",
    levels: list[dict[str, Any]] | None = None,
):
    """An operator; assessed ``level`` since 2020 (issue 15) unless ``levels`` or None."""
    o: dict[str, Any] = {"id": id, "certificates": list(certs)}
    if training is not None:
        o["training"] = training
    if levels is not None:
        o["levels"] = levels
    elif level is not None:
        o["levels"] = [{"level": level, "assessed_on": "2020-01-01"}]
    return o


def member(operator: str, role: str, *on_site: tuple[str, str]) -> dict[str, Any]:
    m: dict[str, Any] = {"operator": operator, "role": role}
    if on_site:
        m["on_site"] = [list(p) for p in on_site]
    return m


def at(state: str, hhmm: str, day: str = "2025-06-10") -> str:
    return f"{day}T{hhmm}:00{OFF[state]}"


def shift(state: str, *crew: dict[str, Any], id: str = "day", start="06:00", end="18:00"):
    return {"id": id, "start": at(state, start), "end": at(state, end), "crew": list(crew)}


def week(
    state: str,
    crews: Any,
    *,
    first: str = "2025-06-09",
    days: int = 7,
) -> tuple[list[dict[str, Any]], tuple[str, str]]:
    """Three 8 h shifts a day (06-14 day, 14-22 evening, 22-06 night) for ``days`` days from
    ``first`` (summer time), and the period they tile. ``crews(day_index, name)`` gives each
    shift's crew."""
    start = date.fromisoformat(first)
    shifts = []
    for d in range(days):
        day = (start + timedelta(days=d)).isoformat()
        after = (start + timedelta(days=d + 1)).isoformat()
        for name, a, b, b_day in (
            ("day", "06:00", "14:00", day),
            ("evening", "14:00", "22:00", day),
            ("night", "22:00", "06:00", after),
        ):
            shifts.append(
                shift_between(
                    f"{day} {name}", at(state, a, day), at(state, b, b_day), *crews(d, name)
                )
            )
    end = (start + timedelta(days=days)).isoformat()
    return shifts, (at(state, "06:00", first), at(state, "06:00", end))


def shift_between(id: str, start: str, end: str, *crew: dict[str, Any]) -> dict[str, Any]:
    """A shift between two instants written out (across midnight or a DST change)."""
    return {"id": id, "start": start, "end": end, "crew": list(crew)}


def facility(state: str, **kw: Any) -> dict[str, Any]:
    f: dict[str, Any] = {
        "id": "plant",
        "name": "Test Plant",
        "timezone": TZ[state],
        "category": "treatment",
    }
    f.update(kw)
    if not any(k in f for k in ("class", "points", "population", "history")):
        f["class"] = "II"
    return f


def scenario(
    state: str,
    *,
    facility_kw: dict[str, Any] | None = None,
    operators: list[dict[str, Any]] | None = None,
    shifts: list[dict[str, Any]] | None = None,
    entries: list[dict[str, Any]] | None = None,
    period: tuple[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start, end = period or (at(state, "06:00"), at(state, "18:00"))
    data = {
        "rules": state,
        "facility": facility(state, **(facility_kw or {})),
        "operators": operators or [],
        "shifts": shifts or [],
        "entries": entries or [],
        "period": {"start": start, "end": end},
    }
    data.update(extra)
    return data


def run(data: dict[str, Any]) -> Report:
    return check(load_scenario(data))


def rules(report: Report, *, severity: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """(rule, operators) of the findings, leaving out the record's gaps (no shift recorded)
    unless ``severity="gap"`` asks for them."""
    return [
        (f.rule, f.operators)
        for f in report.findings
        if (severity is None and f.severity != "gap") or f.severity == severity
    ]


def only(report: Report, rule: str):
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.message) for f in report.findings]
    return found[0]

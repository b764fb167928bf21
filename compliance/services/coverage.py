"""Coverage reports from live data: the engine's report for a period, and the floor view of
who is covering now. The facts are loaded on the caller's connection; the bodies are made
after, so no pooled connection waits on the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from compliance.adapter import Loaded, Site, load
from compliance.engine import check
from compliance.rulesets import DRC_MISSING, DRC_UNQUALIFIED

# The floor view looks back this far when no shift is open.
FLOOR_LOOKBACK = timedelta(hours=12)


def coverage_body(loaded: Loaded, entries: bool) -> dict[str, Any]:
    """The engine's report (with the per-entry stamps if ``entries``), the site, and the
    people named (``people.id`` as strings -> names)."""
    report = check(loaded.scenario)
    body = report.to_dict(entries=entries)
    if not entries:
        body.pop("entries")
    body["site"] = {"id": loaded.site.id, "code": loaded.site.code}
    body["people"] = {str(k): v for k, v in sorted(loaded.names.items())}
    return body


@dataclass(frozen=True)
class FloorFacts:
    loaded: Loaded
    since: datetime  # the oldest open shift's opening, else FLOOR_LOOKBACK before now
    end: datetime  # just after now: open shifts run to the end of the instant looked at


async def floor_facts(conn: psycopg.AsyncConnection[Any], site: Site, now: datetime) -> FloorFacts:
    """The facts since the oldest open shift began. Raises ``NoProfile``."""
    cur = await conn.execute(
        "SELECT min(s.opened_at) FROM shifts s"
        " WHERE s.site_id = %s AND s.opened_at <= %s AND s.opened_at > %s"
        " AND NOT EXISTS (SELECT 1 FROM shift_closures c WHERE c.shift_id = s.id)",
        (site.id, now, now - timedelta(days=2)),
    )
    row = await cur.fetchone()
    since = row[0] if row and row[0] else now - FLOOR_LOOKBACK
    end = now + timedelta(microseconds=1)
    loaded = await load(conn, site, since, end, end, with_training=False)
    return FloorFacts(loaded, since, end)


def _people(names: Mapping[int, str], ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"person_id": int(i), "name": names.get(int(i))} for i in ids]


def floor_body(facts: FloorFacts, now: datetime) -> dict[str, Any]:
    """Who is in DRC and which certified operators are on site now, and the violations
    since the oldest open shift began (each ``ongoing`` or not)."""
    loaded, end = facts.loaded, facts.end
    site = loaded.site
    report = check(loaded.scenario)
    last = report.coverage[-1]
    names = dict(loaded.names)
    open_findings = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "basis": f.basis,
            "start": f.start.astimezone(UTC).isoformat(),
            "end": f.end.astimezone(UTC).isoformat(),
            "ongoing": f.end >= end,
            "operators": _people(names, f.operators),
            "entries": [int(e) for e in f.entries if e.isdigit()],
            "message": f.message,
            "citation": f.citation,
        }
        for f in report.findings
        if f.severity == "violation"
    ]
    ongoing = {f["rule"] for f in open_findings if f["ongoing"]}
    # Whoever holds charge now is named by an ongoing finding only if no one on site
    # qualifies (a grade rule of their role, issue 15 step 4).
    in_charge_unqualified = any(
        f.end >= end and f.severity == "violation" and set(f.operators) & set(last.drc)
        for f in report.findings
    )
    return {
        "site": {"id": site.id, "code": site.code, "name": site.name},
        "at": now,
        "since": facts.since,
        "rules": report.rules,
        "facility_class": report.class_spans[-1].facility_class,
        "required": report.class_spans[-1].required,
        "shifts_open": [int(s) for s in last.shifts],
        "drc": _people(names, last.drc),
        "on_site": _people(names, last.on_site),
        "certified_on_site": _people(names, last.certified_on_site),
        # "Is coverage in order right now": someone qualified in charge, on site.
        "in_order": bool(last.shifts)
        and not ongoing & {DRC_MISSING, DRC_UNQUALIFIED}
        and not in_charge_unqualified
        and bool(last.certified_on_site),
        "findings": open_findings,
    }

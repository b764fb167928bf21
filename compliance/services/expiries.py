"""The expiry list: per person on a facility's crews, certificates expiring (or lately
expired) within the facility's horizon and renewal training hours short, most urgent first.

The ``/expiries`` endpoint answers it and the chief's page shows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from compliance.adapter import (
    Site,
    facility_from,
    operators_from,
    people_records,
    profile_versions,
    profiles_in_force,
    version_at,
)
from compliance.engine import check
from compliance.model import Period, Scenario
from compliance.rulesets import CERTIFICATE_EXPIRING, RENEWAL_TRAINING

# Whose records the expiry list covers: crew of the facility's shifts this recently.
EXPIRY_CREW_SINCE = timedelta(days=400)


async def expiry_report(
    conn: psycopg.AsyncConnection[Any], site: Site, now: datetime
) -> dict[str, Any]:
    """The body of ``GET /expiries`` for a site at ``now`` (dates and times as Python
    values; ``ends`` already an ISO string in the facility's time). Raises ``NoProfile``."""
    versions = profiles_in_force(await profile_versions(conn, site.id))
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    fac = facility_from(site, versions, today)
    current = version_at(versions, today)
    cur = await conn.execute(
        "SELECT DISTINCT m.person_id FROM shift_crew m JOIN shifts s ON s.id = m.shift_id"
        " WHERE s.site_id = %s AND s.opened_at >= %s"
        " UNION SELECT person_id FROM operator_certificates WHERE facility_id = %s",
        (site.id, now - EXPIRY_CREW_SINCE, site.id),
    )
    crew_ids = sorted(r[0] for r in await cur.fetchall())
    names, cert_rows, train_rows, _ = await people_records(conn, crew_ids)
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
        if f.rule not in (CERTIFICATE_EXPIRING, RENEWAL_TRAINING):
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

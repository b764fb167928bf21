"""Helpers that record compliance facts through the API and read them back."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from tests.support.api import Api

SITE = "demo-wwtp"  # Utah, treatment, America/Denver (logbook/demo.py)


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


def recorder(username: str) -> str:
    """Who records ``username``'s certificate or level: the chief operator, or the admin
    for the chief (nobody records their own, issue 17)."""
    return "admin" if username == "chief" else "chief"


async def set_profile(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"effective_from": "2020-01-01", "class": "II", **fields}
    r = await api.post("chief", f"/api/compliance/facilities/{SITE}/profile", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def ut_term(expires: date | None = None) -> dict[str, str]:
    """``issued`` and ``expires`` of a Utah certificate: the longest term allowed, three
    years ending December 31 (R317-10-11 C), to ``expires`` (default: next year's end)."""
    last = expires or date(datetime.now(UTC).year + 1, 12, 31)
    return {"issued": date(last.year - 2, 1, 1).isoformat(), "expires": last.isoformat()}


async def certify(
    api: Api, username: str, grade: str = "II", expires: date | None = None, **fields: Any
) -> dict[str, Any]:
    body = {
        "person_id": await api.id(username),
        "state": "UT",
        "category": "treatment",
        "grade": grade,
        "kind": "full",
        "number": f"UT-{username}",
        **ut_term(expires),
        **fields,
    }
    r = await api.post(recorder(username), "/api/compliance/certificates", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def assess(
    api: Api,
    username: str,
    level: str,
    assessor: str = "chief",
    on: str = "2020-01-01",
    **fields: Any,
) -> dict[str, Any]:
    """Record ``username``'s competency level at the demo site, assessed by ``assessor``."""
    body = {
        "facility": SITE,
        "person_id": await api.id(username),
        "level": level,
        "assessed_on": on,
        "assessor_id": await api.id(assessor),
        **fields,
    }
    r = await api.post(recorder(username), "/api/compliance/levels", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def crew_shift(api: Api, crew: list[tuple[str, str]], opened: datetime) -> dict[str, Any]:
    """A shift opened by the chief at ``opened`` with (username, role) crew arrived then."""
    members = [
        {"person_id": await api.id(u), "shift_role": role, "arrived_at": opened.isoformat()}
        for u, role in crew
    ]
    return await api.open_shift("chief", crew=members, opened_at=opened.isoformat())


async def coverage(api: Api, start: datetime, end: datetime, who: str = "chief") -> Any:
    r = await api.get(
        who,
        "/api/compliance/coverage",
        facility=SITE,
        start=start.isoformat(),
        end=end.isoformat(),
        entries="true",
    )
    assert r.status_code == 200, r.text
    return r.json()


def rules_of(report: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in report["findings"]]


def audit_actions(db_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT action, actor FROM audit_log ORDER BY seq").fetchall()
    return [(r[0], r[1]) for r in rows]


def run_cli(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    """``clearwell ARGS`` in a child process against ``db_url`` (no other CLEARWELL_ env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

"""Who may do what where (issue 17, items 6 and 10): each finding of the issue as it was
found, through the HTTP API against the real database. The matrix's every cell is
``tests/core/test_access_matrix.py``'s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.support.api import PASSWORDS, Api

FAR = "far-wwtp"


def _far_site(api: Api) -> None:
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES (%s, 'Far WWTP', 'America/Denver', 'UT', 'treatment')",
            (FAR,),
        )


async def _crew(api: Api, **roles: str) -> list[dict[str, Any]]:
    return [{"person_id": await api.id(u), "shift_role": r} for u, r in roles.items()]


def _forbidden(api: Api) -> list[tuple[str, str]]:
    with psycopg.connect(api.db_url) as conn:
        got = conn.execute(
            "SELECT actor, detail->>'reason' FROM audit_log WHERE action = 'forbidden' ORDER BY seq"
        ).fetchall()
    return [(str(a), str(b)) for a, b in got]


async def test_a_trainee_records_only_their_own_departure(api: Api) -> None:
    """A trainee recorded the DRC's departure."""
    shift = await api.open_shift("chief", crew=await _crew(api, chief="drc", trainee="trainee"))
    crew = {c["shift_role"]: c["id"] for c in shift["crew"]}
    path = f"/api/shifts/{shift['id']}/crew/{{}}/departure"
    r = await api.post("trainee", path.format(crew["drc"]), {})
    assert r.status_code == 403, r.text
    assert _forbidden(api) == [
        ("trainee", "a trainee may record a crew member's departure only about themselves"
         " (crew.departure)")
    ]  # fmt: skip
    r = await api.post("trainee", path.format(crew["trainee"]), {})
    assert r.status_code == 200, r.text


async def test_a_trainee_amends_no_one_elses_entry_at_any_site(api: Api) -> None:
    """A trainee amended another person's entry on a signed shift at another site."""
    _far_site(api)
    r = await api.post(
        "admin",
        "/api/shifts",
        {"site": FAR, "label": "day", "crew": await _crew(api, operator="operator")},
    )
    assert r.status_code == 201, r.text
    far_shift = r.json()["id"]
    r = await api.post(
        "admin", f"/api/people/{await api.id('operator')}/sites", {"site": FAR, "member": True}
    )
    assert r.status_code == 200, r.text
    note = {"kind": "note", "data": {"text": "at the far plant"}}
    r = await api.post("operator", "/api/entries", {**note, "shift_id": far_shift})
    assert r.status_code == 201, r.text
    far_entry = r.json()["id"]
    for step in ("close", "sign"):
        body = {"password": PASSWORDS["operator"]} if step == "sign" else {}
        r = await api.post("operator", f"/api/shifts/{far_shift}/{step}", body)
        assert r.status_code in (200, 201), r.text
    amend = {"target": "entry", "changes": {"data": {"text": "rewritten"}}, "reason": "typo"}
    r = await api.post("trainee", "/api/amendments", {**amend, "target_id": far_entry})
    assert r.status_code == 403, r.text
    # Nor at the trainee's own site, someone else's entry; their own, yes.
    here = await api.open_shift("chief", crew=await _crew(api, chief="drc", trainee="trainee"))
    theirs = await api.post("chief", "/api/entries", {**note, "shift_id": here["id"]})
    mine = await api.post("trainee", "/api/entries", {**note, "shift_id": here["id"]})
    r = await api.post("trainee", "/api/amendments", {**amend, "target_id": theirs.json()["id"]})
    assert r.status_code == 403, r.text
    r = await api.post("trainee", "/api/amendments", {**amend, "target_id": mine.json()["id"]})
    assert r.status_code == 201, r.text


async def test_an_amendment_keeps_the_backdate_limit_creating_keeps(api: Api) -> None:
    """An amendment moved an entry's time to 1900 (creating one keeps a 24 h limit)."""
    shift = await api.open_shift("operator")
    r = await api.entry("operator", shift["id"], "note", {"text": "pump 2 restarted"})
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    for when in ("1900-01-01T00:00:00+00:00", datetime.now(UTC) - timedelta(hours=25)):
        at = when if isinstance(when, str) else when.isoformat()
        r = await api.post(
            "operator",
            "/api/amendments",
            {
                "target": "entry",
                "target_id": entry,
                "changes": {"occurred_at": at},
                "reason": "wrong time",
            },
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "changes", "occurred_at"]
        assert "the limit this site sets" in r.text
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": entry,
            "changes": {"occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat()},
            "reason": "wrong time",
        },
    )
    assert r.status_code == 201, r.text


async def test_a_chief_grants_themselves_no_certificate_or_level(api: Api) -> None:
    """A chief gave himself a grade IV certificate."""
    chief = await api.id("chief")
    year = datetime.now(UTC).year
    certificate = {
        "person_id": chief,
        "state": "UT",
        "category": "treatment",
        "grade": "IV",
        "kind": "full",
        "number": "UT-self",
        "issued": f"{year - 1}-01-01",
        "expires": f"{year + 1}-12-31",
    }
    r = await api.post("chief", "/api/compliance/certificates", certificate)
    assert r.status_code == 403, r.text
    assert "about themselves" in r.json()["detail"]
    level = {
        "facility": "demo-wwtp",
        "person_id": chief,
        "level": "advanced",
        "assessed_on": "2024-01-01",
        "assessor_id": chief,
    }
    r = await api.post("chief", "/api/compliance/levels", level)
    assert r.status_code == 403, r.text
    training = {"person_id": chief, "date": "2025-03-01", "hours": 6, "online": True}
    r = await api.post("chief", "/api/compliance/training", training)
    assert r.status_code == 403, r.text
    # For someone of their site, yes; the admin, for the chief, yes.
    r = await api.post(
        "chief",
        "/api/compliance/certificates",
        {**certificate, "person_id": await api.id("operator"), "number": "UT-op"},
    )
    assert r.status_code == 201, r.text
    r = await api.post("admin", "/api/compliance/certificates", certificate)
    assert r.status_code == 201, r.text


async def test_a_password_session_acts_only_at_the_persons_sites(api: Api) -> None:
    """An operator of site A opened, wrote to, closed and signed a shift at site B."""
    _far_site(api)
    crew = await _crew(api, operator="operator")
    r = await api.post("operator", "/api/shifts", {"site": FAR, "label": "day", "crew": crew})
    assert r.status_code == 403, r.text
    r = await api.post("admin", "/api/shifts", {"site": FAR, "label": "day", "crew": crew})
    assert r.status_code == 201, r.text
    far = r.json()["id"]
    note = {"kind": "note", "data": {"text": "x"}}
    r = await api.post("operator", "/api/entries", {**note, "shift_id": far})
    assert r.status_code == 403, r.text
    r = await api.post("operator", f"/api/shifts/{far}/close", {})
    assert r.status_code == 403, r.text
    r = await api.post("admin", f"/api/shifts/{far}/close", {})
    assert r.status_code == 200, r.text
    r = await api.post("operator", f"/api/shifts/{far}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 403, r.text
    assert (await api.get("operator", f"/api/shifts/{far}")).status_code == 403
    assert all(reason.endswith(")") for _, reason in _forbidden(api))
    # Once the admin says they belong there, they may.
    r = await api.post(
        "admin", f"/api/people/{await api.id('operator')}/sites", {"site": FAR, "member": True}
    )
    assert r.status_code == 200 and r.json()["sites"] == ["demo-wwtp", FAR]
    r = await api.post("operator", f"/api/shifts/{far}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 201, r.text


async def test_samples_and_shifts_refuse_implausible_years(api: Api) -> None:
    """Item 10: samples accepted years 1900 and 2099, shifts 1970."""
    shift = await api.open_shift("operator")
    sample = {
        "site": "demo-wwtp",
        "shift_id": shift["id"],
        "sample_point": "final effluent",
        "sample_type": "grab",
        "sampled_by": [await api.id("operator")],
    }
    for year in (1900, 2099):
        r = await api.post(
            "operator", "/api/samples", {**sample, "sampled_at": f"{year}-06-01T08:00:00+00:00"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "sampled_at"]
    r = await api.post(
        "operator",
        "/api/shifts",
        {
            "site": "demo-wwtp",
            "label": "night",
            "opened_at": "1970-01-01T00:00:00+00:00",
            "crew": await _crew(api, operator="operator"),
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "opened_at"]

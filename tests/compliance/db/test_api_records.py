"""Certificates, training and profiles: append-only writes, audit, roles, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from tests.compliance.db.helpers import SITE, audit_actions, certify, set_profile
from tests.support.api import Api


async def test_writes_are_audited_and_tables_append_only(api: Api) -> None:
    await set_profile(api)
    await certify(api, "operator")
    r = await api.post(
        "chief",
        "/api/compliance/training",
        {"person_id": await api.id("operator"), "date": "2025-03-01", "hours": 6, "online": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["hours"] == 6.0 and r.json()["date"] == "2025-03-01"
    actions = [a for a, _ in audit_actions(api.db_url) if a.startswith("compliance.")]
    assert actions == [
        "compliance.profile_set",
        "compliance.certificate_add",
        "compliance.training_add",
    ]
    for statement in (
        "UPDATE operator_certificates SET grade = 'IV'",
        "UPDATE operator_training SET hours = 60",
        "UPDATE facility_profiles SET note = 'edited'",
        "DELETE FROM operator_certificates",
        "TRUNCATE operator_certificate_retractions",
        "TRUNCATE operator_training_retractions",
    ):
        # As the tables' owner: the triggers refuse even those who may.
        with psycopg.connect(api.owner_url) as conn:
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)


async def test_correction_supersedes_and_retraction_withdraws(api: Api) -> None:
    first = await certify(api, "operator", grade="I")
    fixed = await certify(api, "operator", grade="II", supersedes=first["id"])
    r = await api.get("chief", "/api/compliance/certificates", person=await api.id("operator"))
    assert [c["id"] for c in r.json()["items"]] == [fixed["id"]]
    # Superseding the same row twice is refused: the chain of corrections is linear.
    again = {**fixed, "supersedes": first["id"]}
    r = await api.post(
        "chief",
        "/api/compliance/certificates",
        {
            k: again[k]
            for k in ("person_id", "state", "category", "grade", "kind", "issued", "expires")
        }
        | {"supersedes": first["id"]},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "supersedes"]
    r = await api.post(
        "chief",
        f"/api/compliance/certificates/{fixed['id']}/retract",
        {"reason": "entered for the wrong person"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["in_force"] is False
    r = await api.get("chief", "/api/compliance/certificates", person=await api.id("operator"))
    assert r.json()["items"] == []
    r = await api.get(
        "chief",
        "/api/compliance/certificates",
        person=await api.id("operator"),
        all_versions="true",
    )
    assert len(r.json()["items"]) == 2


@pytest.mark.parametrize(
    ("path", "noun", "missing"),
    [
        ("certificates", "certificate", "certificate"),
        ("training", "training", "training record"),
    ],
)
async def test_a_record_is_retracted_once_by_a_supervisor(
    api: Api, path: str, noun: str, missing: str
) -> None:
    """Certificates and training records retract alike: 422 for a blank reason, 403 for
    an operator, 200 once (audited), then 409; an unknown record is a 404."""
    person = await api.id("operator")
    if noun == "certificate":
        ident = (await certify(api, "operator"))["id"]
    else:
        r = await api.post(
            "chief",
            "/api/compliance/training",
            {"person_id": person, "date": "2025-03-01", "hours": 6},
        )
        assert r.status_code == 201, r.text
        ident = r.json()["id"]
    url = f"/api/compliance/{path}/{ident}/retract"

    r = await api.post("chief", url, {"reason": "   "})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "reason"]
    assert r.json()["detail"][0]["msg"] == "must not be blank"
    r = await api.post("operator", url, {"reason": "entered twice"})
    assert r.status_code == 403, r.text

    r = await api.post("chief", url, {"reason": "entered twice"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["id"], out["in_force"], out["retraction_reason"]) == (
        ident,
        False,
        "entered twice",
    )
    assert out["retracted_at"] is not None
    r = await api.post("chief", url, {"reason": "entered twice"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == f"{noun} {ident} is retracted"
    r = await api.post("chief", f"/api/compliance/{path}/999999/retract", {"reason": "gone"})
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == f"{missing} 999999 not found"

    actions = [a for a in audit_actions(api.db_url) if a[0] == f"compliance.{noun}_retract"]
    assert actions == [(f"compliance.{noun}_retract", "chief")]
    r = await api.get("chief", f"/api/compliance/{path}", person=person)
    assert r.json()["items"] == []
    r = await api.get("chief", f"/api/compliance/{path}", person=person, all_versions="true")
    assert [item["id"] for item in r.json()["items"]] == [ident]


async def test_regulator_reads_but_cannot_write(api: Api) -> None:
    await set_profile(api)
    await certify(api, "operator")
    body = {
        "person_id": await api.id("operator"),
        "state": "UT",
        "category": "treatment",
        "grade": "III",
        "issued": "2024-01-01",
        "expires": "2026-12-31",
    }
    r = await api.post("regulator", "/api/compliance/certificates", body)
    assert r.status_code == 403
    r = await api.post(
        "regulator", f"/api/compliance/facilities/{SITE}/profile", {"effective_from": "2021-01-01"}
    )
    assert r.status_code == 403
    assert [a for a in audit_actions(api.db_url) if a == ("forbidden", "regulator")] == [
        ("forbidden", "regulator")
    ] * 2
    r = await api.get("regulator", "/api/compliance/certificates")
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    now = datetime.now(UTC)
    r = await api.get(
        "regulator",
        "/api/compliance/coverage",
        facility=SITE,
        start=(now - timedelta(days=1)).isoformat(),
        end=now.isoformat(),
    )
    assert r.status_code == 200, r.text
    # Operators see their own records only, and not the facility's report.
    r = await api.get("operator", "/api/compliance/certificates")
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    r = await api.get("operator", "/api/compliance/certificates", person=await api.id("chief"))
    assert r.status_code == 403
    r = await api.get(
        "operator",
        "/api/compliance/coverage",
        facility=SITE,
        start=(now - timedelta(days=1)).isoformat(),
        end=now.isoformat(),
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("change", "loc", "says"),
    [
        ({"grade": "VII"}, ["body", "grade"], "not a grade"),
        ({"grade": "3A"}, ["body", "grade"], "New York"),
        ({"expires": "2019-12-31"}, ["body", "expires"], "before issued"),
        ({"kind": "provisional"}, ["body", "kind"], "UT issues"),
        ({"kind": "grandfather"}, ["body", "facility"], "grandfather"),
        ({"person_id": 999999}, ["body", "person_id"], "no person"),
        ({"state": "CA"}, ["body", "state"], "'UT', 'VT' or 'NY'"),
        ({"legacy_grade": "IIA", "grade": None}, ["body", "legacy_grade"], "New York"),
    ],
)
async def test_certificate_validation_names_the_field(
    api: Api, change: dict[str, object], loc: list[str], says: str
) -> None:
    body = {
        "person_id": await api.id("operator"),
        "state": "UT",
        "category": "treatment",
        "grade": "II",
        "issued": "2024-01-01",
        "expires": "2026-12-31",
        **change,
    }
    r = await api.post("chief", "/api/compliance/certificates", body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"][: len(loc)] == loc
    assert says in detail["msg"]


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        ({"class": "VI"}, ["body", "class"], "grade"),
        ({"class": "II", "points": 40}, ["body", "class"], "exactly one"),
        ({"points": {"design_flow_mgd": 1}}, ["body", "points"], "population_equivalent"),
        (
            {"points": {"population_equivalent": 900, "design_flow_mgd": 1, "processes": ["x"]}},
            ["body", "points", "processes", "0"],
            "must be one of",
        ),
        ({"rules": "VT", "points": 40}, ["body", "points"], "Appendix A"),
        ({"class": "II", "activated_sludge": True}, ["body", "activated_sludge"], "New York"),
        (
            {"class": "II", "expiry_horizon_days": -1},
            ["body", "expiry_horizon_days"],
            "greater than or equal to 0",
        ),
        (
            {"class": "II", "wastewater_type": "industrial"},
            ["body", "wastewater_type"],
            "UT facilities have no industrial type",
        ),
        (
            {"class": "II", "employed_operators": 0},
            ["body", "employed_operators"],
            "greater than or equal to 1",
        ),
        (
            {"class": "II", "laboratory_reading": "both"},
            ["body", "laboratory_reading"],
            "'ladder' or 'sum'",
        ),
        (
            {
                "points": {
                    "population_equivalent": 900,
                    "design_flow_mgd": 1,
                    "laboratory_reading": "sum",
                },
                "laboratory_reading": "ladder",
            },
            ["body", "laboratory_reading"],
            "points says sum",
        ),  # fmt: skip
        ({"class": "II", "rating_changes": ["soon"]}, ["body", "rating_changes", 0], "date"),
    ],
)
async def test_profile_validation_names_the_field(
    api: Api, body: dict[str, object], loc: list[str], says: str
) -> None:
    r = await api.post(
        "chief",
        f"/api/compliance/facilities/{SITE}/profile",
        {"effective_from": "2020-01-01", **body},
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == loc
    assert says in detail["msg"]


async def test_query_validation(api: Api) -> None:
    now = datetime.now(UTC)
    r = await api.get(
        "chief",
        "/api/compliance/coverage",
        facility=SITE,
        start=now.isoformat(),
        end=(now - timedelta(hours=1)).isoformat(),
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "end"]
    r = await api.get(
        "chief", "/api/compliance/coverage", facility=SITE, start="yesterday", end=now.isoformat()
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "start"]


async def test_profile_versions_and_utah_points(api: Api) -> None:
    plant = {
        "population_equivalent": 42000,
        "design_flow_mgd": 4.2,
        "processes": ["screening", "grit_removal", "clarifiers", "activated_sludge"],
        "disinfection": ["uv"],
    }
    await set_profile(api, effective_from="2020-01-01", **{"class": "I"})
    await set_profile(api, effective_from="2024-07-01", **{"class": None, "points": plant})
    # A correction of the 2020 version (same effective date) replaces it.
    body = await set_profile(api, effective_from="2020-01-01", **{"class": "III"})
    assert [v["classification"]["class"] for v in body["versions"]] == ["III", "II"]
    assert body["current"]["effective_from"] == "2024-07-01"
    pts = body["current"]["classification"]
    assert pts["points"] == 5 + 5 + 3 + 3 + 5 + 15 + 5  # Table 1: 31-55 is class II
    assert any(line["item"] == "Activated sludge" for line in pts["breakdown"])
    assert [h["in_force"] for h in body["history"]] == [False, True, True]
    r = await api.get("operator", f"/api/compliance/facilities/{SITE}/profile")
    assert r.status_code == 200 and r.json() == body
    r = await api.get("operator", "/api/compliance/facilities/nowhere/profile")
    assert r.status_code == 404


async def test_profile_fields_of_issue_15(api: Api) -> None:
    """UT Table 2 laboratory control read as a ladder by default, or summed (the older
    reading, stated); the roster and rating changes kept with the version."""
    plant = {
        "population_equivalent": 42000,
        "design_flow_mgd": 4.2,
        "processes": ["screening", "grit_removal", "clarifiers", "activated_sludge"],
        "laboratory": {"chemical": ["push_button", "additional"]},
    }
    fields = {"class": None, "points": plant, "employed_operators": 1}
    ladder = (await set_profile(api, **fields))["current"]
    summed = (await set_profile(api, laboratory_reading="sum", **fields))["current"]
    assert ladder["laboratory_reading"] == "ladder" and summed["laboratory_reading"] == "sum"
    assert summed["classification"]["points"] - ladder["classification"]["points"] == 3
    body = await set_profile(api, rating_changes=["2025-06-01"], note="rating", **fields)
    current = body["current"]
    assert (current["employed_operators"], current["rating_changes"]) == (1, ["2025-06-01"])
    assert current["wastewater_type"] == "domestic"
    vt = await set_profile(api, rules="VT", wastewater_type="industrial", **{"class": "2"})
    assert vt["current"]["wastewater_type"] == "industrial"


async def test_expiries_most_urgent_first(api: Api) -> None:
    # New York's seed sets no term, so a certificate may end on any day (Utah's end on a
    # December 31, R317-10-11 C).
    await set_profile(api, rules="NY", expiry_horizon_days=120, **{"class": "2"})
    today = datetime.now(UTC).date()
    ny = {"state": "NY", "issued": "2020-01-01"}
    await certify(api, "chief", "2", expires=today + timedelta(days=100), **ny)
    await certify(api, "operator", "2", expires=today + timedelta(days=20), **ny)
    await certify(api, "trainee", "2", expires=date(today.year + 5, 12, 31), **ny)
    shift_crew = [("chief", "drc"), ("operator", "operator"), ("trainee", "trainee")]
    members = [{"person_id": await api.id(u), "shift_role": r} for u, r in shift_crew]
    await api.open_shift("chief", crew=members)
    r = await api.get("chief", "/api/compliance/expiries", facility=SITE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["horizon_days"] == 120
    assert [p["person_id"] for p in body["items"]] == [
        await api.id("operator"),
        await api.id("chief"),
    ]
    # New York judges renewal training too (Table 3): no training is on record.
    findings = body["items"][0]["findings"]
    assert {f["rule"] for f in findings} == {"certificate-expiring", "renewal-training"}
    first = next(f for f in findings if f["rule"] == "certificate-expiring")
    assert 19 < first["days_left"] < 22
    r = await api.get("operator", "/api/compliance/expiries", facility=SITE)
    assert r.status_code == 403

"""Competency levels and the site's policy through the API (seed 000, a site policy): who
records and reads them, what is refused, corrections as new rows, and what the engine then
finds in the live record (issue 15)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.compliance.db.helpers import (
    SITE,
    ago,
    assess,
    audit_actions,
    certify,
    coverage,
    crew_shift,
    set_profile,
)
from tests.support.api import PASSWORDS, Api

POLICY = f"/api/compliance/facilities/{SITE}/competency-policy"


def policy_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["basis"] == "site policy"]


async def test_no_level_on_record_counts_as_emerging(api: Api) -> None:
    """issue 15: an operator with no level on record, a reading without verification ->
    countersign-missing (site policy). The same operator assessed developing -> none."""
    await set_profile(api)
    await certify(api, "chief")
    await certify(api, "operator")
    await assess(api, "chief", "advanced", assessor="admin")
    opened = ago(hours=2)
    shift = await crew_shift(api, [("chief", "drc"), ("operator", "operator")], opened)
    r = await api.entry(
        "operator", shift["id"], "reading", {"instrument": "pH", "value": 7.0, "unit": "pH"}
    )
    assert r.status_code == 201, r.text

    (finding,) = policy_findings(await coverage(api, opened, ago(seconds=-60)))
    assert (finding["rule"], finding["severity"]) == ("countersign-missing", "policy")
    assert finding["entries"] == [str(r.json()["id"])]
    assert "with no level on record (emerging)" in finding["message"]
    assert "the site's competency policy, not a state rule" in finding["message"]
    assert finding["citation"].startswith("Competency framework 51-8031.00 (site policy)")

    await assess(api, "operator", "developing")
    assert policy_findings(await coverage(api, opened, ago(seconds=-60))) == []


async def test_direct_supervision_needs_the_verifier_on_site(api: Api) -> None:
    """issue 15: a trainee's chemical addition verified by a proficient certified operator
    who had left -> supervision-missing; the trainee's reading verified later -> none."""
    await set_profile(api)
    await certify(api, "chief")
    await certify(api, "operator")
    await assess(api, "chief", "advanced", assessor="admin")
    await assess(api, "operator", "proficient")
    opened = ago(hours=3)
    shift = await crew_shift(
        api, [("chief", "drc"), ("operator", "operator"), ("trainee", "trainee")], opened
    )
    chief_crew = next(c["id"] for c in shift["crew"] if c["shift_role"] == "drc")
    r = await api.post(
        "chief",
        f"/api/shifts/{shift['id']}/crew/{chief_crew}/departure",
        {"left_at": ago(hours=2).isoformat()},
    )
    assert r.status_code == 200, r.text
    dose = await api.entry(
        "trainee",
        shift["id"],
        "chemical_addition",
        {"chemical": "NaOCl", "amount": 5, "unit": "gal", "feed_point": "CCT"},
        occurred_at=ago(hours=1).isoformat(),
    )
    reading = await api.entry(
        "trainee",
        shift["id"],
        "reading",
        {"instrument": "pH", "value": 7.0, "unit": "pH"},
        occurred_at=ago(hours=1).isoformat(),
    )
    for entry in (dose, reading):
        assert entry.status_code == 201, entry.text
        r = await api.post(
            "chief",
            f"/api/entries/{entry.json()['id']}/countersign",
            {"password": PASSWORDS["chief"]},
        )
        assert r.status_code == 201, r.text

    (finding,) = policy_findings(await coverage(api, opened, ago(seconds=-60)))
    assert finding["rule"] == "supervision-missing"
    assert finding["entries"] == [str(dose.json()["id"])]
    assert "not on site at its time" in finding["message"]
    assert "Chemical addition procedures" in finding["citation"]


async def test_samples_and_results_want_direct_supervision(api: Api) -> None:
    """Sampling and lab work below developing want a verifier on site (the framework's
    "under direct supervisor guidance", "under close oversight")."""
    await set_profile(api)
    await certify(api, "chief")
    await assess(api, "chief", "advanced", assessor="admin")
    opened = ago(hours=3)
    await crew_shift(api, [("chief", "drc"), ("trainee", "trainee")], opened)
    ids = []
    for minutes in (150, 120):
        r = await api.post(
            "trainee",
            "/api/samples",
            {
                "site": SITE,
                "sample_point": "final effluent",
                "sample_type": "grab",
                "sampled_at": ago(minutes=minutes).isoformat(),
                "sampled_by": [await api.id("trainee")],
            },
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await api.post(
        "trainee",
        f"/api/samples/{ids[1]}/results",
        {
            "analyte": "TSS",
            "method": "SM 2540 D",
            "analyzed_at": ago(minutes=90).isoformat(),
            "analyst_id": await api.id("trainee"),
            "value": 4.0,
            "unit": "mg/L",
        },
    )
    assert r.status_code == 201, r.text
    result_id = r.json()["results"][0]["id"]
    # The chief, on site then, verifies the first sample's collection only.
    r = await api.post(
        "chief", f"/api/samples/{ids[0]}/countersign", {"password": PASSWORDS["chief"]}
    )
    assert r.status_code == 201, r.text

    report = await coverage(api, opened, ago(seconds=-60))
    by_entry = {e: f for f in policy_findings(report) for e in f["entries"]}
    assert set(by_entry) == {f"sample-{ids[1]}", f"result-{result_id}"}
    assert all(f["rule"] == "supervision-missing" for f in by_entry.values())
    assert "Water and sewage samples" in by_entry[f"sample-{ids[1]}"]["citation"]
    assert "Test equipment and color analysis" in by_entry[f"result-{result_id}"]["citation"]
    assert f"sample-{ids[0]}" in {e["id"] for e in report["entries"]}


# --- levels: the API ------------------------------------------------------------------


async def test_levels_roles_and_reading(api: Api) -> None:
    await assess(api, "operator", "developing")
    r = await api.post(
        "admin",
        "/api/compliance/levels",
        {
            "facility": SITE,
            "person_id": await api.id("trainee"),
            "level": "emerging",
            "assessed_on": "2024-05-01",
            "assessor_id": await api.id("chief"),
            "note": "first month",
        },
    )
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["assessor"]) == ("Tess Trainee (demo)", "Casey Chief (demo)")
    body = {
        "facility": SITE,
        "person_id": await api.id("operator"),
        "level": "advanced",
        "assessed_on": "2024-05-01",
        "assessor_id": await api.id("chief"),
    }
    for who in ("operator", "trainee", "regulator"):
        r = await api.post(who, "/api/compliance/levels", body)
        assert r.status_code == 403, (who, r.text)
    # Auditors read everyone's; a person reads their own, not another's.
    r = await api.get("regulator", "/api/compliance/levels", facility=SITE)
    assert r.status_code == 200
    assert [i["name"] for i in r.json()["items"]] == ["Oli Operator (demo)", "Tess Trainee (demo)"]
    r = await api.get("operator", "/api/compliance/levels", facility=SITE)
    assert [i["person_id"] for i in r.json()["items"]] == [await api.id("operator")]
    (current,) = r.json()["current"]
    assert (current["level"], current["on_record"], current["assessor"]) == (
        "developing",
        True,
        "Casey Chief (demo)",
    )
    r = await api.get(
        "operator", "/api/compliance/levels", facility=SITE, person=await api.id("trainee")
    )
    assert r.status_code == 403
    actions = [a for a, _ in audit_actions(api.db_url) if a.startswith("compliance.")]
    assert actions == ["compliance.level_add"] * 2


async def test_a_correction_is_a_new_row(api: Api) -> None:
    first = await assess(api, "operator", "advanced", on="2024-01-01")
    fixed = await assess(api, "operator", "developing", on="2024-01-01", supersedes=first["id"])
    assert fixed["supersedes"] == first["id"]
    r = await api.get("chief", "/api/compliance/levels", facility=SITE)
    assert [i["id"] for i in r.json()["items"]] == [fixed["id"]]
    assert r.json()["current"][0]["level"] == "developing"
    r = await api.get("chief", "/api/compliance/levels", facility=SITE, all_versions="true")
    assert [(i["id"], i["in_force"]) for i in r.json()["items"]] == [
        (first["id"], False),
        (fixed["id"], True),
    ]
    r = await api.post("chief", POLICY, {"kinds": {}})
    assert r.status_code == 201, r.text
    for statement in (
        "UPDATE competency_assessments SET level = 'advanced'",
        "DELETE FROM competency_assessments",
        "UPDATE competency_policies SET note = 'x'",
    ):
        # As the tables' owner: the triggers refuse even those who may.
        with psycopg.connect(api.owner_url) as conn:
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)


@pytest.mark.parametrize(
    ("change", "loc", "says"),
    [
        ({"level": "expert"}, ["body", "level"], "'emerging', 'developing'"),
        ({"person_id": 999999}, ["body", "person_id"], "no person"),
        ({"assessor_id": 999999}, ["body", "assessor_id"], "no person"),
        ({"assessor": "operator"}, ["body", "assessor_id"], "someone else"),
        ({"assessed_on": "2999-01-01"}, ["body", "assessed_on"], "after today"),
        ({"facility": "nowhere"}, ["body", "facility"], "no facility"),
        ({"supersedes": 999999}, ["body", "supersedes"], "no assessment"),
        ({"supersedes": "trainee's"}, ["body", "supersedes"], "another person"),
        ({"supersedes": "twice"}, ["body", "supersedes"], "already superseded"),
    ],
)
async def test_level_validation_names_the_field(
    api: Api, change: dict[str, Any], loc: list[str], says: str
) -> None:
    trainees = await assess(api, "trainee", "emerging")
    mine = await assess(api, "operator", "developing")
    await assess(api, "operator", "proficient", supersedes=mine["id"])
    body: dict[str, Any] = {
        "facility": SITE,
        "person_id": await api.id("operator"),
        "level": "proficient",
        "assessed_on": "2024-05-01",
        "assessor_id": await api.id("chief"),
    }
    if change.get("assessor") == "operator":
        change = {"assessor_id": await api.id("operator")}
    elif change.get("supersedes") == "trainee's":
        change = {"supersedes": trainees["id"]}
    elif change.get("supersedes") == "twice":
        change = {"supersedes": mine["id"]}
    r = await api.post("chief", "/api/compliance/levels", {**body, **change})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == loc
    assert says in detail["msg"]


# --- the site's policy: the API --------------------------------------------------------


async def test_policy_show_set_and_back_to_the_default(api: Api) -> None:
    r = await api.get("operator", POLICY)
    assert r.status_code == 200
    shown = r.json()
    assert shown["default"] is True and shown["current"] is None
    kinds = {k["kind"]: k for k in shown["kinds"]}
    assert set(kinds) == {
        "reading", "note", "observation", "safety", "alarm_ack", "inspection",
        "chemical_addition", "sample", "lab_result", "maintenance", "cleaning",
        "process_adjustment",
    }  # fmt: skip
    assert (kinds["sample"]["unsupervised_from"], kinds["sample"]["below"]) == (
        "developing",
        "direct",
    )
    assert "Water and sewage samples" in kinds["sample"]["citation"]

    r = await api.post(
        "chief",
        POLICY,
        {"kinds": {"reading": {"unsupervised_from": "emerging"}, "note": {"below": "direct"}}},
    )
    assert r.status_code == 201, r.text
    kinds = {k["kind"]: k for k in r.json()["kinds"]}
    # A key left out keeps the default's.
    assert (kinds["reading"]["unsupervised_from"], kinds["reading"]["below"]) == (
        "emerging",
        "verify",
    )
    assert (kinds["note"]["unsupervised_from"], kinds["note"]["below"]) == ("developing", "direct")
    assert kinds["reading"]["changed"] and not kinds["sample"]["changed"]
    assert r.json()["current"]["kinds"]["reading"] == {
        "unsupervised_from": "emerging",
        "below": "verify",
    }

    # The policy judges: an operator with no level records readings unsupervised now.
    await set_profile(api)
    await certify(api, "chief")
    await assess(api, "chief", "advanced", assessor="admin")
    opened = ago(hours=1)
    shift = await crew_shift(api, [("chief", "drc"), ("operator", "operator")], opened)
    r = await api.entry(
        "operator", shift["id"], "reading", {"instrument": "pH", "value": 7.0, "unit": "pH"}
    )
    assert r.status_code == 201, r.text
    assert policy_findings(await coverage(api, opened, ago(seconds=-60))) == []

    r = await api.post("admin", POLICY, {"kinds": {}, "note": "back to the framework"})
    assert r.status_code == 201, r.text
    assert r.json()["default"] is False
    assert not any(k["changed"] for k in r.json()["kinds"])
    assert len(r.json()["history"]) == 2
    assert [f["rule"] for f in policy_findings(await coverage(api, opened, ago(seconds=-60)))] == [
        "countersign-missing"
    ]
    actions = [a for a, _ in audit_actions(api.db_url) if a == "compliance.policy_set"]
    assert len(actions) == 2


@pytest.mark.parametrize(
    ("kinds", "loc", "says"),
    [
        ({"readin": {"below": "verify"}}, ["body", "kinds", "readin"], "unknown entry kind"),
        (
            {"reading": {"unsupervised_from": "expert"}},
            ["body", "kinds", "reading", "unsupervised_from"],
            "'emerging', 'developing', 'proficient' or 'advanced'",
        ),
        ({"reading": {"below": "never"}}, ["body", "kinds", "reading", "below"], "'verify'"),
        ({"reading": {"level": "developing"}}, ["body", "kinds", "reading", "level"], "Extra"),
    ],
)
async def test_policy_validation_names_the_field(
    api: Api, kinds: dict[str, Any], loc: list[str], says: str
) -> None:
    r = await api.post("chief", POLICY, {"kinds": kinds})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == loc
    assert says in detail["msg"]


async def test_policy_roles(api: Api) -> None:
    for who in ("operator", "trainee", "regulator"):
        r = await api.post(who, POLICY, {"kinds": {}})
        assert r.status_code == 403, who
    r = await api.get("regulator", "/api/compliance/facilities/nowhere/competency-policy")
    assert r.status_code == 404

"""The adapter fills every field issue 15 added to the engine's input, from the records the
API writes: the facility's roster, rating changes, wastewater type; certificate types;
assessed levels and the site's policy (always, the default when none is recorded); entry
kinds and verifications; samples and results as the policy's kinds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from compliance.adapter import load, resolve_site
from compliance.competency import DEFAULT_POLICY, Assessment
from compliance.model import Scenario
from tests.compliance.db.helpers import (
    SITE,
    ago,
    assess,
    certify,
    coverage,
    crew_shift,
    set_profile,
)
from tests.support.api import PASSWORDS, Api


async def scenario(api: Api, start: datetime, end: datetime) -> Scenario:
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        site = await resolve_site(conn, SITE)
        return (await load(conn, site, start, end, datetime.now(UTC))).scenario


async def test_facility_roster_rating_changes_and_no_policy_is_the_default(api: Api) -> None:
    await set_profile(
        api, employed_operators=1, rating_changes=["2025-06-01", "2024-02-01"], note="roster"
    )
    await certify(api, "operator")
    await crew_shift(api, [("operator", "operator")], ago(hours=2))
    s = await scenario(api, ago(hours=2), ago(minutes=1))
    assert s.facility.employed_operators == 1
    assert s.facility.rating_changes == (date(2024, 2, 1), date(2025, 6, 1))
    assert s.facility.wastewater_type == "domestic"
    # Levels are always loaded: with no policy recorded, the default is the site's.
    assert s.competency is DEFAULT_POLICY
    operator = str(await api.id("operator"))
    (cert,) = next(op for op in s.operators if op.id == operator).certificates
    assert cert.type == "domestic"


async def test_vermont_types_from_the_profile_and_the_certificate(api: Api) -> None:
    """VT §3(a), §6(a): an industrial certificate at a domestic facility does not qualify
    its chief; at an industrial facility it does."""
    year = datetime.now(UTC).year
    await set_profile(api, rules="VT", wastewater_type="domestic", **{"class": "1"})
    r = await api.post(
        "admin",  # nobody records their own certificate (issue 17)
        "/api/compliance/certificates",
        {
            "person_id": await api.id("chief"),
            "state": "VT",
            "category": "treatment",
            "grade": "1",
            "type": "industrial",
            "issued": f"{year - 1}-03-01",
            "expires": f"{year + 3}-07-01",  # §6(c)(i): July 1, five years after the issue year
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "industrial"
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "chief")], opened)
    s = await scenario(api, opened, ago(minutes=1))
    assert s.facility.wastewater_type == "domestic"
    chief = str(await api.id("chief"))
    (cert,) = next(op for op in s.operators if op.id == chief).certificates
    assert cert.type == "industrial"
    report = await coverage(api, opened, ago(minutes=1))
    (finding,) = [f for f in report["findings"] if f["severity"] == "violation"]
    assert finding["rule"] == "chief-grade" and "industrial" in finding["message"]
    await set_profile(api, rules="VT", wastewater_type="industrial", **{"class": "1"})
    s = await scenario(api, opened, ago(minutes=1))
    assert s.facility.wastewater_type == "industrial"
    report = await coverage(api, opened, ago(minutes=1))
    assert [f for f in report["findings"] if f["severity"] == "violation"] == []


async def _sample(api: Api, who: str, at: datetime, analyst: str | None = None) -> dict[str, Any]:
    r = await api.post(
        who,
        "/api/samples",
        {
            "site": SITE,
            "sample_point": "final effluent",
            "sample_type": "grab",
            "sampled_at": at.isoformat(),
            "sampled_by": [await api.id(who)],
        },
    )
    assert r.status_code == 201, r.text
    if analyst is None:
        return dict(r.json())
    r = await api.post(
        analyst,
        f"/api/samples/{r.json()['id']}/results",
        {
            "analyte": "TSS",
            "method": "SM 2540 D",
            "analyzed_at": (at + timedelta(minutes=20)).isoformat(),
            "analyst_id": await api.id(analyst),
            "value": 4.0,
            "unit": "mg/L",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_levels_policy_entries_and_samples(api: Api) -> None:
    await set_profile(api)
    await certify(api, "chief")
    first = await assess(api, "operator", "developing", on="2024-01-01")
    fixed = await assess(api, "operator", "proficient", on="2024-01-01", supersedes=first["id"])
    r = await api.post(
        "chief",
        f"/api/compliance/facilities/{SITE}/competency-policy",
        {"kinds": {"reading": {"unsupervised_from": "proficient"}}},
    )
    assert r.status_code == 201, r.text
    opened = ago(hours=3)
    shift = await crew_shift(
        api, [("chief", "drc"), ("operator", "operator"), ("trainee", "trainee")], opened
    )
    reading = await api.entry(
        "trainee",
        shift["id"],
        "reading",
        {"instrument": "effluent pH", "value": 7.2, "unit": "pH"},
        occurred_at=ago(hours=2).isoformat(),
    )
    assert reading.status_code == 201, reading.text
    r = await api.post(
        "chief",
        f"/api/entries/{reading.json()['id']}/countersign",
        {"password": PASSWORDS["chief"]},
    )
    assert r.status_code == 201, r.text
    sample = await _sample(api, "trainee", ago(hours=1, minutes=30), analyst="operator")
    r = await api.post(
        "chief", f"/api/samples/{sample['id']}/countersign", {"password": PASSWORDS["chief"]}
    )
    assert r.status_code == 201, r.text
    signed_at = datetime.fromisoformat(r.json()["countersignature"]["signed_at"])

    s = await scenario(api, opened, ago(seconds=-60))

    chief, operator, trainee = [str(await api.id(u)) for u in ("chief", "operator", "trainee")]
    op = next(o for o in s.operators if o.id == operator)
    # Both rows, the correction naming the row it supersedes (the engine drops that one).
    assert op.assessments == (
        Assessment("developing", date(2024, 1, 1), chief, "", str(first["id"])),
        Assessment("proficient", date(2024, 1, 1), chief, "", str(fixed["id"]), str(first["id"])),
    )
    assert s.competency is not None
    assert s.competency.rule("reading").unsupervised_from == "proficient"
    assert s.competency.rule("chemical_addition") == DEFAULT_POLICY.rule("chemical_addition")
    by_kind = {e.kind: e for e in s.entries}
    assert list(by_kind) == ["reading", "sample", "lab_result"]
    read = by_kind["reading"]
    assert (read.id, read.author, read.countersigned_by) == (
        str(reading.json()["id"]),
        trainee,
        chief,
    )
    assert read.countersigned_at is not None and read.countersigned_at > read.time
    taken = by_kind["sample"]
    assert (taken.id, taken.author, taken.countersigned_by) == (
        f"sample-{sample['id']}",
        trainee,
        chief,
    )
    assert taken.countersigned_at == signed_at
    assert taken.time == datetime.fromisoformat(sample["sampled_at"])
    result = by_kind["lab_result"]
    assert (result.id, result.author, result.countersigned_by) == (
        f"result-{sample['results'][0]['id']}",
        operator,
        None,
    )
    assert result.time == taken.time + timedelta(minutes=20)


async def test_amended_sample_and_result_times_and_analyst(api: Api) -> None:
    """The times (and a result's analyst) the engine sees are the amended ones."""
    await set_profile(api)
    sample = await _sample(api, "operator", ago(hours=5), analyst="operator")
    rid = sample["results"][0]["id"]
    for target, ident, changes in (
        ("sample", sample["id"], {"sampled_at": ago(hours=2).isoformat()}),
        (
            "result",
            rid,
            {"analyzed_at": ago(hours=1).isoformat(), "analyst_id": await api.id("operator2")},
        ),
    ):
        r = await api.post(
            "operator",
            "/api/amendments",
            {"target": target, "target_id": ident, "changes": changes, "reason": "wrong time"},
        )
        assert r.status_code == 201, r.text
    s = await scenario(api, ago(hours=3), ago(minutes=1))
    assert [(e.id, e.author) for e in s.entries] == [
        (f"sample-{sample['id']}", str(await api.id("operator"))),
        (f"result-{rid}", str(await api.id("operator2"))),
    ]
    # Where they were first recorded, nothing is left.
    assert (await scenario(api, ago(hours=6), ago(hours=4))).entries == ()

"""A sample's collection and each of its results verified as a trainee's entry is
countersigned: by an operator or chief operator who did not take, analyse or record it,
re-entering their password, once, bound to the record's sha256, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from logbook.canonical import content_hash
from tests.support.api import PASSWORDS, Api


async def _sample(api: Api, sampler: str = "trainee") -> dict[str, Any]:
    """A grab sample taken by ``sampler`` (recorded by them) with a result the operator
    analysed and recorded."""
    taken = datetime.now(UTC) - timedelta(hours=2)
    r = await api.post(
        sampler,
        "/api/samples",
        {
            "site": "demo-wwtp",
            "sample_point": "final effluent",
            "sample_type": "grab",
            "sampled_at": taken.isoformat(),
            "sampled_by": [await api.id(sampler)],
        },
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        "operator",
        f"/api/samples/{r.json()['id']}/results",
        {
            "analyte": "TSS",
            "method": "SM 2540 D",
            "analyzed_at": (taken + timedelta(hours=1)).isoformat(),
            "analyst_id": await api.id("operator"),
            "value": 4.0,
            "unit": "mg/L",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _countersign(api: Api, who: str, sample_id: int, **extra: Any) -> Any:
    body = {"password": PASSWORDS[who], **extra}
    return await api.post(who, f"/api/samples/{sample_id}/countersign", body)


async def test_the_collection_and_a_result_are_countersigned_once(api: Api) -> None:
    sample = await _sample(api)
    sid, rid = sample["id"], sample["results"][0]["id"]
    assert sample["countersignature"] is None
    assert sample["results"][0]["countersignature"] is None

    r = await _countersign(api, "chief", sid)
    assert r.status_code == 201, r.text
    signed = r.json()["countersignature"]
    assert signed["person_id"] == await api.id("chief")
    # The sha256 of the sample as it read when verified.
    fields = (
        "id", "sample_point", "sample_type", "sampled_at", "composite_start", "composite_end",
        "composite_kind", "container", "preservation", "notes", "sampled_by", "recorded_by",
    )  # fmt: skip
    sampled_at = datetime.fromisoformat(sample["sampled_at"])
    assert signed["content_sha256"] == content_hash(
        {k: sample[k] for k in fields} | {"sampled_at": sampled_at}
    )
    assert r.json()["results"][0]["countersignature"] is None
    r = await _countersign(api, "chief", sid)
    assert r.status_code == 409 and "already countersigned" in r.text

    # The result, by someone who did not analyse or record it.
    r = await _countersign(api, "chief", sid, result_id=rid)
    assert r.status_code == 201, r.text
    assert r.json()["results"][0]["countersignature"]["person_id"] == await api.id("chief")
    r = await api.get("regulator", f"/api/samples/{sid}")
    assert r.json()["countersignature"]["person_id"] == await api.id("chief")

    with psycopg.connect(api.db_url) as conn:
        actions = conn.execute(
            "SELECT action, subject, subject_id FROM audit_log"
            " WHERE action LIKE '%%.countersign' ORDER BY seq"
        ).fetchall()
    assert actions == [
        ("sample.countersign", "sample", str(sid)),
        ("result.countersign", "result", str(rid)),
    ]


async def test_who_may_not_countersign(api: Api) -> None:
    sample = await _sample(api, sampler="operator2")
    sid, rid = sample["id"], sample["results"][0]["id"]
    # The sampler, the analyst, a trainee, a regulator; a wrong password.
    r = await _countersign(api, "operator2", sid)
    assert r.status_code == 403 and "sampler" in r.json()["detail"]
    r = await _countersign(api, "operator", sid, result_id=rid)
    assert r.status_code == 403
    r = await _countersign(api, "trainee", sid)
    assert r.status_code == 403
    r = await _countersign(api, "regulator", sid)
    assert r.status_code == 403
    r = await api.post("chief", f"/api/samples/{sid}/countersign", {"password": "wrong"})
    assert r.status_code == 403 and "password" in r.json()["detail"]
    # A result of another sample, and a sample that does not exist.
    other = await _sample(api)
    r = await _countersign(api, "chief", sid, result_id=other["results"][0]["id"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "result_id"]
    r = await _countersign(api, "chief", 999999)
    assert r.status_code == 404
    # The operator, who took none of it, may verify the other sample's collection.
    r = await _countersign(api, "operator", other["id"])
    assert r.status_code == 201, r.text
    with psycopg.connect(api.db_url) as conn:
        refused = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'forbidden'"
        ).fetchone()
    assert refused is not None and refused[0] >= 5

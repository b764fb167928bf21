"""Samples and results with every field 40 CFR 122.41(j) asks for."""

from datetime import UTC, datetime, timedelta

import psycopg


def iso(t):
    return t.isoformat()


async def _composite(api, hours_ago=26, **extra):
    """A 24 h composite begun ``hours_ago``, handed over an hour after it ended (times in
    the future are refused, issue 17)."""
    op, op2 = await api.id("operator"), await api.id("operator2")
    start = datetime.now(UTC) - timedelta(hours=hours_ago)
    body = {
        "site": "demo-wwtp",
        "sample_point": "Outfall 001 final effluent composite sampler",
        "sample_type": "composite",
        "composite_kind": "flow",
        "composite_start": iso(start),
        "composite_end": iso(start + timedelta(hours=24)),
        "sampled_at": iso(start + timedelta(hours=24)),
        "sampled_by": [op, op2],
        "container": "1 L HDPE",
        "preservation": "iced to 4 C",
        "custody": [
            {
                "relinquished_by": "Oli Operator",
                "received_by": "Cedar Valley Labs courier",
                "at": iso(start + timedelta(hours=25)),
                "condition": "intact, sealed",
                "temperature_c": 3.5,
            },
        ],
        **extra,
    }
    return await api.post("operator", "/api/samples", body)


async def test_a_sample_record_holds_every_122_41_j_field(api):
    # A week ago, so that its BOD5 was analysed five days after it was taken.
    r = await _composite(api, hours_ago=24 * 8)
    assert r.status_code == 201, r.text
    sample = r.json()
    sid = sample["id"]
    taken = datetime.fromisoformat(sample["sampled_at"])
    analyzed = iso(taken + timedelta(days=5))
    results = [
        {
            "analyte": "BOD5",
            "parameter_code": "00310",
            "method": "SM 5210 B",
            "analyzed_at": analyzed,
            "analyst_name": "J. Rivera",
            "lab": "Cedar Valley Labs",
            "value": 8.4,
            "unit": "mg/L",
        },
        {
            "analyte": "TSS",
            "parameter_code": "00530",
            "method": "SM 2540 D",
            "analyzed_at": analyzed,
            "analyst_id": await api.id("operator2"),
            "value": None,
            "unit": "mg/L",
            "qualifier": "ND",
            "detection_limit": 2.5,
        },
        {
            "analyte": "Ammonia as N",
            "parameter_code": "00610",
            "method": "EPA 350.1",
            "analyzed_at": analyzed,
            "analyst_name": "J. Rivera",
            "value": 0.1,
            "unit": "mg/L",
            "qualifier": "<",
            "detection_limit": 0.1,
        },
    ]
    for res in results:
        r = await api.post("operator", f"/api/samples/{sid}/results", res)
        assert r.status_code == 201, r.text
    r = await api.post(
        "operator",
        f"/api/samples/{sid}/custody",
        {
            "relinquished_by": "courier",
            "received_by": "lab bench",
            "at": iso(taken + timedelta(hours=26)),
        },
    )
    assert r.status_code == 201
    got = (await api.get("regulator", f"/api/samples/{sid}")).json()
    # Place, date and time of sampling, and how:
    assert got["sample_point"].startswith("Outfall 001")
    assert got["sample_type"] == "composite" and got["composite_kind"] == "flow"
    assert got["composite_start"] < got["composite_end"]
    # Who sampled:
    assert got["sampled_by"] == sorted([await api.id("operator"), await api.id("operator2")])
    # Chain of custody, in order:
    assert [c["received_by"] for c in got["custody"]] == ["Cedar Valley Labs courier", "lab bench"]
    # Per analyte: method, date of analysis, analyst, result with unit, qualifier and DL:
    by = {x["analyte"]: x for x in got["results"]}
    assert by["BOD5"]["method"] == "SM 5210 B" and by["BOD5"]["analyst_name"] == "J. Rivera"
    assert by["BOD5"]["value"] == 8.4 and by["BOD5"]["unit"] == "mg/L"
    assert datetime.fromisoformat(by["BOD5"]["analyzed_at"]) == taken + timedelta(days=5)
    assert (by["TSS"]["qualifier"], by["TSS"]["detection_limit"], by["TSS"]["value"]) == (
        "ND",
        2.5,
        None,
    )
    assert by["TSS"]["analyst_id"] == await api.id("operator2")
    assert (by["Ammonia as N"]["qualifier"], by["Ammonia as N"]["detection_limit"]) == ("<", 0.1)
    # And in the database, not just in the response:
    with psycopg.connect(api.db_url) as conn:
        row = conn.execute(
            "SELECT qualifier, detection_limit, value FROM sample_results WHERE analyte = 'TSS'"
        ).fetchone()
    assert row == ("ND", 2.5, None)


async def test_sample_rules_are_422_naming_the_field(api):
    r = await _composite(api, composite_end=None)
    assert r.status_code == 422 and "composite_start and composite_end" in r.text
    r = await _composite(api, sampled_by=[])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sampled_by"]
    r = await _composite(api, sampled_by=[9999])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sampled_by", "0"]
    sid = (await _composite(api)).json()["id"]
    before = iso(datetime.now(UTC) - timedelta(days=3))
    r = await api.post(
        "operator",
        f"/api/samples/{sid}/results",
        {
            "analyte": "pH",
            "method": "SM 4500-H+ B",
            "analyzed_at": before,
            "analyst_name": "x",
            "value": 7,
            "unit": "SU",
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "analyzed_at"]
    r = await api.post(
        "operator",
        f"/api/samples/{sid}/results",
        {
            "analyte": "TSS",
            "method": "SM 2540 D",
            "analyzed_at": iso(datetime.now(UTC)),
            "analyst_name": "x",
            "value": None,
            "unit": "mg/L",
            "qualifier": "ND",
        },
    )
    assert r.status_code == 422 and "detection_limit" in r.text


async def test_a_result_is_corrected_by_amendment_keeping_its_history(api):
    sample = (await _composite(api)).json()
    r = await api.post(
        "operator",
        f"/api/samples/{sample['id']}/results",
        {
            "analyte": "E. coli",
            "method": "SM 9223 B",
            "analyzed_at": iso(datetime.now(UTC)),
            "analyst_name": "lab",
            "value": 35,
            "unit": "MPN/100 mL",
        },
        {"Idempotency-Key": "ec-1"},
    )
    assert r.status_code == 201
    again = await api.post(
        "operator",
        f"/api/samples/{sample['id']}/results",
        {
            "analyte": "E. coli",
            "method": "SM 9223 B",
            "analyzed_at": r.json()["results"][0]["analyzed_at"],
            "analyst_name": "lab",
            "value": 35,
            "unit": "MPN/100 mL",
        },
        {"Idempotency-Key": "ec-1"},
    )
    assert again.status_code == 201 and again.headers["idempotent-replay"] == "true"
    [result] = (await api.get("operator", f"/api/samples/{sample['id']}")).json()["results"]
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "result",
            "target_id": result["id"],
            "changes": {"value": None, "qualifier": "<", "detection_limit": 1.0},
            "reason": "lab report revised",
        },
    )
    assert r.status_code == 422  # '<' needs a value at or below the limit
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "result",
            "target_id": result["id"],
            "changes": {"value": 1.0, "qualifier": "<", "detection_limit": 1.0},
            "reason": "lab report revised",
        },
    )
    assert r.status_code == 201, r.text
    [result] = (await api.get("operator", f"/api/samples/{sample['id']}")).json()["results"]
    assert (result["value"], result["qualifier"]) == (1.0, "<")
    assert result["original"]["value"] == 35 and result["amended"]
    assert result["history"][0]["previous"]["qualifier"] is None
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "sample",
            "target_id": sample["id"],
            "changes": {"sample_type": "grab"},
            "reason": "x y z",
        },
    )
    assert r.status_code == 422  # the composite window would be left dangling


async def test_samples_list_by_site_time_and_sampler(api):
    now = datetime.now(UTC)
    outfall = (await _composite(api)).json()
    influent = (
        await _composite(
            api,
            sampled_by=[await api.id("operator")],
            sample_point="influent",
            sampled_at=iso(now - timedelta(hours=3)),
        )
    ).json()
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('other-plant', 'Other', 'UTC')"
        )
        conn.execute(
            "INSERT INTO site_memberships (person_id, site_id, member)"
            " SELECT p.id, s.id, true FROM people p, sites s"
            " WHERE p.username = 'operator' AND s.code = 'other-plant'"
        )

    async def listed(**params):
        r = await api.get("operator", "/api/samples", **params)
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["items"]]

    # In sampled_at order:
    assert await listed(site="demo-wwtp") == [influent["id"], outfall["id"]]
    assert await listed(site="other-plant") == []
    window = {"from": iso(now - timedelta(hours=4)), "to": iso(now - timedelta(hours=2))}
    assert await listed(**window) == [influent["id"]]
    assert await listed(**{"from": iso(now - timedelta(hours=2))}) == [outfall["id"]]
    assert await listed(person=await api.id("operator2")) == [outfall["id"]]
    r = await api.get("operator", "/api/samples", limit=1)
    assert [s["id"] for s in r.json()["items"]] == [influent["id"]] and r.json()["next_cursor"]
    r = await api.get("operator", "/api/samples", limit=1, cursor=r.json()["next_cursor"])
    assert [s["id"] for s in r.json()["items"]] == [outfall["id"]]
    assert r.json()["next_cursor"] is None

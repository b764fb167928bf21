"""The API refuses impossible values and takes implausible ones only when confirmed, by the
ranges of the site's file in the data directory (the demo plant's map here)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from simulators.address_map import DEFAULT_MAP
from sitefile.datadir import site_file
from tests.support.api import Api
from tests.support.site_file import CONFIRM, WHY, demo_site_file


@pytest.fixture
async def tags(api: Api) -> dict[str, int]:
    return demo_site_file(api)


def count(api: Api, table: str) -> int:
    with psycopg.connect(api.db_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        assert row is not None
        return int(row[0])


def reading(tag_id: int | None, value: float, unit: str = "mg/L") -> dict[str, Any]:
    if tag_id is None:
        return {"instrument": "hand-held DO meter", "value": value, "unit": unit}
    return {"tag_id": tag_id, "value": value, "unit": unit}


async def test_todays_impossible_values_are_refused_naming_the_range(
    api: Api, tags: dict[str, int]
) -> None:
    shift = await api.open_shift()
    do = await api.entry("operator", shift["id"], "reading", reading(tags["aeration.do"], -25))
    assert do.status_code == 422, do.text
    [error] = do.json()["detail"]
    assert error["type"] == "instrument_range"
    assert error["loc"] == ["body", "data", "value"]
    assert error["msg"] == (
        "outside the instrument range 0 to 20 mg/L of Aeration basin dissolved oxygen"
    )
    assert error["input"] == -25
    assert error["ctx"] == {
        "of": "Aeration basin dissolved oxygen",
        "unit": "mg/L",
        "instrument": [0, 20],
        "plausible": [0, 12],
    }
    flow = await api.entry(
        "operator", shift["id"], "reading", reading(tags["influent.flow"], -500, "m3/h")
    )
    assert flow.status_code == 422
    [error] = flow.json()["detail"]
    assert error["type"] == "instrument_range"
    assert error["msg"] == "outside the instrument range 0 to 2500 m3/h of Influent flow"
    # Confirming does not make an impossible value possible.
    again = await api.post(
        "operator",
        "/api/entries",
        {
            "shift_id": shift["id"],
            "kind": "reading",
            "data": reading(tags["aeration.do"], -25),
            **CONFIRM,
        },
    )
    assert again.status_code == 422 and again.json()["detail"][0]["type"] == "instrument_range"
    assert count(api, "entries") == 0


async def test_an_implausible_reading_stands_only_confirmed_with_a_reason(
    api: Api, tags: dict[str, int]
) -> None:
    shift = await api.open_shift()
    body = {"shift_id": shift["id"], "kind": "reading", "data": reading(tags["aeration.do"], 14)}
    refused = await api.post("operator", "/api/entries", body)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["type"] == "implausible" and error["loc"] == ["body", "data", "value"]
    assert error["msg"] == (
        "implausible for Aeration basin dissolved oxygen: 0 to 12 mg/L expected;"
        " confirm it with a reason"
    )
    blank = await api.post(
        "operator", "/api/entries", {**body, "plausibility": {"confirmed": True, "reason": " "}}
    )
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "reading", "plausibility", "reason"]
    taken = await api.post("operator", "/api/entries", {**body, **CONFIRM, "client_key": "do-1"})
    assert taken.status_code == 201, taken.text
    entry = taken.json()
    operator = await api.id("operator")
    [confirmation] = entry["plausibility"]
    assert confirmation["field"] == "data.value" and confirmation["value"] == 14
    assert confirmation["plausible"] == [0, 12] and confirmation["unit"] == "mg/L"
    assert confirmation["of"] == "Aeration basin dissolved oxygen"
    assert confirmation["reason"] == WHY and confirmation["confirmed_by"] == operator
    assert confirmation["amendment_id"] is None
    # Read back, listed, and replayed, the entry says the same.
    read = (await api.get("operator", f"/api/entries/{entry['id']}")).json()
    assert read["plausibility"] == [
        {**confirmation, "confirmed_at": read["plausibility"][0]["confirmed_at"]}
    ]
    assert datetime.fromisoformat(
        read["plausibility"][0]["confirmed_at"]
    ) == datetime.fromisoformat(confirmation["confirmed_at"])
    listed = (await api.get("operator", "/api/entries", shift_id=shift["id"])).json()["items"]
    assert listed[0]["plausibility"][0]["reason"] == WHY
    replay = await api.post("operator", "/api/entries", {**body, **CONFIRM, "client_key": "do-1"})
    assert replay.status_code == 201 and replay.json()["id"] == entry["id"]
    assert count(api, "plausibility_confirmations") == 1
    # The audit log keeps it too.
    with psycopg.connect(api.db_url) as conn:
        row = conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'entry.create' AND subject_id = %s",
            (str(entry["id"]),),
        ).fetchone()
    assert row is not None and row[0]["plausibility"][0]["reason"] == WHY
    # A plausible value needs nothing, and a confirmation sent with it records nothing.
    fine = await api.post(
        "operator",
        "/api/entries",
        {**body, "data": reading(tags["aeration.do"], 2.1), **CONFIRM},
    )
    assert fine.status_code == 201 and fine.json()["plausibility"] == []
    assert count(api, "plausibility_confirmations") == 1


async def test_readings_by_instrument_and_chemical_amounts_by_the_entry_ranges(
    api: Api, tags: dict[str, int]
) -> None:
    shift = await api.open_shift()
    by_hand = await api.entry("operator", shift["id"], "reading", reading(None, -3, "psi"))
    assert by_hand.status_code == 422
    [error] = by_hand.json()["detail"]
    assert error["type"] == "implausible"
    assert error["msg"].startswith("implausible for a reading's value: 0 or more expected")
    body = {"shift_id": shift["id"], "kind": "reading", "data": reading(None, -3, "psi")}
    assert (await api.post("operator", "/api/entries", {**body, **CONFIRM})).status_code == 201
    chemical = {"chemical": "alum", "amount": 5000, "unit": "gal", "feed_point": "rapid mix"}
    refused = await api.entry("operator", shift["id"], "chemical_addition", chemical)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["type"] == "implausible" and error["loc"] == ["body", "data", "amount"]
    assert "a chemical addition's amount: 0 to 2000 expected" in error["msg"]
    taken = await api.post(
        "operator",
        "/api/entries",
        {"shift_id": shift["id"], "kind": "chemical_addition", "data": chemical, **CONFIRM},
    )
    assert taken.status_code == 201
    assert taken.json()["plausibility"][0]["field"] == "data.amount"


async def _sample(api: Api) -> int:
    r = await api.post(
        "operator",
        "/api/samples",
        {
            "site": "demo-wwtp",
            "sample_point": "final effluent",
            "sample_type": "grab",
            "sampled_at": (datetime.now(UTC) - timedelta(days=5)).isoformat(),
            "sampled_by": [await api.id("operator")],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def result(value: float | None, analyte: str = "BOD5", **extra: Any) -> dict[str, Any]:
    return {
        "analyte": analyte,
        "method": "SM 5210 B",
        "analyzed_at": datetime.now(UTC).isoformat(),
        "analyst_name": "J. Rivera",
        "value": value,
        "unit": "mg/L",
        **extra,
    }


async def test_lab_results_are_judged_by_their_analytes_range(
    api: Api, tags: dict[str, int]
) -> None:
    sample = await _sample(api)
    path = f"/api/samples/{sample}/results"
    bod = await api.post("operator", path, result(-3))
    assert bod.status_code == 422
    [error] = bod.json()["detail"]
    assert error["type"] == "instrument_range" and error["loc"] == ["body", "value"]
    assert error["msg"] == "outside the instrument range 0 mg/L or more of BOD, 5-day"
    high = await api.post("operator", path, result(900))
    assert high.status_code == 422 and high.json()["detail"][0]["type"] == "implausible"
    taken = await api.post("operator", path, {**result(900), **CONFIRM})
    assert taken.status_code == 201, taken.text
    [stored] = taken.json()["results"]
    assert stored["plausibility"][0]["value"] == 900
    assert stored["plausibility"][0]["plausible"] == [0, 600]
    # A non-detect has no value to judge; an analyte the site sets no range for is taken.
    nd = result(None, qualifier="ND", detection_limit=2)
    assert (await api.post("operator", path, nd)).status_code == 201
    assert (await api.post("operator", path, result(-1, analyte="Chloride"))).status_code == 201
    listed = (await api.get("operator", f"/api/samples/{sample}")).json()["results"]
    assert [len(r["plausibility"]) for r in listed] == [1, 0, 0]


async def test_amendments_that_change_a_value_are_judged_as_new_values(
    api: Api, tags: dict[str, int]
) -> None:
    shift = await api.open_shift()
    made = await api.entry("operator", shift["id"], "reading", reading(tags["aeration.do"], 2))
    eid = made.json()["id"]

    def amendment(changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"target": "entry", "target_id": eid, "changes": changes, "reason": "typo", **extra}

    impossible = await api.post("operator", "/api/amendments", amendment({"data": {"value": -25}}))
    assert impossible.status_code == 422
    [error] = impossible.json()["detail"]
    assert error["type"] == "instrument_range"
    assert error["loc"] == ["body", "changes", "data", "value"]
    implausible = amendment({"data": {"value": 14}})
    assert (await api.post("operator", "/api/amendments", implausible)).status_code == 422
    confirmed = await api.post("operator", "/api/amendments", {**implausible, **CONFIRM})
    assert confirmed.status_code == 201, confirmed.text
    entry = (await api.get("operator", f"/api/entries/{eid}")).json()
    assert entry["data"]["value"] == 14
    [c] = entry["plausibility"]
    assert c["amendment_id"] == confirmed.json()["id"] and c["field"] == "data.value"
    # Another tag, other ranges: the value stays, judged by the new tag's range.
    retag = amendment({"data": {"tag_id": tags["influent.flow"], "unit": "m3/h"}})
    refused = await api.post("operator", "/api/amendments", retag)
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "implausible"
    # A change that leaves the numbers alone is not judged.
    notes = await api.post("operator", "/api/amendments", amendment({"data": {"notes": "ok"}}))
    assert notes.status_code == 201
    # A result's value and analyte alike.
    sample = await _sample(api)
    r = await api.post("operator", f"/api/samples/{sample}/results", result(8))
    rid = r.json()["results"][0]["id"]
    bad = await api.post(
        "operator",
        "/api/amendments",
        {"target": "result", "target_id": rid, "changes": {"value": -3}, "reason": "typo"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "changes", "value"]
    fixed = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "result",
            "target_id": rid,
            "changes": {"value": 700},
            "reason": "x10",
            **CONFIRM,
        },
    )
    assert fixed.status_code == 201
    [res] = (await api.get("operator", f"/api/samples/{sample}")).json()["results"]
    assert res["plausibility"][0]["amendment_id"] == fixed.json()["id"]


async def test_a_site_without_a_site_file_takes_values_unchecked(api: Api) -> None:
    shift = await api.open_shift()
    r = await api.entry("operator", shift["id"], "reading", reading(None, -25))
    assert r.status_code == 201 and r.json()["plausibility"] == []


async def test_a_site_file_that_is_not_valid_stops_the_writes_that_need_it(
    api: Api, tags: dict[str, int]
) -> None:
    path = site_file(api.data_dir, "demo-wwtp")
    path.write_text(
        path.read_text().replace(
            "  reading.value: {plausible: [0, null]}", "  reading.volume: {plausible: [0, null]}"
        )
    )
    shift = await api.open_shift()
    r = await api.entry("operator", shift["id"], "reading", reading(None, 3))
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert "the ranges of site demo-wwtp cannot be checked until its site file is fixed" in detail
    assert f"{path}:" in detail and "entry_ranges.reading.volume" in detail
    # What has no number to judge is taken.
    assert (await api.entry("operator", shift["id"], "note", {"text": "ok"})).status_code == 201
    # Fixed, the file is read again.
    shutil.copyfile(DEFAULT_MAP, path)
    r = await api.entry("operator", shift["id"], "reading", reading(None, 3))
    assert r.status_code == 201, r.text

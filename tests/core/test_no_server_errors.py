"""Every class of server error issue 17 (item 8) found by fuzzing, one request each,
answered now as a 422 in FastAPI's shape naming the field (or a 404), never a 500.

The classes: an id below 1 or beyond PostgreSQL's integer (path, query and body); a NUL
byte in a query, a path, a JSON or a form body; a lone surrogate in JSON text or a key;
a "digit" that is not ASCII ("³".isdigit() is true and int("³") raises); training
hours that round to 0.00; NaN, Infinity and 1e309 in a body (echoed by FastAPI's 422,
which JSON cannot write); a time at 0001-01-01 +14:00 or 9999-12-31 -14:00 (out of
Python's range in UTC) and a day at 9999-12-31 (its day after is); export months 0000-01
and 9999-12 (tests/dashboards/exports/test_hostile_months.py answers every export).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from clearwell.params import ID_MAX
from tests.support.api import Api

HUGE = 1099511627776  # 2**40: as in the person=1099511627776


def refused(r: Any, *loc: str | int) -> None:
    """A 422 whose JSON detail is FastAPI's list, one error at ``loc`` (when given: its
    first and last parts, as a body of several kinds puts the kind between)."""
    assert r.status_code == 422, (r.status_code, r.text)
    body = json.loads(r.text)
    assert isinstance(body["detail"], list), body
    if loc:
        where = [tuple(e["loc"]) for e in body["detail"]]
        tail = loc[1:]
        assert any(w[:1] == loc[:1] and w[len(w) - len(tail) :] == tail for w in where), body


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/entries/0", ("path", "entry_id")),
        ("/api/entries/-5", ("path", "entry_id")),
        (f"/api/entries/{ID_MAX + 1}", ("path", "entry_id")),
        (f"/api/shifts/{HUGE}", ("path", "shift_id")),
        (f"/api/people/{HUGE}", ("path", "person_id")),
        (f"/api/amendments?person={HUGE}", ("query", "person")),
        (f"/api/compliance/certificates?person={HUGE}", ("query", "person")),
        ("/api/trends/entries?tag=-5", ("query", "tag", 0)),
        (f"/api/entries?shift_id={HUGE}", ("query", "shift_id")),
        (f"/api/audit?after_seq={2**64}", ("query", "after_seq")),
    ],
)
async def test_ids_out_of_range_are_refused(api: Api, path: str, loc: tuple[str, ...]) -> None:
    refused(await api.client.get(path, headers=await api.headers("chief")), *loc)


async def test_ids_out_of_range_in_bodies_are_refused(api: Api) -> None:
    shift = await api.open_shift()
    r = await api.entry("operator", HUGE, "note", {"text": "x"})
    refused(r, "body", "shift_id")
    r = await api.post(
        "operator", f"/api/shifts/{shift['id']}/crew", {"person_id": HUGE, "shift_role": "operator"}
    )
    refused(r, "body", "person_id")
    r = await api.post(
        "chief",
        "/api/compliance/training",
        {"person_id": HUGE, "date": "2026-01-05", "hours": 4, "title": "x"},
    )
    refused(r, "body", "person_id")


async def test_nul_bytes_are_refused_wherever_they_come(api: Api) -> None:
    headers = await api.headers("chief")
    r = await api.client.get("/api/readings/latest?site=demo%00wwtp", headers=headers)
    refused(r, "query", "site")
    r = await api.client.get("/floor/demo%00wwtp", headers=headers)
    refused(r, "path")
    shift = await api.open_shift()
    r = await api.entry("operator", shift["id"], "note", {"text": "a\u0000b"})
    refused(r, "body", "data", "text")
    r = await api.client.post(
        "/login",
        content=b"username=a%00b&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    refused(r, "body", "username")


async def test_lone_surrogates_are_refused(api: Api) -> None:
    shift = await api.open_shift()
    # In a text, and as a key (named with "?" for the character JSON cannot carry).
    for data, where in (('{"text": "\\ud800x"}', "text"), ('{"\\udc00": "x"}', "?")):
        body = f'{{"shift_id": {shift["id"]}, "kind": "note", "data": {data}}}'
        r = await api.client.post(
            "/api/entries",
            content=body.encode(),
            headers=await api.headers("operator", {"content-type": "application/json"}),
        )
        refused(r, "body", "data", where)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309"])
async def test_non_finite_numbers_are_refused_as_json(api: Api, number: str) -> None:
    shift = await api.open_shift()
    body = f'{{"shift_id": {shift["id"]}, "kind": "reading", "data": {{"value": {number},'
    body += ' "unit": "mg/L", "instrument": "DO meter"}}'
    r = await api.client.post(
        "/api/entries",
        content=body.encode(),
        headers=await api.headers("operator", {"content-type": "application/json"}),
    )
    refused(r, "body", "data", "value")


async def test_a_422_echoing_a_non_finite_number_is_json() -> None:
    """FastAPI's own 422 echoes the input: a float it cannot write as JSON is text."""
    from fastapi.exceptions import RequestValidationError

    from clearwell.inputs import validation_error

    exc = RequestValidationError([{"loc": ("body", "x"), "msg": "bad", "input": float("nan")}])
    r = await validation_error(None, exc)  # type: ignore[arg-type]
    assert json.loads(bytes(r.body)) == {
        "detail": [{"loc": ["body", "x"], "msg": "bad", "input": "nan"}]
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/compliance/now?facility=%C2%B3",  # "³"
        "/api/compliance/expiries?facility=%E2%91%A0",  # "①"
        "/api/compliance/now?facility=99999999999",
    ],
)
async def test_digits_that_are_not_ascii_name_no_facility(api: Api, path: str) -> None:
    r = await api.client.get(path, headers=await api.headers("chief"))
    assert r.status_code in (404, 422), r.text


async def test_a_trend_of_a_tag_named_by_a_unicode_digit_is_refused(api: Api) -> None:
    r = await api.client.get("/api/trends?tag=%C2%B3", headers=await api.headers("chief"))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("hours", [0.001, 0.004, 5e-324])
async def test_training_hours_that_round_to_zero_are_refused(api: Api, hours: float) -> None:
    r = await api.post(
        "chief",
        "/api/compliance/training",
        {"person_id": await api.id("operator"), "date": "2026-01-05", "hours": hours},
    )
    refused(r, "body", "hours")


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_times_beyond_pythons_range_are_refused(api: Api, at: str) -> None:
    crew = [{"person_id": await api.id("operator"), "shift_role": "operator", "arrived_at": at}]
    r = await api.post(
        "operator",
        "/api/shifts",
        {"site": "demo-wwtp", "label": "x", "opened_at": at, "crew": crew},
    )
    refused(r, "body", "opened_at")
    q = at.replace("+", "%2B")
    r = await api.client.get(
        f"/api/trends/entries?tag=1&start={q}", headers=await api.headers("chief")
    )
    assert r.status_code == 422, r.text
    r = await api.client.get(
        f"/api/compliance/coverage?facility=demo-wwtp&start={q}&end={q}",
        headers=await api.headers("chief"),
    )
    refused(r, "query", "start")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
async def test_the_regulators_page_names_a_day_out_of_range(api: Api, day: str) -> None:
    r = await api.client.get(
        f"/regulator?facility=demo-wwtp&from={day}&to={day}", headers=await api.headers("regulator")
    )
    assert r.status_code == 200, r.text
    assert "must be between the years" in r.text

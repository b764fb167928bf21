"""Entries over HTTP: kinds, times, links, idempotency, listing and 404/422."""

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.logbook.scenario import insert_event
from tests.logbook.test_kinds import VALID


def count(db_url, table):
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


@pytest.mark.parametrize("kind", sorted(VALID))
async def test_every_kind_is_recorded_with_its_fields(api, kind):
    shift = await api.open_shift()
    data = dict(VALID[kind])
    if kind == "alarm_ack":
        data["event_id"] = insert_event(api.db_url)
    if kind == "reading":
        data = {"instrument": "influent flow meter", "value": 3.1, "unit": "MGD"}
    r = await api.entry("operator", shift["id"], kind, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == kind and body["recorded_by"] == await api.id("operator")
    for key, value in data.items():
        assert body["data"][key] == value
    assert body["operational"] is (
        kind in {"chemical_addition", "process_adjustment", "maintenance", "cleaning"}
    )
    if kind == "alarm_ack":
        assert body["event_id"] == data["event_id"]


async def test_a_reading_can_name_a_tag_of_its_own_site(api):
    shift = await api.open_shift()
    with psycopg.connect(api.db_url) as conn:
        tag = conn.execute(
            "INSERT INTO tags (site_id, name, unit, source_protocol)"
            " SELECT id, 'eff_ph', 'pH', 'manual' FROM sites WHERE code = 'demo-wwtp'"
            " RETURNING id"
        ).fetchone()[0]
    r = await api.entry(
        "operator", shift["id"], "reading", {"tag_id": tag, "value": 7.0, "unit": "pH"}
    )
    assert r.status_code == 201
    r = await api.entry(
        "operator", shift["id"], "reading", {"tag_id": tag + 100, "value": 7.0, "unit": "pH"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "data", "tag_id"]


@pytest.mark.parametrize(
    ("kind", "data", "loc", "msg"),
    [
        (
            "chemical_addition",
            {"chemical": "alum", "amount": -1, "unit": "gal", "feed_point": "rapid mix"},
            "amount",
            "greater than 0",
        ),
        ("reading", {"value": 1, "unit": "ft"}, None, "tag_id or instrument"),
        ("process_adjustment", {"what": "valve 3", "from_value": "open"}, "to_value", "required"),
        ("alarm_ack", {"event_id": 424242, "response": "reset"}, "event_id", "no event"),
        ("unknown_kind", {"text": "x"}, None, "does not match any of the expected tags"),
    ],
)
async def test_bad_fields_are_422_with_field_and_reason(api, kind, data, loc, msg):
    shift = await api.open_shift()
    r = await api.entry("operator", shift["id"], kind, data)
    assert r.status_code == 422
    [err] = r.json()["detail"]
    if loc:
        assert err["loc"][-1] == loc
    assert msg in err["msg"]
    assert count(api.db_url, "entries") == 0


async def test_occurred_at_may_be_earlier_within_the_sites_limit(api):
    shift = await api.open_shift()
    now = datetime.now(UTC)
    ok = await api.entry(
        "operator",
        shift["id"],
        "note",
        {"text": "round at 6"},
        occurred_at=(now - timedelta(hours=3)).isoformat(),
    )
    assert ok.status_code == 201
    assert ok.json()["occurred_at"] < ok.json()["recorded_at"]
    old = await api.entry(
        "operator",
        shift["id"],
        "note",
        {"text": "yesterday"},
        occurred_at=(now - timedelta(hours=30)).isoformat(),
    )
    assert old.status_code == 422 and "24 h" in old.json()["detail"][0]["msg"]
    future = await api.entry(
        "operator",
        shift["id"],
        "note",
        {"text": "tomorrow"},
        occurred_at=(now + timedelta(hours=1)).isoformat(),
    )
    assert future.status_code == 422 and "future" in future.text
    naive = await api.entry(
        "operator", shift["id"], "note", {"text": "no zone"}, occurred_at="2026-01-01T08:00:00"
    )
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"][-1] == "occurred_at"
    r = await api.post(
        "chief",
        "/api/sites/demo-wwtp/logbook-settings",
        {"allow_pin_login": True, "backdate_limit_hours": 48},
    )
    assert r.status_code == 200
    old = await api.entry(
        "operator",
        shift["id"],
        "note",
        {"text": "yesterday"},
        occurred_at=(now - timedelta(hours=30)).isoformat(),
    )
    assert old.status_code == 201
    # A limit of 0 h means entries are written as they happen, not the 24 h default.
    r = await api.post(
        "chief",
        "/api/sites/demo-wwtp/logbook-settings",
        {"allow_pin_login": True, "backdate_limit_hours": 0},
    )
    assert r.status_code == 200
    late = await api.entry(
        "operator",
        shift["id"],
        "note",
        {"text": "a minute ago"},
        occurred_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    )
    assert late.status_code == 422 and "0 h" in late.json()["detail"][0]["msg"]


async def test_only_the_chief_or_admin_sets_the_backdate_limit(api):
    async def demo_site():
        sites = (await api.get("operator", "/api/sites")).json()
        [site] = [s for s in sites if s["code"] == "demo-wwtp"]
        return site

    before = await demo_site()
    assert (before["allow_pin_login"], before["backdate_limit_hours"]) == (True, 24)
    path = "/api/sites/demo-wwtp/logbook-settings"
    r = await api.post("operator", path, {"allow_pin_login": False, "backdate_limit_hours": 700})
    assert r.status_code == 403
    assert await demo_site() == before
    r = await api.post("chief", path, {"allow_pin_login": True, "backdate_limit_hours": 700})
    assert r.status_code == 200
    assert (r.json()["allow_pin_login"], r.json()["backdate_limit_hours"]) == (True, 700)
    assert await demo_site() == r.json()
    r = await api.post("admin", path, {"backdate_limit_hours": 12})
    assert r.status_code == 200
    assert (r.json()["allow_pin_login"], r.json()["backdate_limit_hours"]) == (False, 12)
    assert await demo_site() == r.json()
    r = await api.post("chief", "/api/sites/nowhere/logbook-settings", {})
    assert r.status_code == 404


async def test_entries_go_only_on_open_shifts(api):
    shift = await api.open_shift()
    await api.post("operator", f"/api/shifts/{shift['id']}/close", {})
    r = await api.entry("operator", shift["id"], "note", {"text": "after close"})
    assert r.status_code == 409
    r = await api.entry("operator", 999, "note", {"text": "nowhere"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "shift_id"]


async def test_a_retry_with_the_same_key_gives_one_record_and_the_same_response(api):
    shift = await api.open_shift()
    body = {"shift_id": shift["id"], "kind": "note", "data": {"text": "double tap"}}
    first = await api.post("operator", "/api/entries", body, {"Idempotency-Key": "k-1"})
    again = await api.post("operator", "/api/entries", body, {"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replay"] == "true"
    by_field = await api.post("operator", "/api/entries", {**body, "client_key": "k-1"})
    assert by_field.json()["id"] == first.json()["id"]
    assert count(api.db_url, "entries") == 1
    changed = await api.post(
        "operator", "/api/entries", {**body, "data": {"text": "other"}}, {"Idempotency-Key": "k-1"}
    )
    assert changed.status_code == 409
    # Keys belong to the person: another operator's k-1 is a different record.
    other = await api.post("operator2", "/api/entries", body, {"Idempotency-Key": "k-1"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_a_concurrent_double_post_creates_one_record(api):
    shift = await api.open_shift()
    body = {
        "shift_id": shift["id"],
        "kind": "reading",
        "data": {"instrument": "chlorine residual", "value": 1.1, "unit": "mg/L"},
    }
    headers = await api.headers("operator", {"Idempotency-Key": "tap-tap"})
    results = await asyncio.gather(
        *(api.client.post("/api/entries", json=body, headers=headers) for _ in range(8))
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert count(api.db_url, "entries") == 1
    with psycopg.connect(api.db_url) as conn:
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'entry.create'"
        ).fetchone()[0]
    assert audited == 1


async def test_listing_filters_and_pages(api):
    op, op2 = await api.id("operator"), await api.id("operator2")
    shift = await api.open_shift(
        "operator",
        crew=[
            {"person_id": op, "shift_role": "operator"},
            {"person_id": op2, "shift_role": "operator"},
        ],
    )
    now = datetime.now(UTC)
    for i in range(7):
        who = "operator" if i % 2 == 0 else "operator2"
        kind, data = ("note", {"text": f"n{i}"}) if i < 4 else ("cleaning", {"what": f"screen {i}"})
        r = await api.entry(
            who, shift["id"], kind, data, occurred_at=(now - timedelta(minutes=60 - i)).isoformat()
        )
        assert r.status_code == 201
    all_ = (await api.get("regulator", "/api/entries", site="demo-wwtp")).json()["items"]
    assert [e["data"].get("text") or e["data"]["what"] for e in all_] == [
        "n0",
        "n1",
        "n2",
        "n3",
        "screen 4",
        "screen 5",
        "screen 6",
    ]
    assert len((await api.get("operator", "/api/entries", kind="cleaning")).json()["items"]) == 3
    assert len((await api.get("operator", "/api/entries", person=op2)).json()["items"]) == 3
    assert len((await api.get("operator", "/api/entries", operational="true")).json()["items"]) == 3
    window = await api.get(
        "operator",
        "/api/entries",
        **{
            "from": (now - timedelta(minutes=58)).isoformat(),
            "to": (now - timedelta(minutes=55)).isoformat(),
        },
    )
    assert [e["data"].get("text") or e["data"]["what"] for e in window.json()["items"]] == [
        "n2",
        "n3",
        "screen 4",
    ]
    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("operator", "/api/entries", **params)).json()
        pages.append([e["id"] for e in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == [e["id"] for e in all_]
    bad = await api.get("operator", "/api/entries", kind="bogus")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "kind"]
    bad = await api.get("operator", "/api/entries", cursor="garbage")
    assert bad.status_code == 422


async def test_missing_records_are_404(api):
    for path in (
        "/api/entries/12345",
        "/api/samples/12345",
        "/api/amendments/12345",
        "/api/people/12345",
    ):
        r = await api.get("operator", path)
        assert r.status_code == 404, path
        assert "not found" in r.json()["detail"]
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": 12345,
            "changes": {"data": {"text": "x"}},
            "reason": "fix",
        },
    )
    assert r.status_code == 404


async def test_amendments_are_validated_against_the_kind(api):
    shift = await api.open_shift()
    e = await api.entry(
        "operator",
        shift["id"],
        "chemical_addition",
        {"chemical": "alum", "amount": 10, "unit": "gal", "feed_point": "mix"},
    )
    eid = e.json()["id"]
    bad = await api.post(
        "operator",
        "/api/amendments",
        {"target": "entry", "target_id": eid, "changes": {"data": {"amount": -4}}, "reason": "fix"},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "changes", "data", "amount"]
    bad = await api.post(
        "operator",
        "/api/amendments",
        {"target": "entry", "target_id": eid, "changes": {"kind": "note"}, "reason": "fix"},
    )
    assert bad.status_code == 422 and "cannot be amended" in bad.text
    bad = await api.post(
        "operator",
        "/api/amendments",
        {"target": "entry", "target_id": eid, "changes": {"data": {"amount": 12}}, "reason": ""},
    )
    assert bad.status_code == 422
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    ok = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": eid,
            "changes": {"data": {"amount": 12}, "occurred_at": earlier},
            "reason": "pump stroke counter misread",
        },
        {"Idempotency-Key": "amend-1"},
    )
    assert ok.status_code == 201 and ok.json()["after_signing"] is False
    again = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": eid,
            "changes": {"data": {"amount": 12}, "occurred_at": earlier},
            "reason": "pump stroke counter misread",
        },
        {"Idempotency-Key": "amend-1"},
    )
    assert again.json()["id"] == ok.json()["id"]
    entry = (await api.get("operator", f"/api/entries/{eid}")).json()
    assert entry["data"]["amount"] == 12 and entry["original"]["data"]["amount"] == 10
    assert entry["occurred_at"] < entry["recorded_at"]
    # The listing renders amended and plain entries just as reading one does.
    other = await api.entry("operator", shift["id"], "note", {"text": "plain"})
    listed = (await api.get("operator", "/api/entries", shift_id=shift["id"])).json()["items"]
    assert listed == [entry, other.json()]
    listed = (await api.get("operator", "/api/amendments", target="entry", target_id=eid)).json()
    assert [a["id"] for a in listed] == [ok.json()["id"]]
    with psycopg.connect(api.db_url) as conn:
        assert conn.execute("SELECT (data->>'amount')::float FROM entries").fetchone()[0] == 10

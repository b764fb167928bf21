"""Shifts: crew and DRC, handoff, closing, signing and what signing freezes."""

from datetime import UTC, datetime, timedelta

import psycopg

from tests.logbook.test_audit_chain import tampering
from tests.support.api import PASSWORDS


def audit_actions(db_url, action):
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT actor, detail->>'reason' FROM audit_log WHERE action = %s ORDER BY seq",
            (action,),
        ).fetchall()


async def test_only_a_chief_operator_or_admin_designates_the_drc(api):
    op, op2 = await api.id("operator"), await api.id("operator2")
    shift = await api.open_shift("operator")
    r = await api.post(
        "operator", f"/api/shifts/{shift['id']}/crew", {"person_id": op2, "shift_role": "drc"}
    )
    assert r.status_code == 403
    assert audit_actions(api.db_url, "forbidden") == [
        ("operator", "an operator may not designate the DRC (crew.designate_drc)")
    ]
    r = await api.post(
        "chief", f"/api/shifts/{shift['id']}/crew", {"person_id": op2, "shift_role": "drc"}
    )
    assert r.status_code == 201
    assert {(c["person_id"], c["shift_role"]) for c in r.json()["crew"]} == {
        (op, "operator"),
        (op2, "drc"),
    }
    # Nor can the DRC be designated by amending a crew role.
    crew_id = next(c["id"] for c in r.json()["crew"] if c["person_id"] == op)
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "crew",
            "target_id": crew_id,
            "changes": {"shift_role": "drc"},
            "reason": "promote myself",
        },
    )
    assert r.status_code == 403


async def test_crew_roles_and_times_on_site(api):
    trainee, op = await api.id("trainee"), await api.id("operator")
    shift = await api.open_shift("operator")
    r = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew",
        {"person_id": trainee, "shift_role": "operator"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "shift_role"]
    r = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew",
        {"person_id": await api.id("regulator"), "shift_role": "operator"},
    )
    assert r.status_code == 422 and "cannot be on a crew" in r.text
    late = "2026-01-01T00:00:00+00:00"
    r = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew",
        {"person_id": trainee, "shift_role": "trainee", "arrived_at": late},
    )
    assert r.status_code == 201
    member = next(c for c in r.json()["crew"] if c["person_id"] == trainee)
    assert member["arrived_at"].startswith("2026-01-01T00:00:00")
    r = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew/{member['id']}/departure",
        {"left_at": "2025-12-31T00:00:00+00:00"},
    )
    assert r.status_code == 422 and "before the person arrived" in r.text
    r = await api.post("operator", f"/api/shifts/{shift['id']}/crew/{member['id']}/departure", {})
    assert r.status_code == 200
    assert next(c for c in r.json()["crew"] if c["id"] == member["id"])["left_at"] is not None
    r = await api.post("operator", f"/api/shifts/{shift['id']}/crew/{member['id']}/departure", {})
    assert r.status_code == 409
    r = await api.get("operator", "/api/shifts", person=trainee)
    assert [s["id"] for s in r.json()["items"]] == [shift["id"]]
    r = await api.get("operator", "/api/shifts", person=op, site="demo-wwtp")
    assert len(r.json()["items"]) == 1
    assert (await api.get("operator", "/api/shifts/999")).status_code == 404


async def test_the_first_crew_arrives_when_the_shift_opens(api):
    """Without an arrival of their own, the crew a shift opens with are on site from its
    first instant (no moment with no one in charge), whether it opens now or earlier."""
    shift = await api.open_shift("operator")
    assert [c["arrived_at"] for c in shift["crew"]] == [shift["opened_at"]]
    earlier = "2026-01-01T06:00:00+00:00"
    chief = await api.id("chief")
    shift = await api.open_shift(
        "chief",
        opened_at=earlier,
        crew=[
            {"person_id": chief, "shift_role": "drc"},
            {"person_id": await api.id("operator"), "shift_role": "operator",
             "arrived_at": "2026-01-01T07:00:00+00:00"},
        ],
    )  # fmt: skip
    arrivals = [(c["shift_role"], c["arrived_at"][:19]) for c in shift["crew"]]
    assert arrivals == [("drc", "2026-01-01T06:00:00"), ("operator", "2026-01-01T07:00:00")]


async def test_the_incoming_drc_acknowledges_the_handoff(api):
    chief, op = await api.id("chief"), await api.id("operator")
    day = await api.open_shift("operator")
    note = await api.post(
        "operator", f"/api/shifts/{day['id']}/handoff", {"body": "clarifier 2 drive tripped twice"}
    )
    assert note.status_code == 201
    night = await api.open_shift(
        "chief",
        crew=[
            {"person_id": chief, "shift_role": "drc"},
            {"person_id": op, "shift_role": "operator"},
        ],
    )
    path = f"/api/handoff-notes/{note.json()['id']}/acknowledge"
    r = await api.post("operator", path, {"shift_id": night["id"]})
    assert r.status_code == 403
    r = await api.post("chief", path, {"shift_id": day["id"]})
    assert r.status_code == 422
    r = await api.post("chief", path, {"shift_id": night["id"]})
    assert r.status_code == 200
    ack = r.json()["acknowledgement"]
    assert ack["to_shift_id"] == night["id"] and ack["acknowledged_by"] == chief
    assert (await api.post("chief", path, {"shift_id": night["id"]})).status_code == 409
    shown = await api.get("operator", f"/api/shifts/{day['id']}")
    assert shown.json()["handoff_notes"][0]["acknowledgement"]["acknowledged_by"] == chief


async def test_a_shift_operator_in_charge_acknowledges_the_handoff(api):
    """Only a chief operator or admin designates a DRC: a shift an operator runs as its
    shift operator is in their charge, and they acknowledge the note it inherits."""
    op, op2 = await api.id("operator"), await api.id("operator2")
    day = await api.open_shift("operator")
    note = await api.post("operator", f"/api/shifts/{day['id']}/handoff", {"body": "RAS pump 2"})
    assert note.status_code == 201
    night = await api.open_shift(
        "operator2", crew=[{"person_id": op2, "shift_role": "shift_operator"},
                           {"person_id": op, "shift_role": "operator"}],
    )  # fmt: skip
    path = f"/api/handoff-notes/{note.json()['id']}/acknowledge"
    assert (await api.post("operator", path, {"shift_id": night["id"]})).status_code == 403
    r = await api.post("operator2", path, {"shift_id": night["id"]})
    assert r.status_code == 200 and r.json()["acknowledgement"]["acknowledged_by"] == op2


async def _closed_shift_with_entry(api):
    shift = await api.open_shift("operator")
    e = await api.entry(
        "operator",
        shift["id"],
        "process_adjustment",
        {"what": "RAS rate", "from_value": "1.2", "to_value": "1.4", "unit": "MGD"},
    )
    assert e.status_code == 201
    assert (await api.post("operator", f"/api/shifts/{shift['id']}/close", {})).status_code == 200
    return shift["id"], e.json()["id"]


async def test_signing_needs_the_signers_password_and_their_own_shift(api):
    sid, _ = await _closed_shift_with_entry(api)
    r = await api.post("operator2", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator2"]})
    assert r.status_code == 403
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": "not-my-password"})
    assert r.status_code == 403
    assert [a for a, _ in audit_actions(api.db_url, "forbidden")] == ["operator2", "operator"]
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["signed"] is True
    [sig] = body["signatures"]
    assert sig["content_sha256"] == body["content_sha256"] and sig["content_matches"]
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 409


async def test_an_open_shift_cannot_be_signed(api):
    shift = await api.open_shift("operator")
    r = await api.post(
        "operator", f"/api/shifts/{shift['id']}/sign", {"password": PASSWORDS["operator"]}
    )
    assert r.status_code == 409 and "close it" in r.text


async def test_a_signed_shift_is_frozen_and_corrections_show_as_after_signing(api):
    sid, entry_id = await _closed_shift_with_entry(api)
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    signed_hash = r.json()["content_sha256"]
    r = await api.entry("operator", sid, "note", {"text": "forgot this"})
    assert r.status_code == 409 and "frozen" in r.text
    r = await api.post(
        "chief",
        f"/api/shifts/{sid}/crew",
        {"person_id": await api.id("operator2"), "shift_role": "operator"},
    )
    assert r.status_code == 409
    r = await api.post("operator", f"/api/shifts/{sid}/handoff", {"body": "late"})
    assert r.status_code == 409
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": entry_id,
            "changes": {"data": {"to_value": "1.5"}},
            "reason": "typed the wrong setpoint",
        },
    )
    assert r.status_code == 201 and r.json()["after_signing"] is True
    entry = (await api.get("operator", f"/api/entries/{entry_id}")).json()
    assert entry["data"]["to_value"] == "1.5"
    assert entry["original"]["data"]["to_value"] == "1.4"
    [h] = entry["history"]
    assert h["after_signing"] and h["reason"] == "typed the wrong setpoint"
    assert h["previous"] == {"data": {"to_value": "1.4"}}
    shift = (await api.get("operator", f"/api/shifts/{sid}")).json()
    # The signature still matches what was signed: the correction is beside it, not in it.
    assert shift["content_sha256"] == signed_hash
    assert shift["signatures"][0]["content_matches"] is True


async def test_a_signature_stops_matching_if_signed_content_is_tampered_with(api):
    sid, entry_id = await _closed_shift_with_entry(api)
    await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    with tampering(api.owner_url, "entries") as conn:
        conn.execute(
            "UPDATE entries SET data = jsonb_set(data, '{to_value}', '\"9\"') WHERE id = %s",
            (entry_id,),
        )
    shift = (await api.get("chief", f"/api/shifts/{sid}")).json()
    assert shift["signatures"][0]["content_matches"] is False


async def _shift_with_a_trainee(api):
    """A shift the operator opened, with the trainee on its crew."""
    op, trainee = await api.id("operator"), await api.id("trainee")
    return await api.open_shift(
        "operator",
        crew=[
            {"person_id": op, "shift_role": "operator"},
            {"person_id": trainee, "shift_role": "trainee"},
        ],
    )


async def test_trainee_entries_are_countersigned_by_an_operator_on_duty_before_signing(api):
    op = await api.id("operator")
    shift = await _shift_with_a_trainee(api)
    sid = shift["id"]
    e = await api.entry(
        "trainee",
        sid,
        "chemical_addition",
        {"chemical": "lime", "amount": 50, "unit": "lb", "feed_point": "PS 1"},
    )
    assert e.status_code == 201 and e.json()["needs_countersignature"] is True
    assert e.json()["by_trainee"] is True and e.json()["operational"] is True
    eid = e.json()["id"]
    await api.post("operator", f"/api/shifts/{sid}/close", {})
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 409 and str(eid) in r.text
    # Not on duty on this shift:
    r = await api.post(
        "operator2", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["operator2"]}
    )
    assert r.status_code == 403
    # A trainee cannot countersign, not even their own:
    r = await api.post(
        "trainee", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["trainee"]}
    )
    assert r.status_code == 403
    r = await api.post(
        "operator", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["operator"]}
    )
    assert r.status_code == 201
    assert r.json()["countersignature"]["person_id"] == op
    assert r.json()["needs_countersignature"] is False
    r = await api.post(
        "operator", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["operator"]}
    )
    assert r.status_code == 409
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 201


async def test_anyones_entry_may_be_verified_by_someone_else_on_duty(api):
    """The site's competency policy may want an operator's entry verified (no level on
    record counts as emerging): another operator on duty countersigns it; nobody their own."""
    shift = await _shift_with_a_trainee(api)
    e = await api.entry(
        "operator", shift["id"], "reading", {"instrument": "DO probe", "value": 2, "unit": "mg/L"}
    )
    eid = e.json()["id"]
    assert e.json()["needs_countersignature"] is False  # the logbook's own rule: trainees
    own = await api.post(
        "operator", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["operator"]}
    )
    assert own.status_code == 403 and "own entry" in own.text
    crew = await api.post(
        "operator",
        f"/api/shifts/{shift['id']}/crew",
        {"person_id": await api.id("chief"), "shift_role": "chief"},
    )
    assert crew.status_code == 201, crew.text
    r = await api.post("chief", f"/api/entries/{eid}/countersign", {"password": PASSWORDS["chief"]})
    assert r.status_code == 201, r.text
    assert r.json()["countersignature"]["person_id"] == await api.id("chief")


async def test_a_trainee_cannot_open_or_sign_shifts(api):
    r = await api.post("trainee", "/api/shifts", {"site": "demo-wwtp"})
    assert r.status_code == 403
    assert (await api.get("operator", "/api/shifts")).json()["items"] == []
    # Not even a closed shift the trainee worked on:
    shift = await _shift_with_a_trainee(api)
    assert (await api.post("operator", f"/api/shifts/{shift['id']}/close", {})).status_code == 200
    r = await api.post(
        "trainee", f"/api/shifts/{shift['id']}/sign", {"password": PASSWORDS["trainee"]}
    )
    assert r.status_code == 403
    shown = (await api.get("operator", f"/api/shifts/{shift['id']}")).json()
    assert shown["signed"] is False and shown["signatures"] == []
    assert [a for a, _ in audit_actions(api.db_url, "forbidden")] == ["trainee", "trainee"]


async def test_opening_a_shift_is_idempotent(api):
    body = {"site": "demo-wwtp", "label": "day", "client_key": "tablet-7-open-1"}
    first = await api.post("operator", "/api/shifts", body)
    again = await api.post("operator", "/api/shifts", body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replay"] == "true"
    assert first.json()["id"] == again.json()["id"]
    r = await api.post("operator", "/api/shifts", {**body, "label": "night"})
    assert r.status_code == 409
    assert [s["id"] for s in (await api.get("operator", "/api/shifts")).json()["items"]] == [
        first.json()["id"]
    ]


async def test_unknown_site_is_422_naming_the_field(api):
    r = await api.post("operator", "/api/shifts", {"site": "nowhere"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "site"]


async def test_crew_times_are_corrected_by_amendment(api):
    shift = await api.open_shift("operator")
    [member] = shift["crew"]
    later = datetime.now(UTC) - timedelta(minutes=30)
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "crew",
            "target_id": member["id"],
            "changes": {"arrived_at": later.isoformat()},
            "reason": "badge log shows 30 min late",
        },
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "crew",
            "target_id": member["id"],
            "changes": {"left_at": (later - timedelta(hours=1)).isoformat()},
            "reason": "oops",
        },
    )
    assert r.status_code == 422 and "before the person arrived" in r.text
    shown = (await api.get("operator", f"/api/shifts/{shift['id']}")).json()
    [crew] = shown["crew"]
    assert datetime.fromisoformat(crew["arrived_at"]) == later
    assert crew["original"]["arrived_at"] == member["arrived_at"]
    assert crew["history"][0]["reason"] == "badge log shows 30 min late"


async def test_double_taps_on_crew_handoff_and_custody_record_once(api):
    import asyncio

    shift = await api.open_shift("operator")
    sid = shift["id"]
    op2 = await api.id("operator2")
    sample = await api.post(
        "operator",
        "/api/samples",
        {
            "site": "demo-wwtp",
            "sample_point": "influent",
            "sample_type": "grab",
            "sampled_at": datetime.now(UTC).isoformat(),
            "sampled_by": [await api.id("operator")],
        },
    )
    posts = [
        (f"/api/shifts/{sid}/crew", {"person_id": op2, "shift_role": "operator"}),
        (f"/api/shifts/{sid}/handoff", {"body": "check the grit classifier"}),
        (
            f"/api/samples/{sample.json()['id']}/custody",
            {"relinquished_by": "op", "received_by": "lab", "at": datetime.now(UTC).isoformat()},
        ),
    ]
    headers = await api.headers("operator", {"Idempotency-Key": "tap-1"})
    for path, body in posts:
        results = await asyncio.gather(
            *(api.client.post(path, json=body, headers=headers) for _ in range(4))
        )
        assert [r.status_code for r in results] == [201] * 4, [r.text for r in results]
        assert sum(r.headers.get("idempotent-replay") == "true" for r in results) == 3
        other = await api.client.post(
            path, json=body, headers={**headers, "Idempotency-Key": "tap-2"}
        )
        assert other.status_code == 201
    with psycopg.connect(api.db_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM shift_crew WHERE person_id = %s),"
            " (SELECT count(*) FROM handoff_notes), (SELECT count(*) FROM custody_transfers)",
            (op2,),
        ).fetchone()
    # One row per key: the four taps with tap-1 made one, tap-2 another.
    assert counts == (2, 2, 2)
    reused = await api.client.post(
        f"/api/shifts/{sid}/handoff", json={"body": "something else"}, headers=headers
    )
    assert reused.status_code == 409

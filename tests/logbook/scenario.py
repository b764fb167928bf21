"""A full shift through the API, so every logbook table holds rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.support.api import PASSWORDS, Api


def insert_event(db_url: str) -> int:
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "INSERT INTO events (site_id, kind, code, severity, message, started_at, last_seen_at)"
            " SELECT id, 'limit', 'hi', 'alarm', 'effluent turbidity high', %s, %s FROM sites"
            " WHERE code = 'demo-wwtp' RETURNING id",
            (now - timedelta(minutes=5), now),
        ).fetchone()
        assert row is not None
        return int(row[0])


# The demo site's file: a range for the scenario's lab result.
SITE_FILE = """\
site: {code: demo-wwtp, name: Clearwell Demo WWTP}
analytes:
  tss: {unit: mg/L, instrument: [0, null], plausible: [0, 2]}
"""


async def full_shift(api: Api) -> dict[str, Any]:
    """Opens, staffs, records, samples (a result confirmed outside its plausible range),
    amends, hands off, closes and signs a shift."""
    chief, op, trainee = await api.id("chief"), await api.id("operator"), await api.id("trainee")
    shift = await api.open_shift(
        "chief",
        crew=[
            {"person_id": chief, "shift_role": "drc"},
            {"person_id": op, "shift_role": "operator"},
            {"person_id": trainee, "shift_role": "trainee"},
        ],
    )
    sid = shift["id"]
    site_file = api.data_dir / "sites" / "demo-wwtp.yaml"
    site_file.parent.mkdir(parents=True, exist_ok=True)
    site_file.write_text(SITE_FILE)
    event_id = insert_event(api.db_url)
    ack = await api.entry("operator", sid, "alarm_ack", {"event_id": event_id, "response": "ok"})
    assert ack.status_code == 201, ack.text
    reading = await api.entry(
        "trainee", sid, "reading", {"instrument": "effluent pH", "value": 7.2, "unit": "pH"}
    )
    assert reading.status_code == 201, reading.text
    r = await api.post(
        "operator",
        f"/api/entries/{reading.json()['id']}/countersign",
        {"password": PASSWORDS["operator"]},
    )
    assert r.status_code == 201, r.text
    sample = await api.post(
        "operator",
        "/api/samples",
        {
            "site": "demo-wwtp",
            "shift_id": sid,
            "sample_point": "final effluent",
            "sample_type": "grab",
            "sampled_at": datetime.now(UTC).isoformat(),
            "sampled_by": [op],
            "custody": [
                {
                    "relinquished_by": "operator",
                    "received_by": "plant lab",
                    "at": datetime.now(UTC).isoformat(),
                }
            ],
        },
    )
    assert sample.status_code == 201, sample.text
    result = await api.post(
        "operator",
        f"/api/samples/{sample.json()['id']}/results",
        {
            "analyte": "TSS",
            "method": "SM 2540 D",
            "analyzed_at": datetime.now(UTC).isoformat(),
            "analyst_id": op,
            "value": 4.0,
            "unit": "mg/L",
            # Above the plausible range the site file below sets.
            "plausibility": {"confirmed": True, "reason": "storm flow carried solids over"},
        },
    )
    assert result.status_code == 201, result.text
    # The chief, who neither took nor analysed it, verifies the sample and its result.
    for extra in ({}, {"result_id": result.json()["results"][0]["id"]}):
        r = await api.post(
            "chief",
            f"/api/samples/{sample.json()['id']}/countersign",
            {"password": PASSWORDS["chief"], **extra},
        )
        assert r.status_code == 201, r.text
    amend = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": reading.json()["id"],
            "changes": {"data": {"value": 7.3}},
            "reason": "misread the display",
        },
    )
    assert amend.status_code == 201, amend.text
    crew_id = next(c["id"] for c in shift["crew"] if c["person_id"] == trainee)
    r = await api.post("chief", f"/api/shifts/{sid}/crew/{crew_id}/departure", {})
    assert r.status_code == 200, r.text
    note = await api.post("chief", f"/api/shifts/{sid}/handoff", {"body": "RAS pump 2 noisy"})
    assert note.status_code == 201, note.text
    nxt = await api.open_shift(
        "chief", crew=[{"person_id": chief, "shift_role": "drc"}], label="night"
    )
    r = await api.post(
        "chief", f"/api/handoff-notes/{note.json()['id']}/acknowledge", {"shift_id": nxt["id"]}
    )
    assert r.status_code == 200, r.text
    r = await api.post("chief", f"/api/shifts/{sid}/close", {})
    assert r.status_code == 200, r.text
    r = await api.post("operator", f"/api/shifts/{sid}/sign", {"password": PASSWORDS["operator"]})
    assert r.status_code == 201, r.text
    await api.client.post("/api/auth/login", json={"username": "operator", "password": "nope"})
    r = await api.post("admin", f"/api/people/{trainee}/role", {"role": "operator"})
    assert r.status_code == 200, r.text
    r = await api.post("regulator", "/api/auth/logout")
    assert r.status_code == 204
    api.tokens.pop("regulator")
    return {"shift": sid, "reading": reading.json()["id"], "sample": sample.json()["id"]}

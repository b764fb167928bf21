"""The shift report over HTTP on a real database: GET /api/shifts/{id}/report.pdf and
.html with crew and who held charge (the compliance engine's coverage, its stretch with
no one), entries with verification and amendments, a sample and its amended result, an
alarm and its acknowledgement, handoff notes, the signature and the key readings; markup
typed anywhere printed as text; who may read it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from pypdf import PdfReader

from dashboards.trends.rollups import mark_dirty, refresh_once
from tests.dashboards.scenario import SITE, TZ, api_caller, make_gap, make_sample
from tests.support.api import PASSWORDS, Api

HOSTILE = '"><img src=/etc/passwd>'


def pdf_text(body: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(p.extract_text() for p in reader.pages), reader


def packed(text: str) -> str:
    return "".join(text.split())


def event(db_url: str, message: str, started: datetime, tag_id: int | None = None) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "INSERT INTO events (site_id, tag_id, kind, code, severity, message, started_at,"
            " last_seen_at) SELECT id, %s, 'limit', 'hi', 'alarm', %s, %s, %s FROM sites"
            " WHERE code = %s RETURNING id",
            (tag_id, message, started, started, SITE),
        ).fetchone()
        assert row is not None
        return int(row[0])


async def readings(db_url: str, start: datetime, values: list[float]) -> None:
    """A tag of the site with a value a minute from ``start``, rolled up."""
    with psycopg.connect(db_url) as conn:
        (tag,) = conn.execute(
            "INSERT INTO tags (site_id, name, description, unit, source_protocol)"
            " SELECT id, 'eff.ph', 'Effluent pH', 'pH', 'manual' FROM sites WHERE code = %s"
            " RETURNING id",
            (SITE,),
        ).fetchone()
        rows = [(start + timedelta(minutes=i), tag, v, 0) for i, v in enumerate(values)]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO readings (time, tag_id, value, status) VALUES (%s, %s, %s, %s)", rows
            )
        mark_dirty(conn, rows)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
        while (await refresh_once(aconn)).marks:
            pass


async def ok(api: Api, who: str, path: str, body: object = None) -> dict:
    r = await api.post(who, path, body)
    assert 200 <= r.status_code < 300, r.text
    return r.json()


async def test_the_report_of_a_signed_shift_has_every_part(api: Api) -> None:
    ids = {u: await api.id(u) for u in ("chief", "operator", "trainee", "admin", "regulator")}
    s = await make_gap(api_caller(api), ids)
    sample, _ = await make_sample(api_caller(api), s)
    await readings(api.db_url, s.opened + timedelta(minutes=5), [6.9, 7.0, 7.4, 7.1])
    alarm = event(api.db_url, "Effluent turbidity high", s.left + timedelta(minutes=2))
    await ok(
        api,
        "operator",
        "/api/entries",
        {
            "shift_id": s.shift_id,
            "kind": "alarm_ack",
            "data": {"event_id": alarm, "response": "backwashed filter 1"},
        },
    )
    await ok(
        api,
        "operator",
        f"/api/entries/{s.trainee_entry}/countersign",
        {"password": PASSWORDS["operator"]},
    )
    await ok(api, "operator", f"/api/shifts/{s.shift_id}/handoff", {"body": "RAS pump 2 noisy"})
    await ok(api, "operator", f"/api/shifts/{s.shift_id}/close", {})
    await ok(api, "operator", f"/api/shifts/{s.shift_id}/sign", {"password": PASSWORDS["operator"]})

    r = await api.get("regulator", f"/api/shifts/{s.shift_id}/report.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text, reader = pdf_text(r.content)
    flat = packed(text)
    opened = s.opened.astimezone(TZ)
    left = s.left.astimezone(TZ)
    for expected in [
        "Clearwell Demo WWTP",
        f"{opened:%A %Y-%m-%d}",
        f"shift day (#{s.shift_id})",
        f"Opened {opened:%Y-%m-%d %H:%M %Z}",
        "Status signed",
        # Who held charge: the chief until leaving, then no one (the engine's coverage).
        f"{opened:%H:%M} {left:%H:%M} Casey Chief (demo)",
        f"{left:%H:%M}",
        "no one held charge",
        "compliance engine",
        # Crew, entries with their verification and amendments.
        "Tess Trainee (demo)",
        "trainee",
        "Wet well level checked by the trainee.",
        "verified by Oli Operator",
        "12.5 gal → 15 gal",
        "Reason: misread the day tank gauge",
        # The sample and its amended result.
        "Effluent",
        "Total residual chlorine: 0.08 mg/L",
        "decimal slipped when transcribing",
        # The alarm and its acknowledgement, the handoff note, the signature.
        "Effluent turbidity high",
        "backwashed filter 1",
        "RAS pump 2 noisy",
        "not acknowledged yet",
        "reviewed and attest this shift record",
        # The key readings: min, avg, max and how many samples.
        "Effluent pH pH 6.9 7.1 7.4 4",
    ]:
        assert packed(expected) in flat, (expected, text)
    pages = len(reader.pages)
    for n, page in enumerate(reader.pages, start=1):
        page_text = packed(page.extract_text())
        assert packed(f"Page {n} of {pages}") in page_text
        assert packed(f"Shift report: Clearwell Demo WWTP ({SITE})") in page_text
        assert packed(f"shift day (#{s.shift_id})") in page_text

    # The page has the same parts, for every role that reads the log.
    for who in ("operator", "trainee", "chief", "admin", "regulator"):
        r = await api.get(who, f"/api/shifts/{s.shift_id}/report.html")
        assert r.status_code == 200, (who, r.text)
    html = r.text
    for expected in [
        "Casey Chief (demo)",
        "no one held charge",
        "Reason: misread the day tank gauge",
        "backwashed filter 1",
        "RAS pump 2 noisy",
        "Effluent pH",
        f'href="http://test/api/shifts/{s.shift_id}/report.pdf"',
        "shift-report.css",
    ]:
        assert expected in html, expected
    assert f'data-sample="{sample}"' not in html  # the report's, not the records page's


async def test_markup_typed_anywhere_is_printed_as_text(api: Api) -> None:
    admin = await api.id("admin")
    person = await ok(
        api,
        "admin",
        "/api/people",
        {
            "username": "hostile",
            "full_name": f"Hal {HOSTILE}",
            "role": "operator",
            "password": "hostile-password-1",
        },
    )
    assert admin
    shift = await api.open_shift(
        "operator",
        label=f"night {HOSTILE}",
        crew=[
            {"person_id": await api.id("operator"), "shift_role": "operator"},
            {"person_id": person["id"], "shift_role": "operator"},
        ],
    )
    sid = shift["id"]
    await ok(
        api,
        "operator",
        "/api/entries",
        {"shift_id": sid, "kind": "note", "data": {"text": f"entry {HOSTILE} & <b>bold</b>"}},
    )
    alarm = event(api.db_url, f"alarm {HOSTILE}", datetime.now(UTC) - timedelta(minutes=1))
    await ok(
        api,
        "operator",
        "/api/entries",
        {"shift_id": sid, "kind": "alarm_ack", "data": {"event_id": alarm, "response": HOSTILE}},
    )
    await ok(api, "operator", f"/api/shifts/{sid}/handoff", {"body": f"note {HOSTILE}"})

    r = await api.get("operator", f"/api/shifts/{sid}/report.pdf")
    assert r.status_code == 200, r.text
    text, reader = pdf_text(r.content)
    flat = packed(text)
    for typed in [
        f"night {HOSTILE}",
        f"Hal {HOSTILE}",
        f"entry {HOSTILE} & <b>bold</b>",
        f"alarm {HOSTILE}",
        f"note {HOSTILE}",
    ]:
        assert packed(typed) in flat, (typed, text)
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        assert not list(resources.get("/XObject") or {})

    r = await api.get("operator", f"/api/shifts/{sid}/report.html")
    assert r.status_code == 200
    assert "<img" not in r.text and "<b>bold" not in r.text
    assert "&#34;&gt;&lt;img src=/etc/passwd&gt;" in r.text
    assert len(re.findall("&lt;img src=/etc/passwd&gt;", r.text)) >= 5


async def test_who_may_read_it(api: Api) -> None:
    shift = await api.open_shift()
    path = f"/api/shifts/{shift['id']}/report"
    api.client.cookies.clear()
    assert (await api.client.get(path + ".pdf")).status_code == 401
    r = await api.client.get(path + ".html")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    for who in ("operator", "trainee", "chief", "admin", "regulator"):
        assert (await api.get(who, path + ".pdf")).status_code == 200, who
    assert (await api.get("operator", "/api/shifts/999999/report.pdf")).status_code == 404
    assert (await api.get("operator", "/api/shifts/999999/report.html")).status_code == 404
    assert (await api.get("operator", "/api/shifts/x/report.pdf")).status_code == 422


@pytest.mark.parametrize("suffix", ["pdf", "html"])
async def test_an_open_shift_without_a_profile_reads_the_crews_drc(api: Api, suffix: str) -> None:
    shift = await api.open_shift(
        "chief", crew=[{"person_id": await api.id("chief"), "shift_role": "drc"}]
    )
    r = await api.get("chief", f"/api/shifts/{shift['id']}/report.{suffix}")
    assert r.status_code == 200
    text = pdf_text(r.content)[0] if suffix == "pdf" else r.text
    assert "crew&#39;s DRC role" in text or "crew's DRC role" in text
    assert "still open" in text and "Casey Chief (demo)" in text

"""The floor terminal's server-rendered parts through the app on a real database (the
browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dashboards.floor import queries as fq
from dashboards.floor.forms import ACTIONS, FORMS, with_ranges
from ingest import heartbeat
from sitefile.datadir import site_file
from sitefile.load import parse_config
from sitefile.ranges import NO_RANGES, site_ranges
from tests.dashboards.floor.plant import SITE, Plant, make_plant
from tests.dashboards.helpers import app_client, make_site
from tests.dashboards.people import log_in, password_of


@pytest.fixture
async def plant(db_url: str) -> Plant:
    return await make_plant(db_url)


def floor_data(html: str) -> dict[str, Any]:
    """What the page hands its script (the ``floor-data`` JSON)."""
    found = re.search(r'<script type="application/json" id="floor-data">(.*?)</script>', html)
    assert found, "the page has its data"
    return dict(json.loads(found.group(1)))


def tile(html: str, tag: str) -> str:
    """The markup of one tile, up to the next tile or area."""
    chunks = [c.split('<div class="area">')[0] for c in html.split('<div class="tile ')[1:]]
    found = [c for c in chunks if f'data-tag="{tag}"' in c]
    assert len(found) == 1, f"no tile for {tag}"
    return found[0]


async def test_floor_needs_a_floor_role_and_a_session(plant):
    async with app_client(plant.db_url) as c:
        anon_page = await c.get("/floor/plant1")
        anon_part = await c.get("/floor/plant1/tiles")
        await log_in(c, "reggie")
        regulator = await c.get("/floor/plant1")
        await log_in(c, "oli")
        home = await c.get("/floor")
        missing = await c.get("/floor/nowhere")
    assert anon_page.status_code == 303
    assert anon_page.headers["location"] == "/login?next=%2Ffloor%2Fplant1"
    assert anon_part.status_code == 401
    assert regulator.status_code == 403
    assert (home.status_code, home.headers["location"]) == (303, "/floor/plant1")
    assert missing.status_code == 404


@pytest.mark.parametrize(("settings", "seconds"), [({}, 120), ({"floor_lock_after_s": 45}, 45)])
async def test_the_terminal_locks_after_the_configured_seconds(plant, settings, seconds):
    async with app_client(plant.db_url, **settings) as c:
        await log_in(c, "oli")
        page = await c.get("/floor/plant1")
    assert page.status_code == 200, page.text
    assert floor_data(page.text)["lock_after_s"] == seconds


PLANT_FILE = """\
site: {code: plant1, name: Plant 1}
modbus:
  devices:
    - {name: plc, host: 127.0.0.1}
tags:
  - name: aeration.do
    unit: mg/L
    range: {instrument: [0, 20], plausible: [0, 12]}
    modbus: {device: plc, register: holding, address: 0, type: float32}
analytes:
  bod5: {unit: mg/L, instrument: [0, null]}
"""


async def test_the_page_draws_its_forms_from_the_logbooks_kinds(plant, tmp_path):
    async with app_client(plant.db_url, data_dir=tmp_path) as c:
        await log_in(c, "oli")
        page = await c.get("/floor/plant1")
        # With the site's file, its numbers carry the ranges it sets.
        site_file(tmp_path, SITE).parent.mkdir()
        site_file(tmp_path, SITE).write_text(PLANT_FILE)
        ranged = await c.get("/floor/plant1")
        # A file that is not valid leaves the page working, without ranges.
        site_file(tmp_path, SITE).write_text(PLANT_FILE.replace("[0, 20]", "[20, 0]"))
        broken = await c.get("/floor/plant1")
    assert floor_data(page.text)["forms"] == json.loads(
        json.dumps(with_ranges(FORMS, NO_RANGES, plant.tags))
    )
    forms = floor_data(ranged.text)["forms"]
    assert forms == json.loads(
        json.dumps(with_ranges(FORMS, site_ranges(parse_config(PLANT_FILE)), plant.tags))
    )
    value = next(f for f in forms["reading"]["fields"] if f["name"] == "value")
    assert value["ranges_of"][str(plant.tags["aeration.do"])]["instrument"] == [0, 20]
    assert broken.status_code == 200
    assert floor_data(broken.text)["forms"] == floor_data(page.text)["forms"]
    buttons = re.findall(
        r'<button type="button" class="action" data-form="(\w+)">([^<]*)<', page.text
    )
    assert buttons == list(ACTIONS.items())


async def test_a_pin_session_opens_its_own_site(plant, db_url):
    with psycopg.connect(db_url) as conn:
        make_site(conn, "aaa-first")  # first by name, but not where the PIN was used
    async with app_client(plant.db_url) as c:
        r = await c.post(
            "/api/auth/pin-login", json={"site": SITE, "username": "oli", "pin": "1357"}
        )
        assert r.status_code == 200, r.text
        home = await c.get("/floor")
    assert home.headers["location"] == "/floor/plant1"


async def test_tiles_show_only_good_fresh_numbers_as_current(plant):
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        page = await c.get("/floor/plant1")
        part = await c.get("/floor/plant1/tiles")
    assert page.status_code == 200, page.text
    assert "app;dur=" in page.headers["server-timing"]
    for html in (page.text, part.text):
        ph = tile(html, "effluent.ph")
        assert 'data-state="good"' in ph and ">9.10<" in ph and "HI" in ph
        assert f'data-ack="{plant.alarm_id}"' in ph
        # A tile's name opens its trend.
        assert 'href="/trends?site=plant1&amp;tag=effluent.ph&amp;period=8h"' in ph
        stale = tile(html, "effluent.turbidity")
        assert 'data-state="stale"' in stale and "0.420" in stale and "STALE" in stale
        assert 'tile-number">0.420' not in stale
        bad = tile(html, "aeration.airflow")
        assert 'data-state="bad"' in bad and "BAD signal" in bad
        assert 'data-state="none"' in tile(html, "influent.flow")
    # Areas in order, Aeration first.
    assert (
        page.text.index(">Aeration<")
        < page.text.index(">Effluent<")
        < page.text.index(">Influent<")
    )


async def test_an_acknowledged_alarm_leaves_the_alarm_bar(plant):
    async with app_client(plant.db_url) as c:
        body = await log_in(c, "casey")
        before = await c.get("/floor/plant1/alarms")
        shift = await c.post("/api/shifts", json={
            "site": SITE, "label": "Day",
            "crew": [{"person_id": body["user"]["id"], "shift_role": "drc"}]})  # fmt: skip
        assert shift.status_code == 201, shift.text
        ack = await c.post("/api/entries", json={
            "shift_id": shift.json()["id"], "kind": "alarm_ack",
            "data": {"event_id": plant.alarm_id, "response": "checked the probe"}})  # fmt: skip
        assert ack.status_code == 201, ack.text
        after = await c.get("/floor/plant1/alarms")
        tiles = await c.get("/floor/plant1/tiles")
    assert "Effluent pH high" in before.text and f'data-ack="{plant.alarm_id}"' in before.text
    assert "Effluent pH high" not in after.text and "No alarms" in after.text
    assert f'data-ack="{plant.alarm_id}"' not in tiles.text


async def test_the_tiles_carry_the_alarm_bar_out_of_band(plant):
    """The page polls the tiles only; their answer brings the alarm bar with it, as an
    htmx out-of-band swap of the #alarms section's content (its attributes stay)."""
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        page = await c.get("/floor/plant1")
        part = await c.get("/floor/plant1/tiles")
        bar = await c.get("/floor/plant1/alarms")
    assert part.status_code == 200 and bar.status_code == 200
    opening = re.compile(r'<section id="alarms"[^>]*>')
    assert opening.findall(page.text) == ['<section id="alarms" class="alarms">']
    assert "/floor/plant1/alarms" not in page.text
    tiles = re.findall(r'<section id="tiles"[^>]*>', page.text)
    assert len(tiles) == 1 and 'hx-get="/floor/plant1/tiles"' in tiles[0]
    assert 'hx-trigger="every 5s, floor-refresh from:body"' in tiles[0]
    assert opening.findall(part.text) == ['<section id="alarms" hx-swap-oob="innerHTML">']
    carried = re.findall(r'<section id="alarms"[^>]*>(.*?)</section>', part.text, re.S)
    assert len(carried) == 1 and carried[0].strip() == bar.text.strip()
    assert f'data-event-id="{plant.alarm_id}"' in carried[0]
    shown = re.findall(r'<section id="alarms"[^>]*>(.*?)</section>', page.text, re.S)
    assert shown[0].strip() == bar.text.strip()


def _heartbeat(db_url: str, age: str) -> None:
    """The ingest process's health rows for plant1, as last written ``age`` ago."""
    with psycopg.connect(db_url) as conn:
        for component, kind in (("writer", "writer"), ("modbus:plc", "modbus_device")):
            conn.execute(
                "INSERT INTO ingest_health (site_code, component, kind, state, updated_at)"
                " VALUES (%s, %s, %s, 'up', now() - %s::interval) ON CONFLICT (site_code,"
                " component) DO UPDATE SET updated_at = excluded.updated_at",
                (SITE, component, kind, age),
            )


async def test_collection_stopped_is_an_alarm_the_tiles_bring_and_clear(plant, monkeypatch):
    # This app has watched for longer than a heartbeat may be old.
    monkeypatch.setattr(heartbeat, "WATCHING_SINCE", datetime.now(UTC) - timedelta(hours=1))
    _heartbeat(plant.db_url, "3 seconds")
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        beating = await c.get("/floor/plant1/tiles")
        _heartbeat(plant.db_url, "40 seconds")
        stopped = await c.get("/floor/plant1/tiles")
        again = await c.get("/floor/plant1/tiles")
        _heartbeat(plant.db_url, "1 second")
        back = await c.get("/floor/plant1/tiles")
    assert "Data collection stopped" not in beating.text
    bar = re.findall(r'<section id="alarms"[^>]*>(.*?)</section>', stopped.text, re.S)[0]
    alarm = re.search(
        r'<div class="alarm alarm-alarm" data-event-id="(\d+)">(.*?)</div>', bar, re.S
    )
    assert alarm, bar
    assert "Data collection stopped: Modbus device plc since " in alarm.group(2)
    assert f'data-ack="{alarm.group(1)}"' in alarm.group(2)  # acknowledged like any alarm
    assert again.text.count('<span class="alarm-msg">Data collection stopped') == 1
    cleared = re.search(
        rf'<div class="alarm alarm-alarm alarm-cleared" data-event-id="{alarm.group(1)}">'
        r"(.*?)</div>",
        back.text,
        re.S,
    )
    assert cleared and "cleared" in cleared.group(1)


async def test_an_older_active_alarm_stays_behind_many_newer_acknowledged_ones(plant):
    """However many newer alarms were acknowledged, an older unacknowledged one that is
    still active stays on the alarm bar."""
    newer = fq.MAX_ALARMS * 4 + 5
    now = datetime.now(UTC)
    with psycopg.connect(plant.db_url) as conn:
        casey = plant.people["casey"]
        row = conn.execute(
            "INSERT INTO shifts (site_id, label, opened_at, opened_by)"
            " VALUES (%s, 'Day', %s, %s) RETURNING id",
            (plant.site_id, now - timedelta(hours=1), casey),
        ).fetchone()
        assert row
        for i in range(newer):
            # Started after the plant's alarm (3 minutes ago), cleared, acknowledged.
            started = now - timedelta(minutes=2) + timedelta(milliseconds=i)
            event = conn.execute(
                "INSERT INTO events (site_id, tag_id, kind, code, severity, message,"
                " started_at, last_seen_at, ended_at)"
                " VALUES (%s, NULL, 'device', 'down', 'warning', %s, %s, %s, %s) RETURNING id",
                (plant.site_id, f"Link down {i}", started, started, started),
            ).fetchone()
            assert event
            conn.execute(
                "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
                " recorded_by, event_id) VALUES (%s, %s, 'alarm_ack', %s, true, %s, %s, %s)",
                (plant.site_id, row[0], Jsonb({"event_id": event[0], "response": "ok"}),
                 now, casey, event[0]),
            )  # fmt: skip
    async with await psycopg.AsyncConnection.connect(plant.db_url) as conn:
        listed = await fq.alarms(conn, plant.site_id)
    assert [a["id"] for a in listed] == [plant.alarm_id]
    async with app_client(plant.db_url) as c:
        await log_in(c, "casey")
        bar = await c.get("/floor/plant1/alarms")
    assert bar.status_code == 200
    assert "Effluent pH high" in bar.text and f'data-ack="{plant.alarm_id}"' in bar.text
    assert "Link down" not in bar.text


async def test_shift_panel_crew_handoff_and_review(plant):
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        empty = await c.get("/floor/plant1/shift")
        await log_in(c, "casey")
        first = await c.post("/api/shifts", json={"site": SITE, "label": "Night", "crew": [
            {"person_id": plant.people["casey"], "shift_role": "drc"}]})  # fmt: skip
        sid = first.json()["id"]
        note = await c.post(f"/api/shifts/{sid}/handoff", json={"body": "Blower 2 is noisy"})
        assert note.status_code == 201, note.text
        assert (await c.post(f"/api/shifts/{sid}/close", json={})).status_code == 200
        closed = await c.get("/floor/plant1/shift")
        sign = await c.post(f"/api/shifts/{sid}/sign", json={"password": password_of("casey")})
        assert sign.status_code == 201, sign.text
        second = await c.post("/api/shifts", json={"site": SITE, "label": "Day", "crew": [
            {"person_id": plant.people["casey"], "shift_role": "drc"},
            {"person_id": plant.people["oli"], "shift_role": "operator"}]})  # fmt: skip
        entry = await c.post("/api/entries", json={"shift_id": second.json()["id"],
            "kind": "chemical_addition", "data": {"chemical": "NaOCl", "amount": 12,
            "unit": "gal", "feed_point": "contact tank"}})  # fmt: skip
        assert entry.status_code == 201, entry.text
        as_drc = await c.get("/floor/plant1/shift")
        review = await c.get("/floor/plant1/review")
        await log_in(c, "oli")
        as_op = await c.get("/floor/plant1/shift")
        page = await c.get("/floor/plant1")
    assert "No shift open" in empty.text and 'id="open-shift"' in empty.text
    # A closed shift waiting for its signature blocks nothing: the next one can open.
    assert "Awaiting signature" in closed.text and 'id="open-shift"' in closed.text
    assert f'data-review-shift="{sid}"' in closed.text
    assert "Day · since" in as_drc.text and "Casey Chief" in as_drc.text and "Oli Op" in as_drc.text
    assert "Blower 2 is noisy" in as_drc.text
    assert 'data-ack-note="' in as_drc.text  # who holds charge may acknowledge
    assert 'data-ack-note="' not in as_op.text
    assert "For whoever holds charge of this shift to acknowledge" in as_op.text
    assert "NaOCl" in review.text and "contact tank" in review.text and "1 entry," in review.text
    # The last values of each kind are offered again in the forms.
    last = floor_data(page.text)["last_values"]
    assert last["chemical_addition"]["chemical"] == "NaOCl"
    assert last["chemical_addition"]["feed_point"] == "contact tank"

"""The floor's shift work through the app on a real database: who holds charge and the
coverage that follows, the shift log, verification at the terminal with the verifier's
own PIN, and shifts awaiting signature that block nothing (the day's browser test drives
the same in Chromium)."""

from __future__ import annotations

import re
from datetime import date

import httpx
import psycopg
import pytest

from tests.dashboards.floor.plant import PINS, SITE, Plant, make_plant
from tests.dashboards.helpers import app_client
from tests.dashboards.people import add_person, log_in, password_of


@pytest.fixture
async def plant(db_url: str) -> Plant:
    plant = await make_plant(db_url)
    plant.people["dana"] = await add_person(db_url, "dana", "operator", pin="9753")
    today = date.today()
    with psycopg.connect(db_url) as conn:
        for who, grade in (("casey", "III"), ("oli", "II")):
            conn.execute(
                "INSERT INTO operator_certificates (person_id, state, category, grade, number,"
                " kind, issued, expires) VALUES (%s, 'UT', 'treatment', %s, %s, 'full', %s, %s)",
                (
                    plant.people[who],
                    grade,
                    f"UT-{who}",
                    date(today.year - 1, 1, 1),
                    date(today.year + 1, 12, 31),
                ),
            )
            # Assessed proficient: with no level on record the site's competency policy
            # counts an operator as emerging, who may not verify a trainee's entries.
            conn.execute(
                "INSERT INTO competency_assessments (site_id, person_id, level, assessed_on,"
                " assessor_id, recorded_by) VALUES (%s, %s, 'proficient', %s, %s, %s)",
                (plant.site_id, plant.people[who], date(today.year - 1, 1, 1),
                 plant.people["casey"], plant.people["casey"]),
            )  # fmt: skip
    return plant


def rows(plant: Plant, query: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(plant.db_url) as conn:
        return conn.execute(query, params).fetchall()


async def day_with_a_trainee(c: httpx.AsyncClient, plant: Plant) -> int:
    """Oli opens the day as its shift operator; Tess joins as a trainee."""
    await log_in(c, "oli")
    r = await c.post(
        "/api/shifts",
        json={
            "site": SITE,
            "label": "Day",
            "crew": [
                {"person_id": plant.people["oli"], "shift_role": "shift_operator"},
                {"person_id": plant.people["dana"], "shift_role": "operator"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    r = await c.post(
        f"/api/shifts/{sid}/crew",
        json={"person_id": plant.people["tess"], "shift_role": "trainee"},
    )
    assert r.status_code == 201, r.text
    return sid


async def trainee_entries(c: httpx.AsyncClient, plant: Plant, sid: int) -> dict[str, int]:
    await log_in(c, "tess")
    made = {}
    for kind, data in (
        ("reading", {"tag_id": plant.tags["aeration.do"], "value": 2.5, "unit": "mg/L"}),
        (
            "chemical_addition",
            {"chemical": "NaOCl", "amount": 12, "unit": "gal", "feed_point": "contact tank"},
        ),
    ):
        r = await c.post("/api/entries", json={"shift_id": sid, "kind": kind, "data": data})
        assert r.status_code == 201, r.text
        made[kind] = int(r.json()["id"])
    return made


async def test_a_trainee_joining_keeps_coverage_in_order_from_the_shifts_start(plant):
    async with app_client(plant.db_url) as c:
        await day_with_a_trainee(c, plant)
        panel = await c.get(f"/floor/{SITE}/shift")
        now = await c.get("/api/compliance/now", params={"facility": SITE})
    assert 'id="coverage" data-state="good"' in panel.text
    assert "Coverage in order: Oli Op holds charge as shift operator." in panel.text
    assert "Earlier this shift" not in panel.text
    # Nothing on record since the shift opened, not even for its first instant.
    assert now.json()["in_order"] is True and now.json()["findings"] == []


async def test_an_operator_not_in_charge_is_told_what_to_do(plant):
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        r = await c.post(
            "/api/shifts",
            json={
                "site": SITE,
                "label": "Day",
                "crew": [{"person_id": plant.people["oli"], "shift_role": "operator"}],
            },
        )
        assert r.status_code == 201
        panel = await c.get(f"/floor/{SITE}/shift")
    assert 'data-state="bad"' in panel.text and "Coverage NOT in order." in panel.text
    # The engine's answer in full, people by name, the shift by its label, and what next.
    assert "No one who may hold charge was on site from " in panel.text
    assert "shift “Day”: no operator in direct responsible charge, chief operator," in panel.text
    assert "Say who holds charge: change a crew member&#39;s role (Role)" in panel.text
    assert f"({plant.people['oli']})" not in panel.text
    assert "data-role-change=" in panel.text


async def test_the_shift_log_says_who_did_what_newest_first(plant):
    async with app_client(plant.db_url) as c:
        sid = await day_with_a_trainee(c, plant)
        made = await trainee_entries(c, plant, sid)
        r = await c.post(
            "/api/amendments",
            json={
                "target": "entry",
                "target_id": made["chemical_addition"],
                "changes": {"data": {"amount": 15}},
                "reason": "misread the gauge",
            },
        )
        assert r.status_code == 201, r.text
        log = await c.get(f"/floor/{SITE}/log")
        panel = await c.get(f"/floor/{SITE}/shift")
    html = log.text.split("<script")[0]  # what is shown, not the amend form's data
    assert html.index("Chemical") < html.index("Reading")  # newest first
    assert "Tess T" in html and html.count("Awaiting verification") == 2
    assert "DO basin 1" in html and "2.5 mg/L" in html and "tag_id" not in html
    assert "Amount: 12 gal → 15 gal" in html and "Why: misread the gauge" in html
    assert "Shift log (2 · 2 to verify)" in panel.text
    assert "Latest entry" in panel.text and "Amount: 15 gal" in panel.text


async def test_a_crew_member_verifies_at_the_trainees_terminal_with_their_pin(plant):
    async with app_client(plant.db_url) as c:
        sid = await day_with_a_trainee(c, plant)
        made = await trainee_entries(c, plant, sid)
        ids = list(made.values())
        form = await c.get(f"/floor/{SITE}/verify", params={"shift": sid})
        wrong = await c.post(
            f"/floor/{SITE}/verify", json={"entry_ids": ids, "username": "oli", "pin": "0000"}
        )
        # Dana is on the crew, but holds no certificate.
        uncertified = await c.post(
            f"/floor/{SITE}/verify", json={"entry_ids": ids, "username": "dana", "pin": "9753"}
        )
        ok = await c.post(
            f"/floor/{SITE}/verify", json={"entry_ids": ids, "username": "oli", "pin": PINS["oli"]}
        )
        again = await c.post(
            f"/floor/{SITE}/verify",
            json={"entry_ids": ids, "username": "oli", "password": password_of("oli")},
        )
        log = await c.get(f"/floor/{SITE}/log")
    assert form.status_code == 200
    assert '<option value="oli"' in form.text and '<option value="dana"' in form.text
    assert '<option value="tess"' not in form.text and 'name="pin"' in form.text
    assert (wrong.status_code, wrong.json()["detail"]) == (403, "Wrong user name, PIN or password.")
    assert uncertified.status_code == 409
    assert uncertified.json()["refused"] == [
        {"id": i, "why": "Dana held no valid certificate then"} for i in ids
    ]
    assert ok.status_code == 201, ok.text
    assert ok.json() == {"verified": ids, "by": "Oli Op"}
    assert again.status_code == 409  # already verified: the logbook's one countersignature
    assert "Verified by Oli Op" in log.text and "Awaiting verification" not in log.text
    signed = rows(plant, "SELECT entry_id, person_id FROM entry_countersignatures ORDER BY 1")
    assert signed == [(i, plant.people["oli"]) for i in ids]
    attempts = rows(
        plant,
        "SELECT username, method, outcome FROM login_attempts"
        " WHERE username IN ('oli', 'dana') AND method = 'pin' ORDER BY id",
    )
    assert attempts == [
        ("oli", "pin", "bad_credentials"),
        ("dana", "pin", "ok"),
        ("oli", "pin", "ok"),
    ]
    audited = rows(
        plant,
        "SELECT actor, action FROM audit_log"
        " WHERE action IN ('entry.countersign', 'auth.confirm_failed') ORDER BY seq",
    )
    assert audited == [
        ("oli", "auth.confirm_failed"),
        ("oli", "entry.countersign"),
        ("oli", "entry.countersign"),
    ]


async def test_direct_supervision_needs_the_verifier_on_site_at_the_time(plant):
    async with app_client(plant.db_url) as c:
        await log_in(c, "casey")
        r = await c.post(
            "/api/shifts",
            json={
                "site": SITE,
                "label": "Day",
                "crew": [
                    {"person_id": plant.people["dana"], "shift_role": "shift_operator"},
                    {"person_id": plant.people["tess"], "shift_role": "trainee"},
                ],
            },
        )
        sid = int(r.json()["id"])
        made = await trainee_entries(c, plant, sid)
        await log_in(c, "casey")
        # Oli arrives after the entries were made.
        r = await c.post(
            f"/api/shifts/{sid}/crew",
            json={"person_id": plant.people["oli"], "shift_role": "operator"},
        )
        assert r.status_code == 201
        await log_in(c, "tess")
        chem = await c.post(
            f"/floor/{SITE}/verify",
            json={"entry_ids": [made["chemical_addition"]], "username": "oli", "pin": PINS["oli"]},
        )
        reading = await c.post(
            f"/floor/{SITE}/verify",
            json={"entry_ids": [made["reading"]], "username": "oli", "pin": PINS["oli"]},
        )
    assert chem.status_code == 409
    assert "Oli Op was not on site at " in chem.json()["detail"]
    assert "direct supervision" in chem.json()["detail"]
    # A reading is verified later: being on site now is enough.
    assert reading.status_code == 201, reading.text


async def test_a_shift_awaiting_its_signature_blocks_nothing(plant):
    async with app_client(plant.db_url) as c:
        sid = await day_with_a_trainee(c, plant)
        await trainee_entries(c, plant, sid)
        await log_in(c, "oli")
        assert (await c.post(f"/api/shifts/{sid}/close", json={})).status_code == 200
        refused = await c.post(f"/api/shifts/{sid}/sign", json={"password": password_of("oli")})
        closed = await c.get(f"/floor/{SITE}/shift")
        review = await c.get(f"/floor/{SITE}/review", params={"shift": sid})
        r = await c.post(
            "/api/shifts",
            json={
                "site": SITE,
                "label": "Swing",
                "crew": [{"person_id": plant.people["oli"], "shift_role": "shift_operator"}],
            },
        )
        assert r.status_code == 201
        await log_in(c, "casey")
        as_chief = await c.get(f"/floor/{SITE}/shift")
    assert refused.status_code == 409
    assert "No shift open" in closed.text and 'id="open-shift"' in closed.text
    assert "Awaiting signature" in closed.text and "2 entries to verify" in closed.text
    assert f'data-verify-shift="{sid}"' in closed.text
    assert "2 entries wait for verification" in review.text and "Verify now" in review.text
    assert 'data-mode="sign"' not in review.text
    # The next shift is open, and the day stays listed for its crew and the chief.
    assert "Swing · since" in as_chief.text and f'data-review-shift="{sid}"' in as_chief.text


async def test_the_first_step_is_the_login_or_ones_own_page(plant):
    async with app_client(plant.db_url) as c:
        anon = await c.get("/")
        await log_in(c, "casey")
        chief = await c.get("/")
        c.headers.pop("Authorization")
        r = await c.post(
            "/api/auth/pin-login", json={"site": SITE, "username": "casey", "pin": PINS["casey"]}
        )
        assert r.status_code == 200
        at_terminal = await c.get("/")
    assert (anon.status_code, anon.headers["location"]) == (303, "/login")
    assert chief.headers["location"] == "/chief"
    # A PIN session is a floor terminal's, whatever the role.
    assert at_terminal.headers["location"] == "/floor"


async def test_a_floor_terminal_asks_for_a_pin_first(plant):
    async with app_client(plant.db_url) as c:
        desk = await c.get("/login")
        floor = await c.get("/login", params={"next": "/floor"})
        await log_in(c, "oli")
        page = await c.get(f"/floor/{SITE}")
        c.headers.pop("Authorization")
        # This browser is now the site's terminal: even from "/", the PIN comes first.
        terminal = await c.get("/login")
    assert page.cookies.get("clearwell_floor_site") == SITE
    assert hidden(desk.text, "pin-form") and not hidden(desk.text, "password-form")
    for html in (floor.text, terminal.text):
        assert not hidden(html, "pin-form") and hidden(html, "password-form")
        assert f'<option value="{SITE}" selected>' in html


def hidden(html: str, form: str) -> bool:
    found = re.search(rf'<form [^>]*id="{form}"[^>]*>', html)
    assert found, form
    return re.search(r"\bhidden\b", found.group(0)) is not None


async def test_the_awaiting_list_shows_the_newest_and_counts_the_rest(plant):
    with psycopg.connect(plant.db_url) as conn:
        for i in range(8):
            conn.execute(
                "WITH s AS (INSERT INTO shifts (site_id, label, opened_at, opened_by)"
                " VALUES (%s, %s, now() - make_interval(hours => %s + 8), %s) RETURNING id)"
                " INSERT INTO shift_closures (shift_id, closed_at, closed_by)"
                " SELECT id, now() - make_interval(hours => %s), %s FROM s",
                (plant.site_id, f"S{i}", i * 8, plant.people["oli"], i * 8, plant.people["oli"]),
            )
    async with app_client(plant.db_url) as c:
        await log_in(c, "oli")
        panel = await c.get(f"/floor/{SITE}/shift")
    assert panel.text.count('class="awaiting-shift"') == 6
    assert "<strong>S0</strong>" in panel.text and "<strong>S6</strong>" not in panel.text
    assert "and 2 older shifts of the last 14 days" in panel.text

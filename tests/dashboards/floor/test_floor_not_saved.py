"""Entries the server refuses after they were queued offline are kept, not lost: the
"not saved" tray on the floor terminal, "Fix and send", "Discard". Chromium against
``clearwell serve`` on a real database, with the server and plant fixtures of
``test_floor_browser``; the tests run in order as one story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.dashboards.floor import test_floor_browser as shared
from tests.dashboards.floor.plant import SITE, Plant
from tests.dashboards.floor.test_floor_browser import WAIT, Console, rows, shot, toast
from tests.dashboards.people import password_of

# The same module-scoped fixtures, a server and a browser of this module's own.
plant = shared.plant
base = shared.base
browser = shared.browser
no_leaked_threads = shared.no_leaked_threads

pytestmark = pytest.mark.browser

OUTBOX = "clearwell.floor.outbox.v1"
NOT_SAVED = "clearwell.floor.notsaved.v1"
CHEMICAL = {"#f-chemical": "NaOCl", "#f-amount": "5", "#f-unit": "gal",
            "#f-feed_point": "contact tank"}  # fmt: skip
NOTE = "Blower 2 restarted by hand"
ZONE = ZoneInfo("America/Denver")  # the plant's (tests/dashboards/floor/plant.py)


@pytest.fixture(scope="module")
def terminal(browser: Any, base: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def api(base: str) -> Iterator[httpx.Client]:
    """Casey through the logbook's API, for what happens elsewhere meanwhile."""
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/api/auth/login",
                        json={"username": "casey", "password": password_of("casey")})  # fmt: skip
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield client


def log_in(page: Any, username: str) -> None:
    page.goto(f"/login?next=/floor/{SITE}")
    page.locator(".login-modes .seg", has_text="Password").click()
    page.fill("#password-form input[name=username]", username)
    page.fill("#password-form input[name=password]", password_of(username))
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#floor", timeout=WAIT)


def queue_offline(page: Any, kind: str, fields: dict[str, str]) -> None:
    page.route("**/api/entries", lambda route: route.abort("internetdisconnected"))
    page.click(f".action[data-form={kind}]")
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click("#entry-save")
    assert toast(page).startswith("Kept on this terminal")
    page.unroute("**/api/entries")


def link_returns(page: Any, refused: int) -> None:
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector(f'#not-saved[data-count="{refused}"]', timeout=WAIT)
    page.wait_for_selector('#queue-status[data-count="0"]', state="attached", timeout=WAIT)


def set_backdate_limit(plant: Plant, limit: timedelta) -> None:
    with psycopg.connect(plant.db_url) as conn:
        conn.execute(
            "INSERT INTO site_logbook_settings (site_id, allow_pin_login, backdate_limit)"
            " VALUES (%s, true, %s)",
            (plant.site_id, limit),
        )


def storage(page: Any, key: str) -> list[dict[str, Any]]:
    return list(json.loads(page.evaluate(f"localStorage.getItem('{key}') || '[]'")))


def test_entries_refused_after_queuing_are_kept_with_the_reason(terminal, plant, api):
    page = terminal
    log_in(page, "casey")
    page.click("#open-shift")
    page.fill("#f-label", "Day")
    page.click("#entry-save")
    page.wait_for_selector("#shift .shift[data-shift-id]:not([data-shift-id=''])", timeout=WAIT)
    shift_id = int(page.locator("#shift .shift").get_attribute("data-shift-id"))
    assert page.locator("#not-saved").is_hidden()

    # Typed offline; by the time the link returns the entry is past the site's backdate
    # limit (a limit of a microsecond stands in for 24 h going by): the server says 422.
    queue_offline(page, "chemical_addition", CHEMICAL)
    set_backdate_limit(plant, timedelta(microseconds=1))
    link_returns(page, refused=1)
    assert toast(page).startswith("NOT saved: Chemical added")
    set_backdate_limit(plant, timedelta(hours=24))

    # Typed offline; the shift is closed elsewhere meanwhile: the server says 409.
    queue_offline(page, "note", {"#f-text": NOTE})
    r = api.post(f"/api/shifts/{shift_id}/close", json={})
    assert r.status_code == 200, r.text
    link_returns(page, refused=2)

    items = page.locator("#not-saved .ns-item")
    assert page.locator("#not-saved-count").inner_text().upper() == "2 ENTRIES NOT SAVED"
    chemical, note = items.nth(0), items.nth(1)
    assert chemical.locator(".ns-label").inner_text() == "Chemical added"
    assert chemical.locator(".ns-fields").inner_text() == (
        "Chemical NaOCl · Amount 5 · Unit gal · Feed point contact tank"
    )
    # When it was typed, in the plant's time (whatever zone the browser is in).
    at = datetime.fromisoformat(storage(page, NOT_SAVED)[0]["body"]["occurred_at"])
    assert chemical.locator(".ns-when").inner_text() == at.astimezone(ZONE).strftime("Typed %H:%M")
    why = chemical.locator(".ns-why").inner_text()
    assert why.startswith("Refused: Time: is more than ") and "the limit this site sets" in why
    assert note.locator(".ns-label").inner_text() == "Note"
    assert note.locator(".ns-fields").inner_text() == NOTE
    assert note.locator(".ns-why").inner_text() == f"Refused: shift {shift_id} is closed"
    for height in page.locator("#not-saved .button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert height >= 56
    assert rows(plant, "SELECT count(*) FROM entries") == [(0,)]
    assert storage(page, OUTBOX) == []

    # Kept on the terminal: a reload shows them again.
    page.reload()
    page.wait_for_selector('#not-saved[data-count="2"]', timeout=WAIT)
    shot(page, "not-saved")


def test_another_person_at_the_terminal_neither_sees_nor_sends_them(browser, base, terminal):
    refused = storage(terminal, NOT_SAVED)
    assert [item["label"] for item in refused] == ["Chemical added", "Note"]
    # One of Casey's entries still waiting to be sent, too.
    waiting = [dict(refused[1], key="floor-waiting-for-casey")]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    context.add_init_script(
        f"localStorage.setItem({json.dumps(OUTBOX)}, {json.dumps(json.dumps(waiting))});"
        f"localStorage.setItem({json.dumps(NOT_SAVED)}, {json.dumps(json.dumps(refused))});"
    )
    page = context.new_page()
    console = Console(page)
    log_in(page, "oli")
    assert page.locator(".floor-user").inner_text() == "Oli Op"
    page.evaluate("ClearwellFloor.outbox.flush()")
    assert page.locator("#not-saved").is_hidden()
    assert page.locator("#not-saved .ns-item").count() == 0
    assert page.locator("#queue-status").is_hidden()
    assert storage(page, OUTBOX) == waiting
    assert storage(page, NOT_SAVED) == refused
    context.close()
    assert console.errors == []


def test_fix_and_send_records_it_once_and_discard_removes_the_other(terminal, plant, api):
    page = terminal
    old_keys = {item["label"]: item["key"] for item in storage(page, NOT_SAVED)}
    # A new shift is open now (opened elsewhere; the panel follows).
    r = api.post("/api/shifts", json={
        "site": SITE, "label": "Swing",
        "crew": [{"person_id": plant.people["casey"], "shift_role": "drc"}]})  # fmt: skip
    assert r.status_code == 201, r.text
    new_shift = r.json()["id"]
    page.evaluate("htmx.trigger(document.body, 'shift-changed')")
    page.wait_for_selector(f'#shift .shift[data-shift-id="{new_shift}"]', timeout=WAIT)

    page.locator("#not-saved .ns-item", has_text="Chemical added").locator(".ns-fix").click()
    page.wait_for_selector("#entry-dialog[open]")
    assert page.locator("#entry-title").inner_text() == "Fix: Chemical added"
    assert page.locator("#entry-error").inner_text().startswith("Not saved: Time: is more than")
    assert page.input_value("#f-chemical") == "NaOCl" and page.input_value("#f-amount") == "5"
    assert page.input_value("#f-feed_point") == "contact tank"
    typed = datetime.fromisoformat(page.input_value("#f-occurred_at"))
    shot(page, "not-saved-fix")
    page.fill("#f-amount", "5.5")
    page.click("#entry-save")
    assert toast(page) == "Saved: Chemical added"
    page.wait_for_selector('#not-saved[data-count="1"]', timeout=WAIT)
    page.evaluate("ClearwellFloor.outbox.flush()")
    made = rows(plant, "SELECT shift_id, data->>'amount', client_key, occurred_at, recorded_by"
                       " FROM entries WHERE data->>'chemical' = 'NaOCl'")  # fmt: skip
    assert len(made) == 1
    shift_id, amount, key, occurred, who = made[0]
    assert (shift_id, amount, who) == (new_shift, "5.5", plant.people["casey"])
    assert key.startswith("floor-") and key != old_keys["Chemical added"]
    # The time it was typed (to the second, in the site's zone) is the time recorded.
    assert occurred.astimezone(ZONE).replace(tzinfo=None, microsecond=0) == typed
    assert datetime.now(UTC) - occurred < timedelta(minutes=5)

    # Discard asks first; "Keep it" keeps it.
    note = page.locator("#not-saved .ns-item", has_text="Note")
    note.locator(".ns-discard").click()
    page.wait_for_selector("#discard-dialog[open]")
    assert NOTE in page.locator("#discard-what").inner_text()
    page.click("#discard-dialog [data-close]")
    assert page.locator("#not-saved").get_attribute("data-count") == "1"
    note.locator(".ns-discard").click()
    page.click("#discard-yes")
    assert toast(page) == "Discarded"
    assert page.locator("#not-saved").is_hidden()
    assert storage(page, NOT_SAVED) == []
    assert rows(plant, "SELECT count(*) FROM entries WHERE data->>'text' = %s", NOTE) == [(0,)]
    assert page.console.errors == []

"""The floor terminal in a real browser: Debian's Chromium driven by Playwright, against
``clearwell serve`` on a real database. One server and one browser for the module; the
tests run in order as one shift: log in, open it, record, acknowledge, sign."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.dashboards.floor.plant import PINS, SITE, Plant, insert_event, make_plant
from tests.dashboards.helpers import copy_rows
from tests.dashboards.people import password_of
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    assert_accessible,
    need_browser,
    no_threads_left_but,
)
from tests.support.browser import SCREENSHOTS as BROWSER_SCREENSHOTS
from tests.support.serve import serve

SCREENSHOTS = BROWSER_SCREENSHOTS / "floor"
SIZES = [(1280, 800), (1920, 1080)]
LOCK_AFTER_S = 90
WAIT = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """As in tests/conftest.py, but the browser lives for the module: the worker thread
    of Playwright's event loop (``asyncio_N``, made at the first file write) stays with it
    and is stopped with the browser."""
    with no_threads_left_but("asyncio_"):
        yield


@pytest.fixture(scope="module")
def plant(db_server) -> Iterator[Plant]:
    need_browser()
    url = db_server.make_database()
    try:
        yield asyncio.run(make_plant(url))
    finally:
        db_server.drop_database(url)


@pytest.fixture(scope="module")
def base(plant: Plant) -> Iterator[str]:
    with serve(plant.db_url, CLEARWELL_FLOOR_LOCK_AFTER_S=str(LOCK_AFTER_S)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Console:
    """Script errors on a page. Refused requests (a wrong PIN, a cut link) are part of
    the flows tested here, and Chromium logs each one; those are not script errors."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)


@pytest.fixture(scope="module")
def terminal(browser: Any, base: str) -> Iterator[Any]:
    """The chief operator's terminal at 1280x800, shared by the tests in order."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


def rows(plant: Plant, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(plant.db_url) as conn:
        return conn.execute(query, params).fetchall()


def shot(page: Any, name: str) -> None:
    """A screen worth looking at: axe-core finds nothing serious on it, and it is saved."""
    assert_accessible(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"))


def toast(page: Any) -> str:
    page.wait_for_selector("#toast:not([hidden])", timeout=WAIT)
    text = str(page.locator("#toast").inner_text())
    page.evaluate("document.getElementById('toast').hidden = true")
    return text


def test_login_refuses_a_wrong_pin_then_lands_on_the_floor(terminal, base):
    page = terminal
    page.goto("/floor")
    page.wait_for_url("**/login?next=%2Ffloor")
    page.locator(".login-modes .seg", has_text="PIN").click()
    page.fill("#pin-form input[name=username]", "casey")
    page.fill("#pin-form input[name=pin]", "9999")
    page.click("#pin-form button[type=submit]")
    page.wait_for_selector(".login-bad", timeout=WAIT)
    assert page.locator("#login-message").inner_text() == "Wrong user name, password or PIN."
    assert page.input_value("#pin-form input[name=pin]") == ""
    shot(page, "login")
    page.fill("#pin-form input[name=pin]", PINS["casey"])
    page.click("#pin-form button[type=submit]")
    page.wait_for_url(f"**/floor/{SITE}", timeout=WAIT)
    assert page.locator(".floor-user").inner_text() == "Casey Chief"
    assert "No shift open" in page.locator("#shift").inner_text()


def test_open_a_shift_and_add_crew(terminal, plant):
    page = terminal
    page.click("#open-shift")
    # A chief operator opening a shift holds charge as its DRC unless they say otherwise.
    assert page.input_value("#f-charge_role") == "drc"
    page.fill("#f-label", "Day")
    page.click("#entry-save")
    page.wait_for_selector("#shift .shift[data-shift-id]:not([data-shift-id=''])", timeout=WAIT)
    assert "DRC" in page.locator(".crew-drc").inner_text()
    page.click("#open-crew")
    page.select_option("#f-person_id", str(plant.people["oli"]))
    page.select_option("#f-shift_role", "operator")
    page.click("#entry-save")
    page.wait_for_selector(".crew-member:has-text('Oli Op')", timeout=WAIT)
    crew = rows(plant, "SELECT p.username, c.shift_role FROM shift_crew c"
                       " JOIN people p ON p.id = c.person_id ORDER BY c.id")  # fmt: skip
    assert crew == [("casey", "drc"), ("oli", "operator")]
    # Oli goes home early: the departure is recorded, and he shows as gone.
    page.locator(".crew-member:has-text('Oli Op') [data-depart]").click()
    assert toast(page) == "Oli Op left"
    page.wait_for_selector(".crew-left:has-text('Oli Op')", timeout=WAIT)
    assert rows(plant, "SELECT count(*) FROM crew_departures") == [(1,)]
    # Coverage comes from the compliance engine: nobody on this crew holds a certificate.
    page.wait_for_selector("#coverage:not([data-state=loading])", timeout=WAIT)
    assert page.locator("#coverage").get_attribute("data-state") == "bad"
    assert page.locator("#coverage").inner_text().startswith("Coverage NOT in order.")


ENTRIES: list[tuple[str, dict[str, str]]] = [
    ("reading", {"#f-instrument": "Effluent pH meter", "#f-value": "7.2", "#f-unit": "pH"}),
    ("chemical_addition", {"#f-chemical": "NaOCl", "#f-amount": "12", "#f-unit": "gal",
                           "#f-feed_point": "contact tank"}),
    ("process_adjustment", {"#f-what": "Blower 1 setpoint", "#f-from_value": "2.0",
                            "#f-to_value": "2.5", "#f-unit": "mg/L"}),
    ("maintenance", {"#f-equipment": "RAS pump 2", "#f-description": "Greased bearings",
                     "#f-lubricant": "EP2"}),
    ("inspection", {"#f-location": "Clarifier 1", "#f-finding": "Scum on weir"}),
    ("cleaning", {"#f-what": "Weir troughs"}),
    ("observation", {"#f-text": "Foam on basin 2"}),
    ("safety", {"#f-text": "Tailgate talk: confined space"}),
    ("note", {"#f-text": "Lab courier late"}),
]  # fmt: skip


def test_an_entry_of_each_kind(terminal, plant):
    page = terminal
    for kind, fields in ENTRIES:
        page.click(f".action[data-form={kind}]")
        page.wait_for_selector("#entry-dialog[open]")
        if kind == "maintenance":
            page.select_option("#f-work", "lubrication")
        for selector, value in fields.items():
            page.fill(selector, value)
        page.click("#entry-save")
        assert toast(page).startswith("Saved"), kind
        assert not page.locator("#entry-dialog").get_attribute("open")
    kinds = rows(plant, "SELECT kind, recorded_by FROM entries ORDER BY id")
    assert [k for k, _ in kinds] == [k for k, _ in ENTRIES]
    assert {who for _, who in kinds} == {plant.people["casey"]}
    data = rows(plant, "SELECT data FROM entries WHERE kind = 'maintenance'")[0][0]
    assert data["lubricant"] == "EP2" and data["work"] == "lubrication"


def test_validation_before_submit_and_last_values_offered(terminal, plant):
    page = terminal
    page.click(".action[data-form=reading]")
    # The last reading's meter and unit are offered again; the value is not.
    assert page.input_value("#f-instrument") == "Effluent pH meter"
    assert page.input_value("#f-unit") == "pH" and page.input_value("#f-value") == ""
    page.fill("#f-instrument", "")
    page.fill("#f-value", "7.4")
    page.click("#entry-save")
    assert "name the meter or pick a tag" in page.locator("#entry-error").inner_text()
    page.fill("#f-value", "")
    page.fill("#f-instrument", "Effluent pH meter")
    page.click("#entry-save")
    assert page.locator("#entry-error").inner_text().startswith("Value:")
    page.click("#entry-dialog [data-close]")
    assert rows(plant, "SELECT count(*) FROM entries WHERE kind = 'reading'") == [(1,)]


def test_a_sample_and_its_result(terminal, plant):
    page = terminal
    page.click(".action[data-form=sample]")
    page.fill("#f-sample_point", "Final effluent")
    page.fill("#f-received_by", "County lab")
    page.click("#entry-save")
    assert toast(page).startswith("Saved: Sample")
    page.click(".action[data-form=result]")
    page.fill("#f-analyte", "TSS")
    page.fill("#f-method", "SM 2540 D")
    page.fill("#f-unit", "mg/L")
    page.select_option("#f-qualifier", "<")
    page.click("#entry-save")
    assert page.locator("#entry-error").inner_text() == "Value: needed unless ND"
    page.fill("#f-value", "2.5")
    page.click("#entry-save")
    assert "needed with <" in page.locator("#entry-error").inner_text()
    page.fill("#f-detection_limit", "2.5")
    page.click("#entry-save")
    assert toast(page).startswith("Saved")
    sample = rows(plant, "SELECT sample_point, shift_id IS NOT NULL FROM samples")
    assert sample == [("Final effluent", True)]
    result = rows(plant, "SELECT analyte, value, qualifier, detection_limit FROM sample_results")
    assert result == [("TSS", 2.5, "<", 2.5)]
    assert rows(plant, "SELECT received_by FROM custody_transfers") == [("County lab",)]


def test_a_live_reading_changes_on_its_tile(terminal, plant):
    page = terminal
    tile = page.locator('.tile[data-tag="effluent.turbidity"]')
    assert tile.get_attribute("data-state") == "stale"
    assert tile.locator(".tile-nonumber").count() == 1
    with psycopg.connect(plant.db_url) as conn:
        copy_rows(conn, [(datetime.now(UTC), plant.tags["effluent.turbidity"], 0.87, 0)])
    page.wait_for_selector('.tile[data-tag="effluent.turbidity"][data-state="good"]', timeout=WAIT)
    assert tile.locator(".tile-number").inner_text() == "0.870"
    assert tile.locator(".tile-unit").inner_text() == "NTU"


def test_acknowledge_an_alarm_from_its_tile(terminal, plant):
    page = terminal
    # The alarm bar comes with the tiles (an out-of-band swap): the page polls only them.
    paths: list[str] = []

    def requested(request: Any) -> None:
        paths.append(urlsplit(request.url).path)

    page.on("request", requested)
    second = insert_event(plant.db_url, plant.site_id, None, "Blower 2 fault")
    # Within one tiles poll (5 s) and its answer.
    page.wait_for_selector(f'.alarm[data-event-id="{second}"]', timeout=8_000)
    assert page.locator("#alarms").count() == 1
    assert page.locator("#alarms").get_attribute("class") == "alarms"
    page.locator(f'.tile[data-tag="effluent.ph"] [data-ack="{plant.alarm_id}"]').click()
    assert page.locator("#entry-title").inner_text() == "Acknowledge alarm: Effluent pH"
    page.fill("#f-response", "Probe cleaned, reading back to normal")
    page.click("#entry-save")
    assert toast(page).startswith("Saved")
    page.wait_for_selector(f'.alarm[data-event-id="{plant.alarm_id}"]', state="detached",
                           timeout=WAIT)  # fmt: skip
    assert page.locator(f'.alarm[data-event-id="{second}"]').count() == 1
    assert page.locator("#alarms").count() == 1
    assert page.locator("#alarms [hx-swap-oob], #tiles #alarms").count() == 0
    page.remove_listener("request", requested)
    assert "/floor/plant1/tiles" in paths
    assert "/floor/plant1/alarms" not in paths
    acks = rows(plant, "SELECT event_id, data->>'response' FROM entries WHERE kind = 'alarm_ack'")
    assert acks == [(plant.alarm_id, "Probe cleaned, reading back to normal")]


def test_offline_entries_arrive_exactly_once_when_the_link_returns(terminal, plant):
    page = terminal
    page.route("**/api/entries", lambda route: route.abort("internetdisconnected"))
    page.click(".action[data-form=note]")
    page.fill("#f-text", "Written while the link was down")
    page.click("#entry-save")
    assert toast(page).startswith("Kept on this terminal")
    page.wait_for_selector('#queue-status[data-count="1"]')
    assert "offline" in page.locator("#queue-status").inner_text()
    # The link is back for the request but the answer is lost: the server has the entry,
    # the terminal does not know it and sends again with the same key.
    page.unroute("**/api/entries")
    page.route("**/api/entries", lambda route: (route.fetch(), route.abort("failed")))
    page.evaluate("ClearwellFloor.outbox.flush()")
    page.wait_for_timeout(300)
    assert page.locator("#queue-status").get_attribute("data-count") == "1"
    page.unroute("**/api/entries")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector('#queue-status[data-count="0"]', state="attached", timeout=WAIT)
    assert toast(page) == "Sent: Note"
    text = "Written while the link was down"
    assert rows(plant, "SELECT count(*) FROM entries WHERE data->>'text' = %s", text) == [(1,)]
    keys = rows(plant, "SELECT client_key FROM entries WHERE data->>'text' = %s", text)
    assert keys[0][0].startswith("floor-")


def test_screenshots_of_the_terminal(browser, base, terminal):
    """The floor and an entry form at both sizes, for a person to look at."""
    cookies = terminal.context.cookies()
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
        context.add_cookies(cookies)
        page = context.new_page()
        console = Console(page)
        page.goto(f"/floor/{SITE}")
        page.wait_for_selector("#coverage:not([data-state=loading])", timeout=WAIT)
        # Touch targets: every button on the page is at least 44 px, the actions 56 px.
        for box in page.locator(".action").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        ):
            assert box >= 56
        # No horizontal scrolling at this size.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, "floor")
        page.click(".action[data-form=chemical_addition]")
        shot(page, "form-chemical")
        page.click("#entry-dialog [data-close]")
        page.click("#open-review")
        page.wait_for_selector("#review-dialog[open] .review-entry")
        shot(page, "review")
        context.close()
        assert console.errors == []


def test_close_and_sign_the_shift(terminal, plant):
    page = terminal
    page.click("#open-review")
    page.wait_for_selector("#review-dialog[open] .review-entry")
    review = page.locator("#review-box").inner_text()
    assert "Chemical" in review and "NaOCl" in review and "Final effluent" in review
    page.fill("#close-form textarea[name=handoff]", "Blower 2 fault acknowledged, watch it")
    page.fill("#close-form input[name=password]", "wrong-password!")
    page.click("#close-sign")
    page.wait_for_selector("#close-error:has-text('NOT signed')", timeout=WAIT)
    page.fill("#close-form input[name=password]", password_of("casey"))
    page.click("#close-sign")
    assert toast(page) == "Shift signed"
    page.wait_for_selector("#open-shift", timeout=WAIT)
    signed = rows(plant, "SELECT p.username FROM shift_signatures s JOIN people p"
                         " ON p.id = s.person_id")  # fmt: skip
    assert signed == [("casey",)]
    notes = rows(plant, "SELECT body FROM handoff_notes")
    assert notes == [("Blower 2 fault acknowledged, watch it",)]


def test_the_next_drc_acknowledges_the_handoff(terminal, plant):
    page = terminal
    page.click("#open-shift")
    page.fill("#f-label", "Swing")
    page.click("#entry-save")
    page.wait_for_selector(".handoff [data-ack-note]", timeout=WAIT)
    assert "Blower 2 fault acknowledged, watch it" in page.locator(".handoff").inner_text()
    page.click(".handoff [data-ack-note]")
    assert toast(page) == "Handoff acknowledged"
    page.wait_for_selector(".handoff", state="detached", timeout=WAIT)
    acks = rows(
        plant,
        "SELECT p.username, s.label FROM handoff_acks a JOIN people p"
        " ON p.id = a.acknowledged_by JOIN shifts s ON s.id = a.to_shift_id",
    )
    assert acks == [("casey", "Swing")]
    assert page.console.errors == []


def test_the_login_page_says_when_logins_are_locked_out(browser, base):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.goto("/login")
    messages = []
    for _ in range(6):
        page.fill("#password-form input[name=username]", "tess")
        page.fill("#password-form input[name=password]", "not-her-password")
        page.click("#password-form button[type=submit]")
        page.wait_for_selector(".login-bad", timeout=WAIT)
        messages.append(page.locator("#login-message").inner_text())
        page.evaluate("document.getElementById('login-message').className = ''")
    assert messages[:5] == ["Wrong user name, password or PIN."] * 5
    assert messages[5].startswith("Too many failed logins. Wait ")
    assert_accessible(page, "login, locked out")
    context.close()


def test_the_terminal_locks_after_inactivity(browser, base, plant):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.clock.install()
    page.goto(f"/login?next=/floor/{SITE}")
    # From a floor page the PIN form comes first; a password works too.
    assert page.locator("#pin-form").is_visible()
    page.locator(".login-modes .seg", has_text="Password").click()
    page.fill("#password-form input[name=username]", "oli")
    page.fill("#password-form input[name=password]", password_of("oli"))
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#floor", timeout=WAIT)
    assert page.url.endswith(f"/floor/{SITE}")
    page.clock.fast_forward((LOCK_AFTER_S - 30) * 1000)
    page.mouse.click(5, 400)  # a touch restarts the count
    page.clock.fast_forward((LOCK_AFTER_S - 30) * 1000)
    assert page.url.endswith(f"/floor/{SITE}")
    page.clock.fast_forward(40_000)
    page.wait_for_url("**/login?locked=1**", timeout=WAIT)
    assert "Locked after inactivity" in page.locator(".login-locked").inner_text()
    assert_accessible(page, "login after the lock")
    assert "Oli" not in page.content()
    # The session ended: the floor asks for a login again.
    page.goto(f"/floor/{SITE}")
    page.wait_for_url("**/login?next=**", timeout=WAIT)
    context.close()

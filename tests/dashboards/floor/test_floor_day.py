"""A day of three shifts at one site on the floor terminal, in Chromium (issue 16 "Done
when"): Day (an operator in charge as shift operator, a trainee with him), Swing (the chief
operator as DRC), Night (a second operator). Entries of every kind, a trainee's entries
verified on the floor by the operator's own PIN, an amendment, an implausible value
confirmed with a reason and an impossible one refused, the collector stopped and the
server lost (stale tiles, the banner), handoffs, and every shift signed, one of them after
the next had opened. At every step: a screenshot, axe-core, and a next action on screen.

One served site for the module, the tests in order as one day. The app is served in this
process so that the page can be given the site's plausibility ranges in the contract's
shape (issue 16) before the logbook stores them; time is driven by data (the
collector's last heartbeat is written in the past) rather than waited for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.dashboards.floor import day as plant_day
from tests.dashboards.floor import test_floor_browser as floor_browser
from tests.dashboards.floor.day import PINS, SITE, DayPlant, feed, insert_alarm, stop
from tests.dashboards.people import password_of
from tests.support.browser import SCREENSHOTS as BROWSER_SCREENSHOTS
from tests.support.browser import assert_accessible, need_browser, no_threads_left_but
from tests.support.serve import serve_in_process

SCREENSHOTS = BROWSER_SCREENSHOTS / "floor-day"
WAIT = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """As in tests/conftest.py, but the app and the browser live for the module: their
    threads (uvicorn's, its argon2 workers', Playwright's loop) stay with them."""
    with no_threads_left_but("asyncio_", "uvicorn-test", "AnyIO worker thread"):
        yield


@pytest.fixture(scope="module")
def plant(db_server) -> Iterator[DayPlant]:
    need_browser()
    url = db_server.make_database()
    try:
        yield asyncio.run(plant_day.make_day_plant(url))
    finally:
        db_server.drop_database(url)


@pytest.fixture(scope="module")
def base(plant: DayPlant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app, with the site's file (and so its ranges) in its data directory, where the
    floor's forms and the logbook's writes read them."""
    data_dir = tmp_path_factory.mktemp("day-data")
    plant_day.site_file(data_dir)
    with serve_in_process(plant.db_url, floor_lock_after_s=900, data_dir=data_dir) as url:
        yield url


# One Chromium for the module, as the floor's other browser tests have it.
browser = floor_browser.browser


@pytest.fixture(scope="module")
def page(browser: Any, base: str) -> Iterator[Any]:
    """The site's floor terminal at 1280x800, shared by the day's steps in order."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    p = context.new_page()
    p.console = floor_browser.Console(p)
    p.clock.install()
    yield p
    context.close()


@pytest.fixture(autouse=True)
def collector(plant: DayPlant) -> None:
    """The PLC's collector has just written (each step runs with live data unless it
    stops it)."""
    feed(plant)


def rows(plant: DayPlant, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(plant.db_url) as conn:
        return conn.execute(query, params).fetchall()


SHOTS: list[str] = []


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    SHOTS.append(name)
    path = SCREENSHOTS / f"{len(SHOTS):02d}-{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path))


# The buttons and links a person can press now: in the open dialog if there is one (it
# is modal), else on the page; leaving (Cancel, Close, Lock) is not a next action.
NEXT_ACTIONS = """() => {
  const dialogs = [...document.querySelectorAll('dialog[open]')];
  const root = dialogs.length ? dialogs[dialogs.length - 1] : document;
  const shown = (el) => el.offsetParent !== null && !el.disabled && !el.closest('[hidden]');
  return [...root.querySelectorAll('button, a[href], summary')]
    .filter((el) => shown(el) && !el.hasAttribute('data-close') && el.id !== 'lock-now'
                    && !el.classList.contains('brand') && !el.classList.contains('nav-link'))
    .map((el) => el.textContent.trim()).filter(Boolean);
}"""


def step(page: Any, name: str) -> list[str]:
    """A screen of the day: a next action on it, no serious accessibility violation, and
    its screenshot. Returns the next actions offered."""
    actions = page.evaluate(NEXT_ACTIONS)
    assert actions, f"{name}: no next action on screen"
    assert_accessible(page, name)
    shot(page, name)
    return list(actions)


def toast(page: Any) -> str:
    page.wait_for_selector("#toast:not([hidden])", timeout=WAIT)
    text = str(page.locator("#toast").inner_text())
    page.evaluate("document.getElementById('toast').hidden = true")
    return text


def login(page: Any, who: str, name: str | None = None) -> None:
    """``who`` logs in at this terminal with their PIN (the login a terminal offers)."""
    page.goto("/")
    page.wait_for_url("**/login**", timeout=WAIT)
    page.wait_for_selector("#pin-form:not([hidden])", timeout=WAIT)
    if name:
        step(page, name)
    page.fill("#pin-form input[name=username]", who)
    page.fill("#pin-form input[name=pin]", PINS[who])
    page.click("#pin-form button[type=submit]")
    page.wait_for_selector("#floor:not([hidden])", timeout=WAIT)


def lock(page: Any) -> None:
    page.click("#lock-now")
    page.wait_for_url("**/login?next=**", timeout=WAIT)
    assert page.locator(".login-locked").count() == 0  # Lock pressed: no "inactivity"


def record(page: Any, kind: str, fields: dict[str, str], selects: dict[str, str] | None = None):
    page.click(f".action[data-form={kind}]")
    page.wait_for_selector("#entry-dialog[open]")
    for selector, value in (selects or {}).items():
        page.select_option(selector, value)
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click("#entry-save")


def saved(page: Any, kind: str) -> None:
    text = toast(page)
    assert text.startswith("Saved"), f"{kind}: {text}"
    assert not page.locator("#entry-dialog").get_attribute("open")


def coverage(page: Any) -> str:
    return str(page.locator("#coverage").inner_text())


def wait_coverage(page: Any, state: str) -> None:
    page.wait_for_selector(f"#coverage[data-state={state}]", timeout=WAIT)


# ---- Day: Oli in charge as shift operator, Tess the trainee ------------------------------


def test_a_terminal_starts_at_its_login_with_a_pin(page, plant):
    page.goto("/floor")
    page.wait_for_url("**/login?next=%2Ffloor", timeout=WAIT)
    # A floor terminal logs in with a PIN where the site allows it.
    assert page.locator("#pin-form").is_visible()
    assert not page.locator("#password-form").is_visible()
    assert page.locator("h1").inner_text() == "Log in to Clearwell"
    step(page, "login")
    # What is wrong with what was typed is said in words.
    page.fill("#pin-form input[name=username]", "oli")
    page.fill("#pin-form input[name=pin]", "12")
    page.click("#pin-form button[type=submit]")
    assert page.locator("#login-message").inner_text() == "Your PIN is 4 to 8 digits."
    page.fill("#pin-form input[name=pin]", PINS["oli"])
    page.click("#pin-form button[type=submit]")
    page.wait_for_url(f"**/floor/{SITE}", timeout=WAIT)
    page.wait_for_selector("#floor:not([hidden])", timeout=WAIT)
    assert page.locator("h1").inner_text() == "Clearwater Creek WWTP"
    assert "No shift open" in page.locator("#shift").inner_text()
    assert step(page, "no-shift-open")[:1] != []
    assert page.locator("#open-shift").is_visible()


def test_opening_the_day_asks_who_holds_charge(page, plant):
    page.click("#open-shift")
    zone = ZoneInfo("America/Denver")
    hour = datetime.now(zone).hour
    expected = "Day" if 6 <= hour < 14 else "Swing" if 14 <= hour < 22 else "Night"
    # The shift's name comes from the plant's clock, not the terminal's.
    assert page.input_value("#f-label") == expected
    assert page.input_value("#f-charge_person") == str(plant.people["oli"])
    # Utah: a DRC, chief, assistant chief or shift operator holds charge; an operator may
    # not designate a DRC.
    roles = page.locator("#f-charge_role option").evaluate_all("os => os.map(o => o.value)")
    assert roles == ["chief", "assistant_chief", "shift_operator"]
    assert page.input_value("#f-charge_role") == "shift_operator"
    step(page, "open-shift-form")
    page.fill("#f-label", "Day")
    page.click("#entry-save")
    page.wait_for_selector("#shift .shift[data-label=Day]", timeout=WAIT)
    wait_coverage(page, "good")
    # The compliance engine's answer, in full: who holds charge, in words.
    assert coverage(page).startswith("Coverage in order: Oli Op holds charge as shift operator.")
    step(page, "day-open")


def test_a_trainee_joins_without_flipping_coverage(page, plant):
    page.click("#open-crew")
    page.select_option("#f-person_id", str(plant.people["tess"]))
    assert page.locator("#f-shift_role option").all_inner_texts() == ["Trainee"]
    page.click("#entry-save")
    page.wait_for_selector(".crew-member:has-text('Tess Trainee')", timeout=WAIT)
    wait_coverage(page, "good")
    text = coverage(page)
    assert text.startswith("Coverage in order: Oli Op holds charge as shift operator.")
    # Nothing on record since the shift opened: no finding back to its start.
    assert "Earlier this shift" not in text
    step(page, "trainee-added")


def test_the_operator_records_a_reading_from_a_tag(page, plant):
    record(page, "reading", {"#f-value": "2.4"}, {"#f-tag_id": str(plant.tags["aeration.do"])})
    saved(page, "reading")
    record(
        page,
        "process_adjustment",
        {
            "#f-what": "Blower 1 setpoint",
            "#f-from_value": "2.0",
            "#f-to_value": "2.5",
            "#f-unit": "mg/L",
            "#f-reason": "DO low in basin 1",
        },
    )
    saved(page, "process_adjustment")


def test_the_trainee_records_and_the_form_says_what_is_wrong(page, plant):
    lock(page)
    login(page, "tess", "login-locked")
    assert page.locator(".floor-user").inner_text() == "Tess Trainee"
    page.click(".action[data-form=reading]")
    page.select_option("#f-tag_id", str(plant.tags["aeration.do"]))
    # The tag is named as on its tile, with its unit; never its key.
    options = page.locator("#f-tag_id option").all_inner_texts()
    assert "DO basin 1 (mg/L)" in options and "aeration.do" not in options
    assert page.input_value("#f-unit") == "mg/L"
    # Text typed in a number field stays, and is said to be wrong.
    page.fill("#f-value", "abc")
    page.click("#entry-save")
    assert page.locator("#entry-error").inner_text() == "Value: “abc” is not a number"
    assert page.input_value("#f-value") == "abc"
    page.fill("#f-value", "2,5")
    page.click("#entry-save")
    assert "write decimals with a point (2.5)" in page.locator("#entry-error").inner_text()
    # An impossible value is refused, the range named.
    page.fill("#f-value", "-25")
    page.click("#entry-save")
    assert page.locator("#entry-error").inner_text() == (
        "Value: -25 mg/L is outside the instrument range 0 to 20 mg/L of DO basin 1"
    )
    step(page, "impossible-refused")
    # An implausible one is saved only once confirmed with a reason.
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            r.method == "POST"
            and r.url.endswith("/api/entries")
            and sent.append(json.loads(r.post_data or "{}"))
        ),
    )
    page.fill("#f-value", "15")
    page.click("#entry-save")
    assert page.locator("#confirm-box").is_visible()
    assert page.locator("#confirm-why").inner_text() == (
        "15 mg/L is implausible for DO basin 1: 0 to 12 mg/L expected. Confirm it with a reason."
    )
    step(page, "implausible-confirm")
    page.click("#entry-save")
    assert page.locator("#entry-error").inner_text() == "Say why the value is right, or correct it."
    page.fill("#confirm-reason", "Probe checked against the handheld meter: 15.1")
    page.click("#entry-save")
    saved(page, "implausible reading")
    assert sent[-1]["plausibility"] == {
        "confirmed": True,
        "reason": "Probe checked against the handheld meter: 15.1",
    }
    values = rows(plant, "SELECT data->>'value' FROM entries WHERE kind = 'reading' ORDER BY id")
    assert values == [("2.4",), ("15.0",)]
    record(
        page,
        "chemical_addition",
        {
            "#f-chemical": "NaOCl",
            "#f-amount": "12",
            "#f-unit": "gal",
            "#f-feed_point": "contact tank",
        },
    )
    saved(page, "chemical_addition")
    record(page, "note", {"#f-text": "Foam on basin 2 cleared by noon"})
    saved(page, "note")


def test_the_shift_log_marks_what_awaits_verification(page, plant):
    page.wait_for_selector("#open-log:has-text('3 to verify')", timeout=WAIT)
    page.click("#open-log")
    page.wait_for_selector("#log-dialog[open] .log-entry", timeout=WAIT)
    entries = page.locator(".log-entry")
    # Newest first, who and when, people's words.
    assert entries.count() == 5
    first = entries.nth(0).inner_text()
    assert "Note" in first and "Tess Trainee" in first and "Awaiting verification" in first
    last = entries.nth(4).inner_text()
    assert "Reading" in last and "Oli Op" in last and "DO basin 1" in last
    assert "Value: 2.4 mg/L" in last and "tag" not in last.lower().replace("tag:", "")
    assert page.locator(".log-entry.log-awaiting").count() == 3
    step(page, "shift-log")


def test_the_operator_verifies_the_trainees_entries_with_his_pin(page, plant):
    page.click(".log-head-row [data-verify-shift]")
    page.wait_for_selector("#verify-dialog[open] #verify-form", timeout=WAIT)
    assert page.locator("#verify-form input[name=entry]:checked").count() == 3
    assert page.locator("#v-username option").all_inner_texts() == ["Oli Op"]
    step(page, "verify")
    page.fill("#v-pin", "0000")
    page.click("#verify-save")
    page.wait_for_selector("#verify-error:has-text('Wrong user name, PIN or password.')")
    page.fill("#v-pin", PINS["oli"])
    page.click("#verify-save")
    assert toast(page) == "Verified by Oli Op: 3 entries"
    page.wait_for_selector("#log-dialog[open] .mark-ok", timeout=WAIT)
    assert page.locator(".log-entry.log-awaiting").count() == 0
    verified = rows(
        plant,
        "SELECT p.username, count(*) FROM entry_countersignatures c"
        " JOIN people p ON p.id = c.person_id GROUP BY 1",
    )
    assert verified == [("oli", 3)]
    step(page, "verified")
    page.click("#log-dialog [data-close]")


def test_the_trainee_amends_an_entry_with_a_reason(page, plant):
    page.click("#open-log")
    page.wait_for_selector("#log-dialog[open] .log-entry", timeout=WAIT)
    chem = page.locator(".log-entry[data-kind=chemical_addition]")
    chem.locator("[data-amend]").click()
    page.wait_for_selector("#entry-dialog[open]")
    assert page.locator("#entry-title").inner_text() == "Amend: Chemical added"
    assert page.input_value("#f-amount") == "12"
    page.fill("#f-amount", "15")
    page.click("#entry-save")
    assert "Why it is amended" in page.locator("#entry-error").inner_text()
    page.fill("#f-amend_reason", "Misread the day tank gauge")
    step(page, "amend-form")
    page.click("#entry-save")
    assert toast(page) == "Amended: Chemical added"
    page.wait_for_selector("#log-dialog[open] .log-history", timeout=WAIT)
    history = page.locator(".log-entry[data-kind=chemical_addition] .log-history")
    history.locator("summary").click()
    text = history.inner_text()
    assert "Amount: 12 gal → 15 gal" in text and "Why: Misread the day tank gauge" in text
    assert "Tess Trainee" in text
    step(page, "amended")
    page.click("#log-dialog [data-close]")
    record(
        page, "observation", {"#f-text": "Grit channel running high", "#f-location": "Headworks"}
    )
    saved(page, "observation")


def test_a_stopped_collector_turns_every_tile_stale(page, plant):
    page.wait_for_selector('.tile[data-tag="influent.flow"][data-state="good"]', timeout=WAIT)
    assert page.locator('.tile[data-tag="aeration.blower1.running"] .tile-number').inner_text() == (
        "Running"
    )
    # The collector stopped 35 s ago: its analog tiles (a reading stored at least every
    # minute) go stale too, on the next poll, within a minute of the stop.
    stop(plant, 35)
    page.wait_for_selector('#tiles .tile[data-state="good"]', state="detached", timeout=WAIT)
    states = page.locator("#tiles .tile").evaluate_all("ts => ts.map(t => t.dataset.state)")
    assert set(states) == {"stale"}
    note = page.locator('.tile[data-tag="influent.flow"] .tile-note').inner_text()
    assert note.startswith("STALE · last 1,210 m³/h at ")
    step(page, "collector-stopped")


def test_the_collection_stopped_alarm_shows_within_a_minute(page, plant):
    stop(plant, 65)
    alarm = page.locator("#alarms .alarm", has_text="Data collection stopped:")
    alarm.wait_for(timeout=12_000)
    assert plant_day.DEVICE in alarm.inner_text()
    step(page, "collection-stopped-alarm")


def test_the_page_says_when_it_has_lost_the_server_and_recovers(page, plant):
    feed(plant)
    page.wait_for_selector('.tile[data-tag="influent.flow"][data-state="good"]', timeout=WAIT)
    page.route("**/floor/*/tiles", lambda route: route.abort("connectionrefused"))
    page.route("**/floor/*/shift", lambda route: route.abort("connectionrefused"))
    # Forty seconds of no answers: the banner, and tiles gone stale by themselves.
    page.clock.fast_forward(40_000)
    page.wait_for_selector("#link-lost:not([hidden])", timeout=WAIT)
    assert page.locator("#link-lost").inner_text().startswith("No connection to the server since ")
    page.wait_for_selector('#tiles .tile[data-state="good"]', state="detached", timeout=WAIT)
    step(page, "server-lost")
    page.unroute("**/floor/*/tiles")
    page.unroute("**/floor/*/shift")
    feed(plant)
    page.clock.fast_forward(6_000)
    page.wait_for_selector("#link-lost", state="hidden", timeout=WAIT)
    page.wait_for_selector('.tile[data-tag="influent.flow"][data-state="good"]', timeout=WAIT)
    assert toast(page) == "Connection to the server is back"
    # htmx logs each poll the cut link refused; those are this step, not script errors.
    assert all(e.startswith("htmx:") for e in page.console.errors), page.console.errors
    page.console.errors.clear()


def test_closing_with_an_unverified_entry_says_what_is_missing(page, plant):
    lock(page)
    login(page, "oli")
    page.click("#open-review")
    page.wait_for_selector("#review-dialog[open] #close-form", timeout=WAIT)
    waiting = page.locator(".review-unverified").inner_text()
    assert waiting.startswith("1 entry waits for verification")
    assert "Observation by Tess Trainee" in waiting and "Grit channel running high" in waiting
    actions = step(page, "close-unverified")
    assert "Verify now" in actions and "Close, sign later" in actions
    page.fill("#close-form textarea[name=handoff]", "Grit channel high; watch the blower 2 noise")
    page.click("#close-sign")
    assert toast(page) == "Shift closed: it is listed as awaiting signature"
    page.wait_for_selector(".awaiting-shift", timeout=WAIT)
    awaiting = page.locator(".awaiting-shift").inner_text()
    assert "Day" in awaiting and "1 entry to verify" in awaiting
    # Awaiting a signature blocks nothing: the next shift can open.
    assert page.locator("#open-shift").is_visible()
    step(page, "day-awaiting-signature")


# ---- Swing: Casey, the chief operator, as DRC --------------------------------------------


def test_the_swing_opens_while_the_day_awaits_its_signature(page, plant):
    lock(page)
    login(page, "casey")
    assert page.locator(".awaiting-shift").count() == 1
    assert "Grit channel high" in page.locator(".handoff").inner_text()
    page.click("#open-shift")
    assert page.input_value("#f-charge_role") == "drc"
    page.fill("#f-label", "Swing")
    page.click("#entry-save")
    page.wait_for_selector("#shift .shift[data-label=Swing]", timeout=WAIT)
    wait_coverage(page, "good")
    assert coverage(page).startswith("Coverage in order: Casey Chief holds charge as DRC.")
    page.click(".handoff [data-ack-note]")
    assert toast(page) == "Handoff acknowledged"
    page.wait_for_selector(".handoff", state="detached", timeout=WAIT)
    step(page, "swing-open")


SWING: list[tuple[str, dict[str, str], dict[str, str]]] = [
    (
        "maintenance",
        {"#f-equipment": "RAS pump 2", "#f-description": "Greased bearings", "#f-lubricant": "EP2"},
        {"#f-work": "lubrication"},
    ),
    (
        "inspection",
        {"#f-location": "Clarifier 1", "#f-finding": "Scum on the weir"},
        {"#f-condition": "attention"},
    ),
    ("cleaning", {"#f-what": "Weir troughs", "#f-method": "Brush and hose"}, {}),
    (
        "safety",
        {"#f-text": "Tailgate talk: confined space entry"},
        {"#f-category": "confined_space"},
    ),
]


def test_the_swing_records_every_other_kind(page, plant):
    for kind, fields, selects in SWING:
        record(page, kind, fields, selects)
        saved(page, kind)
    # A sample and its results: an impossible BOD is refused, the range named.
    record(page, "sample", {"#f-sample_point": "Final effluent", "#f-received_by": "County lab"})
    saved(page, "sample")
    record(
        page,
        "result",
        {"#f-analyte": "BOD5", "#f-method": "SM 5210 B", "#f-value": "-3", "#f-unit": "mg/L"},
    )
    assert page.locator("#entry-error").inner_text() == (
        "Value: -3 mg/L is outside the instrument range 0 to 2000 mg/L of BOD5"
    )
    page.fill("#f-value", "12")
    page.click("#entry-save")
    saved(page, "result")
    # An alarm, acknowledged from the alarm bar.
    alarm = insert_alarm(plant, "DO basin 1 low: 0.9 mg/L, below its 1.0 mg/L limit")
    page.wait_for_selector(f'.alarm[data-event-id="{alarm}"]', timeout=WAIT)
    step(page, "alarm")
    page.click(f'.alarm[data-event-id="{alarm}"] [data-ack]')
    page.fill("#f-response", "Blower 2 started; DO recovering")
    page.click("#entry-save")
    saved(page, "alarm_ack")
    page.wait_for_selector(f'.alarm[data-event-id="{alarm}"]', state="detached", timeout=WAIT)
    kinds = {k for (k,) in rows(plant, "SELECT DISTINCT kind FROM entries")}
    assert kinds == {
        "reading",
        "process_adjustment",
        "chemical_addition",
        "note",
        "observation",
        "maintenance",
        "inspection",
        "cleaning",
        "safety",
        "alarm_ack",
    }
    assert rows(plant, "SELECT analyte, value FROM sample_results") == [("BOD5", 12.0)]


def test_the_floor_at_390_px(browser, base, page, plant):
    """The floor and login pages on a phone: nothing runs off the screen, alarm text wraps,
    every part still has its next action."""
    alarm = insert_alarm(
        plant,
        "Chlorine residual at the contact tank outlet below its low limit for more than"
        " fifteen minutes: check the hypochlorite feed",
        "disinfection.cl2.residual",
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base)
    phone = context.new_page()
    try:
        phone.goto("/login?next=/floor")
        phone.wait_for_selector("#pin-form:not([hidden])")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        step(phone, "phone-login")
        phone.fill("#pin-form input[name=username]", "casey")
        phone.fill("#pin-form input[name=pin]", PINS["casey"])
        phone.click("#pin-form button[type=submit]")
        phone.wait_for_selector("#floor:not([hidden])", timeout=WAIT)
        phone.wait_for_selector(f'.alarm[data-event-id="{alarm}"]', timeout=WAIT)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        box = phone.locator(f'.alarm[data-event-id="{alarm}"] .alarm-msg').bounding_box()
        assert box and box["x"] + box["width"] <= 390
        step(phone, "phone-floor")
        phone.click(".action[data-form=chemical_addition]")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        step(phone, "phone-form")
        phone.click("#entry-dialog [data-close]")
        phone.click("#open-log")
        phone.wait_for_selector("#log-dialog[open] .log-entry", timeout=WAIT)
        step(phone, "phone-log")
        phone.click("#log-dialog [data-close]")
        phone.click("#open-review")
        phone.wait_for_selector("#review-dialog[open] #close-form", timeout=WAIT)
        step(phone, "phone-review")
    finally:
        context.close()
    page.click(f'.alarm[data-event-id="{alarm}"] [data-ack]')
    page.fill("#f-response", "Hypochlorite pump restarted")
    page.click("#entry-save")
    saved(page, "alarm_ack")


def test_the_swing_closes_and_signs(page, plant):
    page.click("#open-review")
    page.wait_for_selector("#review-dialog[open] #close-form", timeout=WAIT)
    assert page.locator(".review-unverified").count() == 0
    page.fill("#close-form textarea[name=handoff]", "Quiet swing; RAS pump 2 greased")
    page.fill("#close-form input[name=password]", "wrong-password!")
    page.click("#close-sign")
    page.wait_for_selector("#close-error:has-text('NOT signed')", timeout=WAIT)
    step(page, "swing-not-signed")
    page.fill("#close-form input[name=password]", password_of("casey"))
    page.click("#close-sign")
    assert toast(page) == "Shift signed"
    page.wait_for_selector("#open-shift", timeout=WAIT)


# ---- Night: Dana in charge; the day's operator signs the Day ----------------------------


def test_the_night_opens_and_its_operator_acknowledges_the_handoff(page, plant):
    lock(page)
    login(page, "dana")
    page.click("#open-shift")
    page.fill("#f-label", "Night")
    page.click("#entry-save")
    page.wait_for_selector("#shift .shift[data-label=Night]", timeout=WAIT)
    wait_coverage(page, "good")
    # A shift operator holds charge, and acknowledges what the swing handed over.
    page.click(".handoff [data-ack-note]")
    assert toast(page) == "Handoff acknowledged"
    record(page, "reading", {"#f-value": "980"}, {"#f-tag_id": str(plant.tags["influent.flow"])})
    saved(page, "reading")
    step(page, "night-open")


def test_the_day_is_verified_and_signed_from_the_awaiting_list(page, plant):
    lock(page)
    login(page, "oli")
    day = page.locator(".awaiting-shift")
    assert day.count() == 1 and "Day" in day.inner_text()
    day.locator("[data-verify-shift]").click()
    page.wait_for_selector("#verify-dialog[open] #verify-form", timeout=WAIT)
    page.fill("#v-pin", PINS["oli"])
    page.click("#verify-save")
    assert toast(page) == "Verified by Oli Op: 1 entry"
    page.wait_for_selector(".awaiting-shift .mark-await", state="detached", timeout=WAIT)
    page.click(".awaiting-shift [data-review-shift]")
    page.wait_for_selector("#review-dialog[open] #close-form[data-closed=true]", timeout=WAIT)
    step(page, "day-sign")
    page.fill("#close-form input[name=password]", password_of("oli"))
    page.click("#close-sign")
    assert toast(page) == "Shift signed"
    page.wait_for_selector(".awaiting-shift", state="detached", timeout=WAIT)


def test_the_night_closes_and_every_shift_is_signed(page, plant):
    lock(page)
    login(page, "dana")
    page.click("#open-review")
    page.wait_for_selector("#review-dialog[open] #close-form", timeout=WAIT)
    page.fill("#close-form textarea[name=handoff]", "Flow down to 980 m3/h overnight")
    page.fill("#close-form input[name=password]", password_of("dana"))
    page.click("#close-sign")
    assert toast(page) == "Shift signed"
    page.wait_for_selector("#open-shift", timeout=WAIT)
    step(page, "day-done")
    signed = rows(
        plant,
        "SELECT s.label, p.username FROM shifts s JOIN shift_signatures g ON g.shift_id = s.id"
        " JOIN people p ON p.id = g.person_id ORDER BY s.id",
    )
    assert signed == [("Day", "oli"), ("Swing", "casey"), ("Night", "dana")]
    assert page.console.errors == []

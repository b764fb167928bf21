"""The chief operator's and the regulator's pages, and entries on a trend, in a real
browser: Debian's Chromium driven by Playwright, against ``clearwell serve`` on a real
database where the test made a coverage gap (the DRC leaves early, the crew stays)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from logbook.demo import DEMO_USERS, seed_async
from tests.dashboards.chief.scenario import SITE, GapScenario, make_gap
from tests.dashboards.helpers import make_tag
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, need_browser
from tests.support.database import DatabaseServer
from tests.support.serve import serve

PASSWORDS = {u[0]: u[3] for u in DEMO_USERS}
TAG = "Cl2.Residual"

pytestmark = pytest.mark.browser


class Served:
    def __init__(self, base: str, scenario: GapScenario) -> None:
        self.base = base
        self.s = scenario


async def _setup(base: str) -> GapScenario:
    """The demo people log in over HTTP and record the gap scenario through the APIs."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for user in ("chief", "operator", "trainee"):
            r = await client.post(
                "/api/auth/login", json={"username": user, "password": PASSWORDS[user]}
            )
            assert r.status_code == 200, r.text
            tokens[user], ids[user] = r.json()["token"], r.json()["user"]["id"]

        async def call(who: str, method: str, path: str, body: Any) -> tuple[int, Any]:
            client.cookies.clear()
            r = await client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
            )
            return r.status_code, r.json() if r.content else None

        return await make_gap(call, ids)


@pytest.fixture(scope="module")
def served(db_server: DatabaseServer) -> Iterator[Served]:
    need_browser()
    db_url = db_server.make_database()
    asyncio.run(seed_async(db_url))
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert row
        make_tag(conn, row[0], TAG)
    try:
        with serve(db_url) as base:
            yield Served(base, asyncio.run(_setup(base)))
    finally:
        db_server.drop_database(db_url)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Replaces the suite's per-test check here: Playwright's event loop, shared by the
    module's tests, keeps its executor threads until the browser closes at the module's end
    (``browser`` checks then that none is left)."""
    yield


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    """One Chromium for the module."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = set(threading.enumerate())
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    deadline = time.monotonic() + 5
    while (left := [t for t in threading.enumerate() if t not in before and t.is_alive()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert not left, f"the browser left threads behind: {[t.name for t in left]}"


def session(browser: Any, served: Served, user: str, width: int = 1920, height: int = 1080) -> Any:
    """A browser context logged in as ``user`` (the session cookie set by the login API)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    r = context.request.post(
        f"{served.base}/api/auth/login", data={"username": user, "password": PASSWORDS[user]}
    )
    assert r.ok, r.text()
    return context


def watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_chief_sees_the_gap_and_clicks_through_to_the_finding(browser: Any, served: Served) -> None:
    s = served.s
    context = session(browser, served, "chief")
    try:
        page = context.new_page()
        errors = watch(page)
        page.goto(f"{served.base}/chief?facility={SITE}&month={s.month}")
        row = page.locator(f"#d-{s.day.isoformat()}")
        gap = row.locator('.cov-span[data-kind="gap"]')
        assert gap.count() == 1 and gap.is_visible()
        box = gap.bounding_box()
        assert box and box["width"] > 2
        # The DRC's stretch comes just before the gap, in the DRC's colour.
        assert row.locator('.cov-span[data-kind="drc"]').count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "chief-month-1920x1080.png"), full_page=True)

        mark = row.locator('a.cov-mark[data-rule="drc-missing"]')
        mark.click()
        target = page.locator("article.finding:target")
        target.wait_for()
        assert page.url.split("#")[1] == (mark.get_attribute("href") or "")[1:]
        text = target.inner_text()
        assert "drc-missing" in text and "R317-10-4" in text
        assert "Oli Operator (demo)" in text  # on site during the gap
        assert target.is_visible()
        page.screenshot(path=str(SCREENSHOTS / "chief-finding-1920x1080.png"))

        # From a finding to the entry behind it: the trainee's note, not countersigned.
        page.locator('article[data-rule="countersign-missing"] a.entry-link').first.click()
        page.wait_for_url(f"**/records/entries/{s.trainee_entry}")
        assert "Wet well level checked by the trainee." in page.inner_text("main")

        # The chief is on the shift's crew and countersigns it from the review list.
        page.goto(f"{served.base}/chief?facility={SITE}&month={s.month}#countersign")
        item = page.locator(f"#await-{s.trainee_entry}")
        item.locator('input[name="password"]').fill("wrong password")
        item.locator("button", has_text="Countersign").click()
        page.wait_for_function(
            "el => el.textContent.startsWith('Not countersigned')",
            arg=item.locator(".cs-message").element_handle(),
        )
        item.locator('input[name="password"]').fill(PASSWORDS["chief"])
        item.locator("button", has_text="Countersign").click()
        item.locator(".cs-message", has_text="Countersigned.").wait_for()
        page.reload()
        assert page.locator(f"#await-{s.trainee_entry}").count() == 0
        # The wrong password was refused by the server, audited: a console 403, expected.
        assert [e for e in errors if "403" not in e] == []
    finally:
        context.close()


def test_chief_page_at_floor_size(browser: Any, served: Served) -> None:
    context = session(browser, served, "chief", 1280, 800)
    try:
        page = context.new_page()
        errors = watch(page)
        page.goto(f"{served.base}/chief?facility={SITE}&month={served.s.month}")
        track = page.locator(f"#d-{served.s.day.isoformat()} .cov-track").bounding_box()
        assert track and track["width"] > 800
        page.screenshot(path=str(SCREENSHOTS / "chief-month-1280x800.png"))
        assert errors == []
    finally:
        context.close()


def test_regulator_browses_but_every_write_is_refused(browser: Any, served: Served) -> None:
    s = served.s
    context = session(browser, served, "regulator")
    try:
        page = context.new_page()
        errors = watch(page)
        day = s.day.isoformat()
        page.goto(f"{served.base}/regulator?facility={SITE}&from={day}&to={day}")
        entry = page.locator(f"#entry-{s.amended_entry}")
        assert "amended 1×" in entry.inner_text().lower()
        history = entry.locator(".history")
        assert "misread the day tank gauge" in history.inner_text()
        assert "Oli Operator (demo)" in history.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "regulator-1920x1080.png"), full_page=True)
        # No write on this page: no password field, no form that posts.
        assert page.locator('input[type="password"]').count() == 0
        assert page.locator('form[method="post"]').count() == 0

        # The server refuses the regulator's writes, whatever the page shows.
        base = served.base
        for path, body in (
            ("/api/entries", {"shift_id": s.shift_id, "kind": "note", "data": {"text": "x"}}),
            (f"/api/entries/{s.trainee_entry}/countersign", {"password": PASSWORDS["regulator"]}),
            ("/api/amendments", {"target": "entry", "target_id": s.amended_entry,
                                 "changes": {"data": {"amount": 1}}, "reason": "regulator edit"}),
        ):  # fmt: skip
            r = context.request.post(base + path, data=body)
            assert r.status == 403, (path, r.status, r.text())
        status = page.evaluate(
            "async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type':"
            " 'application/json'}, body: JSON.stringify({password: 'x'})})).status",
            f"{base}/api/entries/{s.trainee_entry}/countersign",
        )
        assert status == 403
        response = page.goto(f"{base}/chief")
        assert response is not None and response.status == 403
        assert [e for e in errors if "403" not in e] == []
    finally:
        context.close()


def test_trend_shows_the_log_entries_on_its_time_axis(browser: Any, served: Served) -> None:
    s = served.s
    context = session(browser, served, "operator")
    try:
        page = context.new_page()
        errors = watch(page)
        page.goto(f"{served.base}/trends?site={SITE}&tag={TAG}&period=8h")
        page.wait_for_selector('#trend[data-state="drawn"]', timeout=15_000)
        page.wait_for_selector('#trend[data-marks="2"]', timeout=15_000)
        marker = page.locator(f'.trend-mark[data-entry="{s.amended_entry}"]')
        marker.hover()
        tip = page.locator(".trend-mark-tip")
        tip.wait_for(state="visible")
        assert "Chemical addition" in tip.inner_text()
        assert "amount: 15" in tip.inner_text() and "Oli Operator (demo)" in tip.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "trend-entries-1920x1080.png"))
        page.mouse.move(5, 5)
        tip.wait_for(state="hidden")
        assert errors == []
    finally:
        context.close()

"""The gap scenario served for the browser tests of the chief's, the regulator's, the
trend and the exports pages: the demo people and a tag on a real database, ``clearwell
serve`` on it, and the scenario recorded over HTTP through the logbook's and compliance's
APIs (the DRC leaves early, the crew stays; a sample's result is amended). The ``served``
fixture (tests/dashboards/conftest.py) makes it once for the session; the modules take
their Chromium and helpers from here."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest

from dashboards.nav import links_for
from dashboards.web import PAGES
from logbook.demo import DEMO_USERS, seed_async
from tests.dashboards.helpers import make_tag
from tests.dashboards.scenario import SITE, GapScenario, make_gap, make_sample
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    assert_accessible,
    need_browser,
)
from tests.support.database import DatabaseServer
from tests.support.serve import serve

PASSWORDS = {u[0]: u[3] for u in DEMO_USERS}
ROLES = {u[0]: u[2] for u in DEMO_USERS}
TAG = "Cl2.Residual"
# Every page is looked at on the floor's and the desk's screen and on a phone.
SIZES = ((1280, 800), (390, 844))


class Served:
    def __init__(self, base: str, scenario: GapScenario, sample: int) -> None:
        self.base = base
        self.s = scenario
        self.sample = sample


async def _setup(base: str) -> Served:
    """The demo people log in over HTTP and record the gap scenario through the APIs."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for user in ("chief", "operator", "trainee", "admin"):
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

        s = await make_gap(call, ids)
        sample, _ = await make_sample(call, s)
        return Served(base, s, sample)


@contextmanager
def gap_served(db_server: DatabaseServer) -> Iterator[Served]:
    need_browser()
    db_url = db_server.make_database()
    asyncio.run(seed_async(db_url))
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert row
        make_tag(conn, row[0], TAG)
    try:
        with serve(db_url) as base:
            yield asyncio.run(_setup(base))
    finally:
        db_server.drop_database(db_url)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Replaces the suite's per-test check in a module that imports it: Playwright's event
    loop, shared by the module's tests, keeps its executor threads until the browser closes
    at the module's end (``browser`` checks then that none is left)."""
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


def look(
    browser: Any, served: Served, user: str | None, path: str, shot: str, ready: str | None = None
) -> None:
    """Opens ``path`` as ``user`` (None: no one logged in) at each of ``SIZES`` and checks what
    a person would trip on: the page answers without a script error, its top bar offers
    exactly the pages the user may open, nothing runs off the screen sideways, and axe-core
    finds no serious or critical violation. A full-page screenshot of each is saved as
    ``pages/SHOT-USER-WxH.png``. ``ready``: a selector to wait for before looking."""
    (SCREENSHOTS / "pages").mkdir(parents=True, exist_ok=True)
    first = SIZES[0]
    context = (
        session(browser, served, user, *first)
        if user
        else browser.new_context(viewport={"width": first[0], "height": first[1]})
    )
    try:
        page = context.new_page()
        errors = watch(page)
        for width, height in SIZES:
            where = f"{path} as {user or 'no one'} at {width}x{height}"
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(served.base + path)
            assert response is not None and response.status == 200, where
            if ready:
                page.wait_for_selector(ready, timeout=15_000)
            links = page.locator("nav.nav a.nav-link")
            expected = links_for(PAGES, ROLES[user], path.split("?")[0]) if user else []
            assert links.all_inner_texts() == [link.label for link in expected], where
            assert [links.nth(i).get_attribute("aria-current") for i in range(links.count())] == [
                "page" if link.current else None for link in expected
            ], where
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{where}: the page is {wide} px wide"
            assert_accessible(page, where)
            page.screenshot(
                path=str(SCREENSHOTS / "pages" / f"{shot}-{user or 'anyone'}-{width}x{height}.png"),
                full_page=True,
            )
            assert errors == [], (where, errors)
    finally:
        context.close()

"""The gap scenario served for the browser tests of the chief's, the regulator's and the
trend pages: the demo people and a tag on a real database, ``clearwell serve`` on it, and
the scenario recorded over HTTP through the logbook's and compliance's APIs (the DRC
leaves early, the crew stays). The ``served`` fixture (tests/dashboards/conftest.py) makes
it once for the session; the modules take their Chromium and helpers from here."""

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

from logbook.demo import DEMO_USERS, seed_async
from tests.dashboards.helpers import make_tag
from tests.dashboards.scenario import SITE, GapScenario, make_gap
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, need_browser
from tests.support.database import DatabaseServer
from tests.support.serve import serve

PASSWORDS = {u[0]: u[3] for u in DEMO_USERS}
TAG = "Cl2.Residual"


class Served:
    def __init__(self, base: str, scenario: GapScenario) -> None:
        self.base = base
        self.s = scenario


async def _setup(base: str) -> GapScenario:
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

        return await make_gap(call, ids)


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
            yield Served(base, asyncio.run(_setup(base)))
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

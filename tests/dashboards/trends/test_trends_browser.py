"""The trend page in a real browser: Debian's Chromium, driven by Playwright, against
``clearwell serve`` on a database with generated readings (one for the module), on the
floor's and the desk's screens and on a phone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.dashboards.helpers import BAD_COMM, copy_rows, make_site, make_tag
from tests.dashboards.people import add_person, password_of
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    assert_accessible,
    need_browser,
)
from tests.support.database import DatabaseServer, owner_of
from tests.support.serve import serve

pytestmark = pytest.mark.browser


def _readings(db_url: str) -> None:
    """30 days of a 1 min tag up to now, with a 6 h hole and a 2 h link loss, rolled up."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=30)
    hole = (now - timedelta(days=12), now - timedelta(days=12) + timedelta(hours=6))
    lost = (now - timedelta(days=5), now - timedelta(days=5) + timedelta(hours=2))
    with psycopg.connect(db_url) as conn:
        site = make_site(conn, "plant1", tz="America/Denver")
        tag = make_tag(conn, site, "DO.Basin1", description="Dissolved oxygen, basin 1")
        make_tag(conn, site, "Flow.Influent", unit="MGD")
        make_tag(conn, make_site(conn, "plant2"), "Level.Wetwell", unit="ft")
        conn.commit()
        with psycopg.connect(owner_of(db_url)) as owner:  # configuration the app only reads
            owner.execute(
                "INSERT INTO tag_sampling (tag_id, expected_interval_s) VALUES (%s, 60)", (tag,)
            )
        rows = []
        for i in range(30 * 1440):
            t = start + timedelta(minutes=i)
            if hole[0] <= t < hole[1] or lost[0] < t < lost[1]:
                continue
            if t == lost[0]:
                rows.append((t, tag, None, BAD_COMM))
                continue
            daily = 1.5 * __import__("math").sin(i / 1440 * 6.283)
            rows.append((t, tag, 6.0 + daily + 0.3 * ((i * 7919) % 13) / 13, 0))
        copy_rows(conn, rows)
    from dashboards.trends.rollups import mark_range, refresh_all

    async def rollup() -> None:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            await mark_range(conn, start - timedelta(hours=1), now + timedelta(hours=1))
            await refresh_all(conn)

    asyncio.run(rollup())


@pytest.fixture(scope="module")
def server(db_server: DatabaseServer) -> Iterator[str]:
    """``clearwell serve`` in a subprocess on a free loopback port; its base URL. The tests
    only read, so one database serves them all."""
    need_browser()
    db_url = db_server.make_database()
    try:
        _readings(db_url)
        asyncio.run(add_person(db_url, "viewer"))
        with serve(db_url) as base:
            yield base
    finally:
        db_server.drop_database(db_url)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080), (390, 844)])
def test_trend_page_draws_a_month_of_a_tag(server, width, height):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            login = context.request.post(
                f"{server}/api/auth/login",
                data={"username": "viewer", "password": password_of("viewer")},
            )
            assert login.ok, login.text()
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server}/trends?site=plant1&tag=DO.Basin1&period=30d")
            page.wait_for_selector('#trend[data-state="drawn"]', timeout=15_000)
            canvas = page.locator("#trend-chart canvas")
            assert canvas.count() == 1
            box = canvas.bounding_box()
            assert box and box["width"] > width * 0.8 and box["height"] >= 300
            # The whole chart is on screen at this size, with the controls above it.
            assert box["y"] + box["height"] <= height
            assert "DO.Basin1" in page.locator(".u-legend").inner_text()
            trend = page.locator("#trend")
            assert trend.get_attribute("data-source") in {"1m", "1h"}
            assert 60 <= int(trend.get_attribute("data-points") or 0) <= 5000
            # Touch targets: the period buttons are at least 56 px tall.
            button = page.locator("button.seg").first.bounding_box()
            assert button and button["height"] >= 56
            # The plant's clock on the time axis, 24-hour: no am or pm.
            assert "am" not in page.locator(".u-axis").first.inner_text().lower()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert_accessible(page, f"the 30-day trend at {width}x{height}")
            page.screenshot(path=str(SCREENSHOTS / f"trends-30d-{width}x{height}.png"))

            # Switching the period redraws from the server.
            page.locator("button.seg", has_text="24h").click()
            page.wait_for_selector('#trend[data-state="drawn"]', timeout=15_000)
            assert "period=24h" in page.url
            assert page.locator("#trend").get_attribute("data-source") in {"raw", "1m"}

            # Another tag from the picker keeps the period; this one has no readings.
            page.select_option("#tag-select", "Flow.Influent")
            page.wait_for_url("**tag=Flow.Influent**")
            page.wait_for_selector('#trend[data-state="drawn"]', timeout=15_000)
            assert "period=24h" in page.url
            assert page.locator("#trend-message").inner_text() == "No good data in this period."
            assert "Flow.Influent" in page.locator(".u-legend").inner_text()

            # Another site: htmx fetches its tags, then the page shows the first of them.
            page.select_option("select[name=site]", "plant2")
            page.wait_for_url("**site=plant2**")
            page.wait_for_selector('#trend[data-state="drawn"]', timeout=15_000)
            assert "tag=Level.Wetwell" in page.url
            assert page.locator(".trend-title").inner_text().startswith("Level.Wetwell")
        finally:
            browser.close()
    assert errors == []

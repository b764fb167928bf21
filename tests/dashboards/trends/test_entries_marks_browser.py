"""The log entries on a trend's time axis in a real browser, on the gap scenario
(tests/dashboards/browsing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import (
    TAG,
    Served,
    session,
    watch,
)
from tests.dashboards.scenario import SITE
from tests.support.browser import SCREENSHOTS

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


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
        assert "Amount: 15 gal" in tip.inner_text() and "Oli Operator (demo)" in tip.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "trend-entries-1920x1080.png"))
        page.mouse.move(5, 5)
        tip.wait_for(state="hidden")
        assert errors == []
    finally:
        context.close()

"""The trend page in a real browser as every role, on the gap scenario
(tests/dashboards/browsing.py): what each may open from it, on a desk's screen and a phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import TAG, Served, look, session
from tests.dashboards.scenario import SITE

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser

PATH = f"/trends?site={SITE}&tag={TAG}&period=8h"
DRAWN = '#trend[data-state="drawn"]'


@pytest.mark.parametrize("user", ["operator", "trainee", "chief", "admin", "regulator"])
def test_the_trend_page_as_each_role(browser: Any, served: Served, user: str) -> None:
    look(browser, served, user, PATH, "trends", ready=DRAWN)


def test_an_operator_gets_back_to_the_floor_from_a_trend(browser: Any, served: Served) -> None:
    context = session(browser, served, "operator", 390, 844)
    try:
        page = context.new_page()
        page.goto(served.base + PATH)
        page.locator("nav.nav a.nav-link", has_text="Floor").click()
        page.wait_for_url(f"**/floor/{SITE}")
        assert page.locator("h1, h2").count() > 0
    finally:
        context.close()

"""The exports page in a real browser as each role that may open it, on the gap scenario
(tests/dashboards/browsing.py); the downloads themselves are test_web's and test_bundle's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import Served, look
from tests.dashboards.scenario import SITE

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("user", ["regulator", "chief", "admin"])
def test_the_exports_page_as_each_role_that_may_open_it(
    browser: Any, served: Served, user: str
) -> None:
    look(browser, served, user, f"/exports?site={SITE}", "exports")

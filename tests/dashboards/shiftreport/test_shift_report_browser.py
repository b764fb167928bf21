"""In Chromium, on the gap scenario (tests/dashboards/browsing.py): the log searched from
the records page, and the shift report opened from a result; the report's page as each
role that reads the log (top bar, width, axe-core) and its PDF downloaded from it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import Served, look, session, watch
from tests.dashboards.scenario import SITE
from tests.support.browser import SCREENSHOTS

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


def test_search_the_log_then_open_the_shift_report(browser: Any, served: Served) -> None:
    s = served.s
    context = session(browser, served, "regulator")
    try:
        page = context.new_page()
        errors = watch(page)
        day = s.day.isoformat()
        page.goto(f"{served.base}/regulator?facility={SITE}&from={day}&to={day}")
        assert page.locator(f"#entry-{s.amended_entry}").count() == 1
        box = page.get_by_role("searchbox", name="Search the log")
        box.fill("wet well")
        box.press("Enter")
        page.wait_for_url("**q=wet+well**")
        assert "1 entry with “wet well”" in page.locator("#log-count").inner_text()
        assert page.locator(f"#entry-{s.trainee_entry}").count() == 1
        assert page.locator(f"#entry-{s.amended_entry}").count() == 0
        # An amendment's reason finds its entry too.
        box = page.get_by_role("searchbox", name="Search the log")
        box.fill("tank gauge")
        box.press("Enter")
        page.wait_for_url("**q=tank+gauge**")
        assert page.locator(f"#entry-{s.amended_entry}").count() == 1
        page.locator(f"#entry-{s.amended_entry} a[data-shift-report]").click()
        page.wait_for_url(f"**/api/shifts/{s.shift_id}/report.html")
        assert "Shift report" in page.locator("h1").inner_text()
        charge = page.locator("#charge").inner_text()
        assert "Casey Chief (demo)" in charge and "no one held charge" in charge
        entries = page.locator("#entries").inner_text()
        assert "Wet well level checked by the trainee." in entries
        assert "misread the day tank gauge" in entries
        page.screenshot(path=str(SCREENSHOTS / "shift-report-1920x1080.png"), full_page=True)
        page.emulate_media(media="print")
        assert page.locator("header.topbar").is_hidden()
        assert page.locator(".print-head").is_visible()
        page.emulate_media(media="screen")
        with page.expect_download() as download:
            page.get_by_role("link", name="PDF").click()
        path = download.value.path()
        assert path is not None and open(path, "rb").read(5) == b"%PDF-"
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("user", ["operator", "trainee", "chief", "admin", "regulator"])
def test_the_report_page_as_each_role_that_reads_the_log(
    browser: Any, served: Served, user: str
) -> None:
    look(browser, served, user, f"/api/shifts/{served.s.shift_id}/report.html", "shift-report")

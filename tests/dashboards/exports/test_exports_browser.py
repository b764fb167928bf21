"""The exports page in a real browser: as each role that may open it, on the gap scenario
(tests/dashboards/browsing.py); and a chief's downloads on a server of its own whose data
directory holds the site's file: the month in progress offered by default and downloaded
as a file that says it is the month to date, a month that has not begun saying why, and a
download that cannot be made answering with the page naming the problem, never a download
the browser cancels. The files' contents are test_web's, test_bundle's and
test_hostile_months'."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from compliance.demo import seed_async as seed_compliance
from tests.dashboards import browsing
from tests.dashboards.browsing import Served, look, session, watch
from tests.dashboards.exports.month import SITE_FILE
from tests.dashboards.scenario import SITE
from tests.support.browser import SCREENSHOTS, assert_accessible
from tests.support.database import DatabaseServer
from tests.support.serve import serve

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("user", ["regulator", "chief", "admin"])
def test_the_exports_page_as_each_role_that_may_open_it(
    browser: Any, served: Served, user: str
) -> None:
    look(browser, served, user, f"/exports?site={SITE}", "exports")


@pytest.fixture(scope="module")
def own(db_server: DatabaseServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(base URL, data directory): the demo people and the site's file, served."""
    url = db_server.make_database()
    data_dir = tmp_path_factory.mktemp("data")
    (data_dir / "sites").mkdir()
    (data_dir / "sites" / f"{SITE}.yaml").write_text(SITE_FILE)
    # Playwright's loop runs in this thread once the module's Chromium is up: seeded in
    # another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed_compliance(url)).result()
    try:
        with serve(url, CLEARWELL_DATA_DIR=str(data_dir)) as base:
            yield base, data_dir
    finally:
        db_server.drop_database(url)


def test_downloads_are_files_or_the_page_saying_why_not(
    browser: Any, served: Served, own: Any, tmp_path: Path
) -> None:
    base, data_dir = own
    current = f"{datetime.now(UTC).astimezone(ZoneInfo('America/Denver')):%Y-%m}"
    context = session(browser, type("S", (), {"base": base})(), "chief", 1280, 800)
    try:
        page = context.new_page()
        errors = watch(page)
        page.goto(f"{base}/exports")
        # The month in progress, to date, by default.
        assert page.input_value("input[name=month]") == current
        assert "month to date" in page.inner_text(".exports-note")
        with page.expect_download() as caught:
            page.click("a[data-kind='mor.pdf']")
        download = caught.value
        assert download.suggested_filename == f"{SITE}-mor-{current}.pdf"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        text = "\n".join(p.extract_text() for p in PdfReader(saved).pages)
        assert "NOT THE WHOLE MONTH" in text and "Page 1 of" in text
        assert page.url == f"{base}/exports"  # the page stays

        # A month that has not begun: said, with the way to the month in progress.
        page.fill("input[name=month]", "2999-01")
        page.dispatch_event("input[name=month]", "change")
        page.wait_for_selector(".exports-note:has-text('has not begun')")
        assert page.locator("a.export-link").count() == 0
        assert_accessible(page, "the exports page for a month not begun")
        page.click(f"text=Export {current} to date")
        page.wait_for_selector("a.export-link")

        # A download that cannot be made: the page, naming why, instead of a file.
        moved = data_dir / "sites" / f"{SITE}.yaml"
        moved.rename(moved.with_suffix(".away"))
        try:
            page.click("a[data-kind='dmr.csv']")
            alert = page.wait_for_selector("[role=alert]:has-text('Nothing was downloaded')")
            assert alert is not None and f"{SITE}.yaml" in alert.inner_text()
        finally:
            moved.with_suffix(".away").rename(moved)
        assert_accessible(page, "the exports page naming a download it could not make")
        page.screenshot(path=str(SCREENSHOTS / "pages" / "exports-refused-chief.png"))
        response = page.goto(f"{base}/exports/{SITE}/0000-01/mor.pdf")
        assert response is not None and response.status == 422
        assert "reports are of months from 1900-01 on" in page.inner_text("[role=alert]")
        # Chromium logs each page answered with a 4xx as a resource that failed to load:
        # those are the refusals above; nothing else may have gone wrong.
        refused = "Failed to load resource: the server responded with a status of 4"
        assert [e for e in errors if not e.startswith(refused)] == []
        assert len(errors) == 2
    finally:
        context.close()

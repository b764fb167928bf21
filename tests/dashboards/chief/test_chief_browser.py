"""The chief operator's page in a real browser: Debian's Chromium driven by Playwright,
against ``clearwell serve`` on a real database where the test made a coverage gap (the DRC
leaves early, the crew stays; tests/dashboards/browsing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import (
    PASSWORDS,
    Served,
    look,
    session,
    watch,
)
from tests.dashboards.scenario import SITE
from tests.support.browser import SCREENSHOTS

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


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

        # A site policy's finding has a colour of its own, neither a violation's nor none.
        policy = page.locator('article.finding[data-rule="countersign-missing"]')
        style = "(el, p) => getComputedStyle(el)[p]"
        assert policy.evaluate(style, "borderLeftColor") == "rgb(201, 160, 255)"
        badge = policy.locator(".badge")
        assert badge.inner_text().lower() == "site policy"
        assert badge.evaluate(style, "backgroundColor") == "rgb(201, 160, 255)"
        assert "not a violation of law" in policy.locator(".basis").inner_text()
        violation = page.locator('article.finding[data-rule="drc-missing"] .badge')
        assert violation.evaluate(style, "backgroundColor") == "rgb(255, 92, 92)"
        levels = page.locator("#levels")
        assert levels.is_visible()
        assert (
            "counted as emerging"
            in levels.locator(f'tr[data-person="{s.ids["trainee"]}"]').inner_text()
        )

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


@pytest.mark.parametrize("user", ["chief", "admin"])
def test_the_chief_page_as_each_role_that_may_open_it(
    browser: Any, served: Served, user: str
) -> None:
    look(browser, served, user, f"/chief?facility={SITE}&month={served.s.month}", "chief")

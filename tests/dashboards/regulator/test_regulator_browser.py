"""The regulator's pages in a real browser, on the gap scenario (tests/dashboards/browsing.py):
the records read, and every write refused by the server."""

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


@pytest.mark.parametrize("user", ["regulator", "chief", "admin"])
def test_the_records_pages_as_each_role_that_may_open_them(
    browser: Any, served: Served, user: str
) -> None:
    # From the scenario's day to today: its entries, and the sample taken since.
    day = served.s.day.isoformat()
    look(browser, served, user, f"/regulator?facility={SITE}&from={day}", "regulator")
    look(browser, served, user, f"/records/entries/{served.s.amended_entry}", "regulator-entry")

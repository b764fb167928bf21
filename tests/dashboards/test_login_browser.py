"""The login page away from the floor in a real browser, on the gap scenario
(tests/dashboards/browsing.py): a person sent to log in from a desk page logs in with their
password and is back on that page; one who came to log in goes to their role's page. The
floor terminal's login (PIN, lock) is tests/dashboards/floor's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.dashboards.browsing import PASSWORDS, Served, look, watch
from tests.dashboards.scenario import SITE

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser


def test_the_login_page_on_a_desk_and_a_phone(browser: Any, served: Served) -> None:
    look(browser, served, None, "/login?next=%2Fchief", "login")


@pytest.mark.parametrize(
    ("user", "path", "lands"),
    [
        ("chief", f"/chief?facility={SITE}", f"/chief?facility={SITE}"),
        ("regulator", "/login", "/regulator"),
    ],
)
def test_a_person_logs_in_with_a_password_and_lands_where_they_should(
    browser: Any, served: Served, user: str, path: str, lands: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        errors = watch(page)
        page.goto(served.base + path)
        assert page.url.split("?")[0].endswith("/login")
        form = page.locator("#password-form")
        form.locator('input[name="username"]').fill(user)
        form.locator('input[name="password"]').fill(PASSWORDS[user])
        form.locator("button", has_text="Log in").click()
        page.wait_for_url(served.base + lands)
        assert page.locator("h1").count() == 1
        assert errors == []
    finally:
        context.close()

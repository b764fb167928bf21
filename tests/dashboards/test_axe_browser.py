"""The accessibility check the browser tests run (``tests.support.browser.assert_accessible``,
axe-core from npm) proven on pages with known violations: it must fail on them, name each,
and pass a page without them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards import browsing
from tests.support.browser import AxeNotice, assert_accessible

# The module's Chromium; the suite's per-test thread check gives way to the browser's own.
browser = browsing.browser
no_leaked_threads = browsing.no_leaked_threads

pytestmark = pytest.mark.browser

# An image without a text, a button without a name, grey on grey, no language: each
# serious or critical for axe-core.
BROKEN = """<!doctype html><html><head><title>broken</title></head><body><main>
<h1>Broken</h1><img src="data:,"><button type="button"></button>
<p style="color: #777; background: #888">hard to read</p></main></body></html>"""
# Headings that skip a level: moderate, reported but not failed.
SKIPS = """<!doctype html><html lang="en"><head><title>skips</title></head><body><main>
<h1>Page</h1><h4>Too deep</h4></main></body></html>"""
FINE = """<!doctype html><html lang="en"><head><title>fine</title></head><body><main>
<h1>Fine</h1><button type="button">Press</button></main></body></html>"""


def test_axe_fails_a_page_with_known_violations_and_names_each(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.set_content(BROKEN)
        with pytest.raises(AssertionError) as failed:
            assert_accessible(page, "the broken page")
        message = str(failed.value)
        assert "axe-core on the broken page" in message
        for rule in ("image-alt", "button-name", "color-contrast", "html-has-lang"):
            assert rule in message, message
        # What is wrong, in axe's words, not only where.
        assert "insufficient color contrast" in message

        page.set_content(SKIPS)
        with pytest.warns(AxeNotice, match="heading-order"):
            assert_accessible(page, "the page that skips")

        page.set_content(FINE)
        assert_accessible(page, "the fine page")
    finally:
        page.close()

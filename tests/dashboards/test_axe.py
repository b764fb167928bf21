"""The accessibility check every page's browser test runs (tests/support/browser.py): it
finds what it should, names it, and passes a page with nothing serious on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    assert_accessible,
    axe_violations,
    need_browser,
)

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html><head><title>Broken</title></head><body><main>
<h1>A page</h1>
<button type="button"></button>
<img src="data:,">
<label>Name <input id="a"></label>
<p style="color: #777; background: #888">Grey on grey</p>
</main></body></html>"""

CLEAN = """<!doctype html><html lang="en"><head><title>Clean</title></head><body><main>
<h1>A page</h1>
<button type="button">Save</button>
<img src="data:," alt="The plant">
<label>Name <input id="a"></label>
</main></body></html>"""


@pytest.fixture
def page() -> Iterator[Any]:
    """A browser of the test's own (Playwright's thread ends with it)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium.new_page()
        finally:
            chromium.close()


def test_serious_and_critical_violations_are_found_and_named(page):
    page.set_content(BROKEN)
    found = {v["id"]: v["impact"] for v in axe_violations(page)}
    # A button with no name, an image with no text, a document with no language, grey on
    # grey: each is serious or critical.
    assert {"button-name", "image-alt", "html-has-lang", "color-contrast"} <= set(found)
    assert set(found.values()) <= {"serious", "critical"}
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "the broken page")
    message = str(failed.value)
    assert "axe-core on the broken page:" in message
    assert "critical button-name: Buttons must have discernible text at ['button']" in message


def test_a_page_with_nothing_serious_passes(page):
    page.set_content(CLEAN)
    assert axe_violations(page) == []
    assert_accessible(page, "the clean page")

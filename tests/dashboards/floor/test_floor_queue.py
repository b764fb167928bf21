"""The floor terminal's outbox (static/js/floor-queue.js) on its own in Chromium, with
``fetch`` replaced: no server, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, need_browser

QUEUE_JS = Path(__file__).resolve().parents[3] / "dashboards" / "static" / "js" / "floor-queue.js"

pytestmark = pytest.mark.browser

# Two records typed one after the other: the second is added while the first one's
# flush is still waiting for the server.
ADD_DURING_FLUSH = """async () => {
  window.localStorage.clear();
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const sent = [];
  window.fetch = async (path, init) => {
    sent.push(JSON.parse(init.body).n);
    if (sent.length === 1) await gate;
    return new Response('{"id": 1}', {status: 201,
                                       headers: {"Content-Type": "application/json"}});
  };
  const handlers = { changed() {}, sent() {}, refused() {}, unauthorized() {} };
  const box = new window.ClearwellOutbox(7, handlers);
  const first = box.add("/api/entries", { n: 1 }, "First");
  const second = box.add("/api/entries", { n: 2 }, "Second");
  release();
  return {
    first: (await first).state, second: (await second).state,
    sent, pending: box.pending().length, online: box.online,
  };
}"""


def run(script: str) -> Any:
    from playwright.sync_api import sync_playwright

    need_browser()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page()
            # localStorage needs an origin: any page of one, never loaded from the network.
            page.route("http://terminal.test/", lambda route: route.fulfill(body="<html></html>"))
            page.goto("http://terminal.test/")
            page.add_script_tag(path=str(QUEUE_JS))
            return page.evaluate(script)
        finally:
            chromium.close()


def test_a_record_added_during_a_flush_is_sent_not_left_queued():
    result = run(ADD_DURING_FLUSH)
    assert result == {
        "first": "sent",
        "second": "sent",
        "sent": [1, 2],
        "pending": 0,
        "online": True,
    }

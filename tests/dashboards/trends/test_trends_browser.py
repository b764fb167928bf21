"""The trend page in a real browser: Debian's Chromium, driven by Playwright, against
``clearwell serve`` on a month at a plant (tests/dashboards/trends/month.py, one database
for the module): a month of a tag on the floor's, the desk's and a phone's screens; four
pens over a custom range and their CSV files checked against the database; eight pens at
a desk and on a phone; zooming in and back; time labels at every width; the print view."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.dashboards import browsing
from tests.dashboards.people import add_person, password_of
from tests.dashboards.trends.month import ENTRIES, SITE, TAGS, TZ, Month, build
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    assert_accessible,
    need_browser,
)
from tests.support.database import DatabaseServer
from tests.support.serve import serve

pytestmark = pytest.mark.browser

DRAWN = '#trend[data-state="drawn"]'
ZONE = ZoneInfo(TZ)
EIGHT = [name for name, _, _ in TAGS[:8]]


@pytest.fixture(scope="module")
def month(db_server: DatabaseServer) -> Iterator[tuple[Month, str]]:
    """The month behind ``clearwell serve``; the tests only read, so one database serves
    them all."""
    need_browser()
    db_url = db_server.make_database()
    try:
        m = build(db_url)
        asyncio.run(add_person(db_url, "viewer"))
        asyncio.run(add_person(db_url, "chief", role="chief_operator"))
        with serve(db_url) as base:
            yield m, base
    finally:
        db_server.drop_database(db_url)


@pytest.fixture(scope="module")
def chromium(month: tuple[Month, str]) -> Iterator[Any]:
    """One Chromium for the module; no thread of it is left once it closes."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = set(threading.enumerate())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    deadline = time.monotonic() + 5
    while (left := [t for t in threading.enumerate() if t not in before and t.is_alive()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert not left, f"the browser left threads behind: {[t.name for t in left]}"


# The suite's per-test thread check gives way to the module browser's own (above):
# Playwright's event loop keeps its executor threads until the browser closes.
no_leaked_threads = browsing.no_leaked_threads


class Visit:
    """A logged-in page of the module's browser, its script errors collected."""

    def __init__(self, browser: Any, base: str, user: str, width: int, height: int) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        r = self.context.request.post(
            f"{base}/api/auth/login", data={"username": user, "password": password_of(user)}
        )
        assert r.ok, r.text()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        self.page.wait_for_selector(DRAWN, timeout=15_000)
        return self.page


@pytest.fixture
def visit(chromium: Any, month: tuple[Month, str]) -> Iterator[Any]:
    opened: list[Visit] = []

    def make(user: str = "chief", width: int = 1280, height: int = 800) -> Visit:
        v = Visit(chromium, month[1], user, width, height)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.context.close()
        assert v.errors == [], v.errors


def trend_path(*tags: str, **params: str) -> str:
    query = "&".join([f"site={SITE}", *(f"tag={t}" for t in tags)])
    return "/trends?" + "&".join([query, *(f"{k}={v}" for k, v in params.items())])


def labels_apart(page: Any) -> list[str]:
    """Every pair of neighbouring time-axis labels that touch, as the chart drew them
    (uPlot draws them on its canvas: measured here in the axis font)."""
    return page.evaluate(
        """() => {
          const u = window.ClearwellTrend.plot();
          const ax = u.axes[0];
          const ctx = document.createElement("canvas").getContext("2d");
          ctx.font = ax.font[0];
          const boxes = ax._splits.map((s, i) => {
            const lines = String(ax._values[i]).split("\\n");
            const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) / devicePixelRatio;
            const x = u.valToPos(s, "x");
            return { x0: x - w / 2, x1: x + w / 2, text: lines.join(" ") };
          }).filter((b) => b.x1 >= 0 && b.x0 <= u.bbox.width / devicePixelRatio);
          const bad = [];
          for (let i = 1; i < boxes.length; i++) {
            const [a, b] = [boxes[i - 1], boxes[i]];
            if (b.x0 - a.x1 < 4) bad.push(`${a.text} | ${b.text}`);
          }
          return bad;
        }"""
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080), (390, 844)])
def test_a_month_of_a_tag(visit: Any, width: int, height: int) -> None:
    v = visit("viewer", width, height)
    page = v.open(trend_path("DO.Basin1", period="30d"))
    canvas = page.locator("#trend-chart canvas")
    assert canvas.count() == 1
    box = canvas.bounding_box()
    assert box and box["width"] > width * 0.8 and box["height"] >= 300
    # The whole chart is on screen at this size, with the controls above it.
    assert box["y"] + box["height"] <= height
    assert page.locator(".pen").inner_text().startswith("Dissolved oxygen, basin 1")
    trend = page.locator("#trend")
    assert trend.get_attribute("data-source") in {"1m", "1h"}
    assert 60 <= int(trend.get_attribute("data-points") or 0) <= 5000
    # Touch targets: the period buttons are at least 56 px tall.
    button = page.locator("button.seg").first.bounding_box()
    assert button and button["height"] >= 56
    assert labels_apart(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page, f"the 30-day trend at {width}x{height}")
    page.screenshot(path=str(SCREENSHOTS / f"trends-30d-{width}x{height}.png"))

    # Switching the period redraws from the server.
    page.locator("button.seg", has_text="24h").click()
    page.wait_for_url("**period=24h**")
    page.wait_for_selector(DRAWN, timeout=15_000)
    assert page.locator("#trend").get_attribute("data-source") in {"raw", "1m"}

    # Another site: the page shows its first tag, keeping the period.
    page.select_option("select[name=site]", "plant2")
    page.wait_for_url("**site=plant2**")
    page.wait_for_selector(DRAWN, timeout=15_000)
    assert "period=24h" in page.url
    assert page.locator(".trend-title").inner_text().startswith("Level.Tank")
    assert page.locator("#trend-message").inner_text() == "No good data in this period."


def buckets_from_readings(
    url: str, tags: dict[str, int], width_s: int, start: datetime, end: datetime
) -> dict[tuple[str, int], tuple[float, float, float]]:
    """(tag, bucket start) -> (min, mean, max) of the good readings, straight from the table."""
    names = {i: n for n, i in tags.items()}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT tag_id, time, value FROM readings
               WHERE tag_id = ANY(%s) AND time >= %s AND time < %s AND status = 0
                 AND value IS NOT NULL""",
            (list(tags.values()), start, end),
        ).fetchall()
    groups: dict[tuple[str, int], list[float]] = {}
    for tag_id, t, value in rows:
        at = int(t.timestamp())
        groups.setdefault((names[tag_id], at - at % width_s), []).append(value)
    return {k: (min(vs), math.fsum(vs) / len(vs), max(vs)) for k, vs in groups.items()}


def download(page: Any, link: str) -> tuple[str, str]:
    with page.expect_download() as info:
        page.locator(link).click()
    d = info.value
    path = d.path()
    assert path is not None
    with open(path, encoding="utf-8") as f:
        return d.suggested_filename, f.read()


def test_four_pens_over_a_custom_range_and_their_csv(visit: Any, month: tuple[Month, str]) -> None:
    m, _ = month
    v = visit()
    page = v.open(trend_path("DO.Basin1", period="7d"))
    for name in ("DO.Basin2", "Flow.Influent", "pH.Effluent"):
        page.select_option("#tag-select", name)
        page.locator(".pen-add button", has_text="Add").click()
        page.wait_for_url(f"**tag={name}**")
        page.wait_for_selector(DRAWN, timeout=15_000)
    # Three days around DO.Basin2's hole, on the plant's clock.
    day = (m.hole[0] - timedelta(days=1)).astimezone(ZONE).date()
    start = datetime(day.year, day.month, day.day, 6, tzinfo=ZONE)
    end = start + timedelta(days=3)
    page.locator(".custom-range summary").click()
    page.fill("input[name=from]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=to]", end.strftime("%Y-%m-%dT%H:%M"))
    page.locator("button", has_text="Show range").click()
    page.wait_for_url("**from=**")
    page.wait_for_selector(DRAWN, timeout=15_000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["tag"] == ["DO.Basin1", "DO.Basin2", "Flow.Influent", "pH.Effluent"]
    assert page.locator(".pen").count() == 4
    # An axis per unit: mg/L (two pens), MGD, pH.
    units = page.evaluate(
        "() => window.ClearwellTrend.plot().axes.slice(1).filter((a) => a.show).map((a) => a.label)"
    )
    assert units == ["mg/L", "MGD", "pH"]
    assert "06:00 – " in page.locator("#trend-range").inner_text()
    assert labels_apart(page) == []
    page.screenshot(path=str(SCREENSHOTS / "trends-4-pens-custom-1280x800.png"))

    # The chart's buckets as shown, against the readings.
    name, text = download(page, "#export-csv")
    stamp = f"{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"
    assert name == f"trend-{SITE}-{stamp}.csv"
    head, *rows = list(csv.reader(io.StringIO(text)))
    pens = ["DO.Basin1", "DO.Basin2", "Flow.Influent", "pH.Effluent"]
    assert head[:2] == ["time (UTC)", f"time ({TZ})"]
    assert head[2:] == [
        f"{n} {stat} ({unit})"
        for n, _, unit in (t for p in pens for t in TAGS if t[0] == p)
        for stat in ("min", "avg", "max")
    ]
    times = [int(datetime.fromisoformat(r[0]).timestamp()) for r in rows]
    width_s = times[1] - times[0]
    assert int(page.locator("#trend").get_attribute("data-points") or 0) == len(rows)
    assert times[0] <= start.timestamp() < times[0] + width_s
    assert times[-1] < end.timestamp() <= times[-1] + width_s
    expected = buckets_from_readings(
        m.url, {p: m.tags[p] for p in pens}, width_s, datetime.fromtimestamp(times[0], UTC), end
    )
    empty = 0
    for row, t in zip(rows, times, strict=True):
        assert datetime.fromisoformat(row[1]) == datetime.fromtimestamp(t, UTC)
        for k, pen in enumerate(pens):
            cells = row[2 + 3 * k : 5 + 3 * k]
            if (pen, t) in expected:
                lo, mean, hi = expected[(pen, t)]
                assert (float(cells[0]), float(cells[2])) == (lo, hi), (pen, row[0])
                assert float(cells[1]) == pytest.approx(mean, rel=1e-12), (pen, row[0])
            else:
                # No reading in the bucket: nothing, or the value held from the last one
                # for up to three sampling intervals (values stored by exception).
                assert pen == "DO.Basin2" and m.hole[0] <= datetime.fromtimestamp(t, UTC)
                assert cells == ["", "", ""] or t + width_s <= m.hole[0].timestamp() + 900
                empty += cells == ["", "", ""]
    assert empty >= 6 * 3600 // width_s - 2  # the 6 h hole

    # Every reading of the range, as stored.
    name, text = download(page, "#export-raw")
    assert name == f"readings-{SITE}-{stamp}.csv"
    head, *rows = list(csv.reader(io.StringIO(text)))
    assert head == ["time (UTC)", f"time ({TZ})", "tag", "value", "unit", "quality", "status"]
    with psycopg.connect(m.url) as conn:
        stored = conn.execute(
            """SELECT t.name, r.time, r.value, r.status
               FROM readings r JOIN tags t ON t.id = r.tag_id
               WHERE r.tag_id = ANY(%s) AND r.time >= %s AND r.time < %s""",
            ([m.tags[p] for p in pens], start, end),
        ).fetchall()
    got = [
        (r[2], datetime.fromisoformat(r[0]), float(r[3]) if r[3] else None, int(r[6])) for r in rows
    ]
    assert sorted(got, key=lambda g: (pens.index(g[0]), g[1])) == got  # pen by pen, in time
    assert sorted(got) == sorted(stored)
    assert len(got) == 3 * 288 * 3 + 3 * 1440 - 6 * 12  # 3 days: 5 min tags, a 1 min one, the hole


def test_eight_pens_at_a_desk_and_on_a_phone(visit: Any) -> None:
    for width, height in ((1280, 800), (390, 844)):
        v = visit("chief", width, height)
        page = v.open(trend_path(*EIGHT, "Pump1.Run", period="30d"))
        page.wait_for_selector(f'#trend[data-marks="{ENTRIES}"]', timeout=15_000)
        # The ninth is left out, and the page says so.
        banner = page.locator(".banner").inner_text()
        assert banner == "A chart has at most 8 pens; left out: Pump1.Run."
        assert page.locator(".pen").count() == 8
        assert "8 tags at most" in page.locator(".pens-full").inner_text()
        values = page.locator(".pen [data-value]").all_inner_texts()
        assert len(values) == 8 and "—" not in values
        # Six units: six axes at a desk, two on a phone (the list gives every unit).
        shown = page.evaluate(
            "() => window.ClearwellTrend.plot().axes.slice(1).filter((a) => a.show).length"
        )
        assert shown == (6 if width > 600 else 2)
        # A month of a busy log in groups a marker's room apart, each saying how many.
        markers = page.locator(".trend-mark")
        counts = [int(c) for c in markers.evaluate_all("els => els.map(e => e.dataset.count)")]
        assert sum(counts) == ENTRIES
        chart_width = page.locator("#trend-chart").bounding_box()["width"]
        assert len(counts) <= chart_width / 32 + 1
        xs = markers.evaluate_all("els => els.map(e => parseFloat(e.style.left))")
        assert all(b - a >= 32 for a, b in zip(xs, xs[1:], strict=False))
        group = page.locator(".trend-mark-group").first
        group.hover()
        tip = page.locator(".trend-mark-tip")
        tip.wait_for(state="visible")
        assert tip.inner_text().startswith(f"{group.get_attribute('data-count')} entries")
        assert "more: press to zoom in" in tip.inner_text()
        assert labels_apart(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert_accessible(page, f"eight pens at {width}x{height}")
        page.mouse.move(1, 1)
        page.screenshot(
            path=str(SCREENSHOTS / f"trends-8-pens-{width}x{height}.png"), full_page=True
        )


def test_zooming_in_and_back(visit: Any) -> None:
    v = visit()
    page = v.open(trend_path("DO.Basin1", "Flow.Influent", period="30d"))
    trend = page.locator("#trend")
    assert trend.get_attribute("data-source") == "1h"
    reset = page.locator("#zoom-reset")
    assert not reset.is_visible()
    # Drag across a tenth of the chart.
    over = page.locator(".u-over").bounding_box()
    assert over
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_selector('#trend[data-zoomed="1"][data-state="drawn"]', timeout=15_000)
    assert reset.is_visible() and reset.inner_text() == "Reset zoom"
    assert trend.get_attribute("data-source") == "1m"
    assert page.locator("#trend-range").inner_text().startswith("zoomed in: ")
    # The exports and the print view follow what is shown.
    x = page.evaluate("() => window.ClearwellTrend.plot().scales.x")
    lo, hi = x["min"], x["max"]
    csv_query = parse_qs(urlsplit(page.locator("#export-csv").get_attribute("href") or "").query)
    assert datetime.fromisoformat(csv_query["start"][0]).timestamp() == pytest.approx(lo, abs=0.01)
    assert datetime.fromisoformat(csv_query["end"][0]).timestamp() == pytest.approx(hi, abs=0.01)
    assert 2.5 * 86400 < hi - lo < 3.5 * 86400
    assert "print=1" in (page.locator("#print-link").get_attribute("href") or "")
    assert labels_apart(page) == []
    page.screenshot(path=str(SCREENSHOTS / "trends-zoomed-1280x800.png"))
    reset.click()
    page.wait_for_selector('#trend:not([data-zoomed])[data-state="drawn"]', timeout=15_000)
    assert not reset.is_visible()
    assert trend.get_attribute("data-source") == "1h"

    # A group of log entries opens out into its own stretch of time.
    page.locator(".trend-mark-group").nth(3).click()
    page.wait_for_selector('#trend[data-zoomed="1"][data-state="drawn"]', timeout=15_000)
    page.keyboard.press("Escape")
    page.wait_for_selector("#trend:not([data-zoomed])", timeout=15_000)


@pytest.mark.parametrize("width", [390, 800, 1280, 1920])
def test_time_labels_never_run_into_each_other(visit: Any, width: int) -> None:
    v = visit("viewer", width, 900)
    page = v.open(trend_path("Flow.Influent", period="1h"))
    now = datetime.now(UTC).timestamp()
    for span in (90, 20 * 60, 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400):
        page.evaluate(f"() => window.ClearwellTrend.zoomTo({now - span}, {now})")
        page.wait_for_selector('#trend[data-zoomed="1"][data-state="drawn"]', timeout=15_000)
        assert labels_apart(page) == [], (width, span)
        axis = page.evaluate("() => window.ClearwellTrend.plot().axes[0]._values.join(' ')")
        assert "am" not in axis.lower() and "pm" not in axis.lower()


def test_the_print_view(visit: Any) -> None:
    v = visit()
    page = v.open(trend_path(*EIGHT[:4], period="7d", **{"print": "1"}))
    # Each pen over the period: its lowest, mean and highest value.
    row = page.locator(".pen-row[data-pen]").first
    cells = row.locator("td").all_inner_texts()
    assert len(cells) == 3 and "—" not in cells
    assert float(cells[0]) <= float(cells[1]) <= float(cells[2])
    assert page.locator("#printed-at").inner_text().endswith(("MST", "MDT"))
    # A preset printed says its ends, as it was when printed.
    assert re.search(
        r"the last 7 days: \d+ \w{3} \d{4} \d\d:\d\d( M[SD]T)? – ",
        page.locator(".trend-desc").first.inner_text(),
    )
    assert page.locator(".trend-controls").count() == 0
    assert_accessible(page, "the print view")
    page.screenshot(path=str(SCREENSHOTS / "trends-print-1280x800.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator("#print-now").is_visible()
    page.emulate_media(media="screen")
    page.locator("#print-back").click()
    page.wait_for_selector(DRAWN, timeout=15_000)
    assert "print" not in page.url

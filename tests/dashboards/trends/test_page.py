"""What the trend page shows: its pens picked from the site's tags, and its links (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from dashboards.trends.page import build, pick, title
from dashboards.trends.pens import plan
from dashboards.trends.period import choose

DENVER = ZoneInfo("America/Denver")
NOW = datetime(2026, 3, 20, 18, 30, tzinfo=UTC)
SITE = {"code": "plant1", "name": "Plant 1", "timezone": "America/Denver"}
TAGS = [
    {"id": i, "name": name, "description": f"{name} described", "unit": unit}
    for i, (name, unit) in enumerate(
        [("A", "mg/L"), ("B", "MGD"), ("C", "mg/L"), ("D", "pH"), ("E", "ft"), ("F", "ft"),
         ("G", ""), ("H", "NTU"), ("I", "°C")],
        start=1,
    )
]  # fmt: skip


def names(rows) -> list[str]:
    return [r["name"] for r in rows]


@pytest.mark.parametrize(
    ("asked", "chosen", "problems"),
    [
        ([], ["A"], []),
        (["C", "A"], ["C", "A"], []),
        (["C", "C", "A"], ["C", "A"], []),
        (["Nope"], ["A"], ["No tag named “Nope” at this site; showing A."]),
        (["B", "Nope", "Zip"], ["B"], ["No tags named “Nope”, “Zip” at this site."]),
        (
            ["A", "B", "C", "D", "E", "F", "G", "H", "I"],
            ["A", "B", "C", "D", "E", "F", "G", "H"],
            ["A chart has at most 8 pens; left out: I."],
        ),
    ],
)
def test_the_pens_asked_for(asked, chosen, problems):
    got, said = pick(TAGS, asked)
    assert names(got) == chosen and said == problems


def test_a_site_without_tags_has_no_pens():
    assert pick([], ["A"]) == ([], ["No tag named “A” at this site."])


def test_the_title_names_the_first_pen_and_counts_the_rest():
    pens, _ = plan(TAGS[:3])
    assert title(pens[:1]) == "A described"
    assert title(pens) == "A described and 2 more"
    assert title([]) == "Trends"


def query(href: str) -> list[tuple[str, str]]:
    parts = urlsplit(href)
    assert parts.path == "/trends"
    return parse_qsl(parts.query)


def test_every_link_keeps_the_view_but_what_it_changes():
    period, _ = choose(None, "2026-03-01T06:00", "2026-03-04T06:00", DENVER, NOW)
    view = build("/trends", SITE, TAGS, ["A", "B", "C"], period, DENVER)
    when = [("from", "2026-03-01T06:00"), ("to", "2026-03-04T06:00")]
    assert view.keep == [("site", "plant1"), ("tag", "A"), ("tag", "B"), ("tag", "C")]
    assert view.self_params == view.keep + when
    assert query(view.back_href) == view.self_params
    assert query(view.print_href) == [*view.self_params, ("print", "1")]
    assert [query(p.remove_href) for p in view.pens if p.remove_href] == [
        [("site", "plant1"), ("tag", "B"), ("tag", "C"), *when],
        [("site", "plant1"), ("tag", "A"), ("tag", "C"), *when],
        [("site", "plant1"), ("tag", "A"), ("tag", "B"), *when],
    ]
    assert names(view.addable) == ["D", "E", "F", "G", "H", "I"]
    assert (view.from_value, view.to_value) == ("2026-03-01T06:00", "2026-03-04T06:00")
    assert view.range_words == "1 Mar 2026 06:00 – 4 Mar 2026 06:00 MST"


def test_a_preset_and_a_single_pen():
    period, _ = choose("7d", None, None, DENVER, NOW)
    view = build("/trends", SITE, TAGS, ["B"], period, DENVER)
    assert view.self_params == [("site", "plant1"), ("tag", "B"), ("period", "7d")]
    # The only pen cannot be taken off: a chart has one at least.
    assert [p.remove_href for p in view.pens] == [None]
    assert view.title == "B described" and view.range_words == "the last 7 days"
    # What the print view says it shows: the week's ends as of the page's now.
    assert view.span_words == "13 Mar 2026 12:30 – 20 Mar 2026 12:30 MDT"
    # The range fields start from what is shown, on the plant's clock.
    assert (view.from_value, view.to_value) == ("2026-03-13T12:30", "2026-03-20T12:30")


def test_a_full_chart_offers_no_more_and_the_page_gets_the_plan():
    period, _ = choose("24h", None, None, DENVER, NOW)
    view = build("/trends", SITE, TAGS, names(TAGS)[:8], period, DENVER)
    assert len(view.pens) == 8 and view.addable == []
    pens = json.loads(view.pens_json)
    axes = json.loads(view.axes_json)
    assert [p["name"] for p in pens] == list("ABCDEFGH")
    assert [a["label"] for a in axes] == ["mg/L", "MGD", "pH", "ft", "G described", "NTU"]
    assert view.problems == []

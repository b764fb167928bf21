"""The top bar's links: which pages each role sees, and which one is current (pure)."""

from __future__ import annotations

import pytest

from dashboards.nav import Link, links_for
from dashboards.web import PAGES


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        ("operator", ["Floor", "Trends"]),
        ("trainee", ["Floor", "Trends"]),
        ("chief_operator", ["Floor", "Trends", "Chief", "Records", "Exports"]),
        ("admin", ["Floor", "Trends", "Chief", "Records", "Exports"]),
        ("regulator", ["Trends", "Records", "Exports"]),
    ],
)
def test_each_role_sees_the_pages_it_may_open(role: str, labels: list[str]) -> None:
    assert [link.label for link in links_for(PAGES, role, "/trends")] == labels


@pytest.mark.parametrize(
    ("here", "current"),
    [
        ("/trends", "Trends"),
        ("/floor/demo-wwtp", "Floor"),
        ("/records/entries/12", "Records"),  # an entry's page is part of the records
        ("/regulator", "Records"),
        ("/exports", "Exports"),
        ("/chiefly", None),  # a prefix of a word is not the page
        ("/landing", None),
    ],
)
def test_the_current_page_is_marked(here: str, current: str | None) -> None:
    links = links_for(PAGES, "admin", here)
    assert [link.label for link in links if link.current] == ([current] if current else [])


def test_a_link_is_the_pages_path() -> None:
    assert links_for(PAGES, "regulator", "/regulator")[1] == Link("Records", "/regulator", True)

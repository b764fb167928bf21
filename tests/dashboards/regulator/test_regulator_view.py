"""Entries in one line, amendments as changes, and the facility a page shows: pure, tables
of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards.regulator.view import (
    amendment_views,
    changes_of,
    entry_href,
    entry_summary,
    pick_site,
    show_value,
)

DENVER = ZoneInfo("America/Denver")


@pytest.mark.parametrize(
    ("kind", "data", "text"),
    [
        (
            "chemical_addition",
            {"notes": "", "unit": "gal", "chemical": "NaOCl", "amount": 12.5, "feed_point": "CT"},
            "chemical: NaOCl; amount: 12.5; unit: gal; feed_point: CT",
        ),
        ("note", {"text": "Quiet night."}, "Quiet night."),
        (
            "maintenance",
            {"equipment": "RAS pump 2", "work": "corrective", "description": "seal",
             "out_of_service": True, "lubricant": "EP2"},
            "equipment: RAS pump 2; work: corrective; seal; out_of_service: yes; lubricant: EP2",
        ),
        ("observation", {}, "(no details)"),
        ("note", {"text": "x" * 300}, "x" * 159 + "…"),
        ("unknown_kind", {"b": 1, "a": None}, "b: 1"),
    ],
)  # fmt: skip
def test_entry_summary(kind, data, text):
    assert entry_summary(kind, data) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        ("", "—"),
        (True, "yes"),
        (2.50, "2.5"),
        (datetime(2026, 3, 8, 9, 30, tzinfo=UTC), "2026-03-08 03:30:00 -0600"),
        ("2026-07-01T12:00:00+00:00", "2026-07-01 06:00:00 -0600"),
        ("2026-07-01Tnot a time", "2026-07-01Tnot a time"),
        ([1, "a"], "1, a"),
    ],
)
def test_show_value_in_the_site_zone(value, text):
    assert show_value(value, DENVER) == text


def test_changes_of_an_entry_are_field_by_field():
    changes = {"data": {"amount": 15, "unit": "L"}, "occurred_at": "2026-03-02T10:00:00+00:00"}
    previous = {
        "data": {"amount": 12.5, "unit": "gal"},
        "occurred_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    }
    assert [(c.field, c.before, c.after) for c in changes_of(changes, previous, DENVER)] == [
        ("data.amount", "12.5", "15"),
        ("data.unit", "gal", "L"),
        ("occurred_at", "2026-03-02 02:00:00 -0700", "2026-03-02 03:00:00 -0700"),
    ]


def test_amendment_views_name_who_when_why():
    history = [
        {"id": 5, "amended_at": "2026-03-02T17:00:00+00:00", "amended_by": 2, "reason": "typo",
         "after_signing": False, "changes": {"data": {"amount": 15}},
         "previous": {"data": {"amount": 12.5}}},
        {"id": 9, "amended_at": datetime(2026, 3, 3, 17, 0, tzinfo=UTC), "amended_by": 7,
         "reason": "lab called", "after_signing": True, "changes": {"value": 3.1},
         "previous": {"value": None}},
    ]  # fmt: skip
    views = amendment_views(history, {2: "Casey Chief"}, DENVER)
    assert [(v.id, v.by, v.reason, v.after_signing) for v in views] == [
        (5, "Casey Chief", "typo", False),
        (9, "person 7", "lab called", True),
    ]
    assert views[0].at.isoformat() == "2026-03-02T10:00:00-07:00"
    assert [(c.field, c.before, c.after) for c in views[1].changes] == [("value", "—", "3.1")]


def test_entry_href_is_the_url_up_to_the_id():
    assert entry_href("http://h:8000/records/entries/0") == "http://h:8000/records/entries/"
    with pytest.raises(ValueError, match="not an entry URL"):
        entry_href("http://h:8000/records/entries/10")


SITES = [
    {"code": "aaa", "has_profile": False},
    {"code": "bbb", "has_profile": True},
    {"code": "ccc", "has_profile": True},
]


@pytest.mark.parametrize(
    ("sites", "wanted", "code", "problem"),
    [
        (SITES, "ccc", "ccc", None),
        (SITES, "aaa", "aaa", None),  # asked for by code: shown, profile or not
        (SITES, None, "bbb", None),  # else the first with a compliance profile
        (SITES[:1], None, "aaa", None),  # else the first
        (SITES, "zzz", "bbb", "No facility with code “zzz”."),
        ([], "zzz", None, "No facility with code “zzz”."),
        ([], None, None, None),
    ],
)
def test_the_site_asked_for_else_a_default_and_why(sites, wanted, code, problem):
    site, said = pick_site(sites, wanted)
    assert (site["code"] if site else None, said) == (code, problem)

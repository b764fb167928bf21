"""Entries in one line, amendments as changes, and the facility a page shows: pure, tables
of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards.regulator.view import (
    Refs,
    amendment_views,
    changes_of,
    entry_fields,
    entry_href,
    entry_summary,
    pick_site,
    referenced,
    show_value,
)

DENVER = ZoneInfo("America/Denver")
REFS = Refs({7: "Chlorine residual, contact tank"}, {3: "Aeration DO low (0.4 mg/L)"}, {})


@pytest.mark.parametrize(
    ("kind", "data", "text"),
    [
        (
            "chemical_addition",
            {"notes": "", "unit": "gal", "chemical": "NaOCl", "amount": 12.5, "feed_point": "CT"},
            "Chemical: NaOCl; Amount: 12.5 gal; Feed point: CT",
        ),
        ("note", {"text": "Quiet night."}, "Quiet night."),
        (
            "maintenance",
            {"equipment": "RAS pump 2", "work": "corrective", "description": "seal",
             "out_of_service": True, "lubricant": "EP2"},
            "Equipment: RAS pump 2; Work: corrective; seal; Out of service: yes; Lubricant: EP2",
        ),
        ("observation", {}, "(no details)"),
        ("note", {"text": "x" * 300}, "x" * 159 + "…"),
        ("unknown_kind", {"b": 1, "a": None}, "B: 1"),
        # A tag and an alarm by their names, never their ids.
        ("reading", {"tag_id": 7, "value": 0.8, "unit": "mg/L"},
         "Tag: Chlorine residual, contact tank; Value: 0.8 mg/L"),
        ("reading", {"tag_id": 8, "instrument": "Day tank gauge", "value": 0.30000000000000004},
         "Meter or gauge: Day tank gauge; Tag: tag 8; Value: 0.3"),
        ("alarm_ack", {"event_id": 3, "response": "Raised the blower speed."},
         "Alarm: Aeration DO low (0.4 mg/L); Raised the blower speed."),
        ("process_adjustment", {"what": "Blower 2", "from_value": 40, "to_value": 55, "unit": "%"},
         "What: Blower 2; From: 40 %; To: 55 %"),
        # A closed set in the form's words; a unit with no number stays a field.
        ("inspection", {"location": "Clarifier 1", "condition": "ok"},
         "Where: Clarifier 1; Condition: OK"),
        ("cleaning", {"what": "Weirs", "unit": "m"}, "What: Weirs; Unit: m"),
    ],
)  # fmt: skip
def test_entry_summary(kind, data, text):
    assert entry_summary(kind, data, REFS) == text


def test_entry_fields_keep_the_empty_ones_when_asked():
    data = {"notes": "", "unit": "gal", "chemical": "NaOCl", "amount": 12.5}
    assert entry_fields("chemical_addition", data, empty=True) == [
        ("chemical", "Chemical", "NaOCl"),
        ("amount", "Amount", "12.5 gal"),
        ("notes", "Notes", "—"),
    ]


def test_the_tags_and_alarms_entries_name_as_now_and_as_first_recorded():
    entries = [
        {"data": {"tag_id": 7, "value": 1}, "original": {"data": {"tag_id": 9}}},
        {"data": {"event_id": 3, "response": "x"}},
        {"data": {"tag_id": "not an id"}, "original": None},
    ]
    assert referenced(entries) == ({7, 9}, {3})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        ("", "—"),
        (True, "yes"),
        (2.50, "2.5"),
        (datetime(2026, 3, 8, 9, 30, tzinfo=UTC), "2026-03-08 03:30 MDT"),
        ("2026-07-01T12:00:00+00:00", "2026-07-01 06:00 MDT"),
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
    got = changes_of(changes, previous, DENVER, "chemical_addition")
    # Each value in its own record's unit: the one before, the one it became.
    assert [(c.field, c.before, c.after) for c in got] == [
        ("Amount", "12.5 gal", "15 L"),
        ("Unit", "gal", "L"),
        ("When it happened", "2026-03-02 02:00 MST", "2026-03-02 03:00 MST"),
    ]


def test_changes_of_a_result_name_the_analyst_and_keep_the_unit():
    changes = {"value": 0.08, "analyst_id": 4}
    previous = {"value": 0.8, "unit": "mg/L", "analyst_id": 2}
    people = Refs({}, {}, {2: "Casey Chief", 4: "Ana Lyst"})
    got = changes_of(changes, previous, DENVER, "result", people)
    assert [(c.field, c.before, c.after) for c in got] == [
        ("Value", "0.8 mg/L", "0.08 mg/L"),
        ("Analyst", "Casey Chief", "Ana Lyst"),
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
    assert [(c.field, c.before, c.after) for c in views[1].changes] == [("Value", "—", "3.1")]


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


def test_amendment_views_give_each_value_the_unit_its_record_had_then():
    original = {"data": {"chemical": "NaOCl", "amount": 12.5, "unit": "gal"}}
    history = [
        {"id": 1, "amended_at": "2026-03-02T17:00:00+00:00", "amended_by": 2, "reason": "gauge",
         "changes": {"data": {"amount": 15}}, "previous": {"data": {"amount": 12.5}}},
        {"id": 2, "amended_at": "2026-03-02T18:00:00+00:00", "amended_by": 2, "reason": "litres",
         "changes": {"data": {"unit": "L"}}, "previous": {"data": {"unit": "gal"}}},
        {"id": 3, "amended_at": "2026-03-02T19:00:00+00:00", "amended_by": 2, "reason": "again",
         "changes": {"data": {"amount": 57}}, "previous": {"data": {"amount": 15}}},
    ]  # fmt: skip
    views = amendment_views(history, {}, DENVER, "chemical_addition", original)
    assert [[(c.field, c.before, c.after) for c in v.changes] for v in views] == [
        [("Amount", "12.5 gal", "15 gal")],
        [("Unit", "gal", "L")],
        [("Amount", "15 L", "57 L")],
    ]

"""The floor in people's words, as tables of cases: records (dashboards/floor/words.py),
the shift log (shiftlog.py), the coverage banner (coverage.py), and the forms' ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.floor.coverage import charge_roles, coverage_view, plain
from dashboards.floor.shiftlog import confirmed, log_rows
from dashboards.floor.words import changed_lines, entry_lines, number_text, summary

NAMES = {"tags": {3: "DO basin 1"}, "alarms": {9: "DO basin 1 low"}}


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.0, "12"), (7.25, "7.25"), (0.0001, "0.0001"), (1e-7, "0.0000001"), (1500, "1500"),
     (-0.0, "0")],
)  # fmt: skip
def test_a_typed_number_reads_as_typed(value, text):
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("kind", "data", "lines"),
    [
        ("reading", {"tag_id": 3, "instrument": "", "value": 2.5, "unit": "mg/L", "notes": ""},
         [("Tag", "DO basin 1"), ("Value", "2.5 mg/L")]),
        ("reading", {"tag_id": 44, "value": 1.0, "unit": "m3/h"},
         [("Tag", "one no longer on record"), ("Value", "1 m³/h")]),
        ("chemical_addition", {"chemical": "NaOCl", "amount": 12.0, "unit": "gal",
                               "feed_point": "contact tank", "notes": ""},
         [("Chemical", "NaOCl"), ("Amount", "12 gal"), ("Feed point", "contact tank")]),
        ("process_adjustment", {"what": "RAS", "from_value": "1.2", "to_value": "1.4",
                                "unit": "MGD", "reason": ""},
         [("What", "RAS"), ("From", "1.2 MGD"), ("To", "1.4 MGD")]),
        ("maintenance", {"equipment": "RAS pump 2", "work": "lubrication", "description": "Greased",
                         "lubricant": "EP2", "out_of_service": True},
         [("Equipment", "RAS pump 2"), ("Work", "lubrication"), ("What was done", "Greased"),
          ("Lubricant", "EP2"), ("Out of service", "yes")]),
        ("maintenance", {"equipment": "P1", "work": "other", "description": "x",
                         "lubricant": "", "out_of_service": False},
         [("Equipment", "P1"), ("Work", "other"), ("What was done", "x")]),
        ("inspection", {"location": "Clarifier 1", "condition": "attention", "finding": "Scum",
                        "action_needed": ""},
         [("Where", "Clarifier 1"), ("Condition", "Attention"), ("Finding", "Scum")]),
        ("safety", {"category": "confined_space", "text": "Entry permit"},
         [("Category", "confined space"), ("What happened", "Entry permit")]),
        # The one text of a form named by it needs no label.
        ("note", {"text": "Courier late"}, [("", "Courier late")]),
        ("alarm_ack", {"event_id": 9, "response": "Blower 2 started"},
         [("Alarm", "DO basin 1 low"), ("What was done", "Blower 2 started")]),
    ],
)  # fmt: skip
def test_an_entry_in_words(kind, data, lines):
    assert entry_lines(kind, data, NAMES) == lines
    text = summary(entry_lines(kind, data, NAMES))
    for raw in ("tag_id", "True", "False", "None", "_"):
        assert raw not in text.replace("one no longer", "")


def test_what_an_amendment_changed():
    before = {"chemical": "NaOCl", "amount": 12.0, "unit": "gal", "feed_point": "tank"}
    after = {**before, "amount": 15.0, "notes": "recounted"}
    assert changed_lines("chemical_addition", before, after, NAMES) == [
        "Amount: 12 gal → 15 gal",
        "Notes: (none) → recounted",
    ]


def entry(i, minutes, kind="note", data=None, by=1, **kw):
    at = datetime(2026, 3, 1, 15, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return {"id": i, "kind": kind, "data": data or {"text": f"n{i}"}, "occurred_at": at,
            "recorded_at": at + timedelta(minutes=kw.pop("late", 0)), "recorded_by": by,
            "needs_countersignature": False, "countersignature": None, "history": [],
            "original": None, **kw}  # fmt: skip


def test_the_log_is_newest_first_with_who_when_and_what_changed():
    zone = ZoneInfo("America/Denver")
    today = datetime(2026, 3, 1, 9, 0, tzinfo=zone)
    signed = {"person_id": 2, "signed_at": datetime(2026, 3, 1, 15, 20, tzinfo=UTC)}
    amended = {
        "id": 7,
        "amended_at": datetime(2026, 3, 1, 15, 30, tzinfo=UTC),
        "amended_by": 2,
        "reason": "recounted",
        "after_signing": False,
        "changes": {"data": {"amount": 15}},
        "previous": {"data": {"amount": 12}},
    }
    chem = {"chemical": "NaOCl", "amount": 12, "unit": "gal", "feed_point": "tank"}
    rows = log_rows(
        [
            entry(1, 0),
            entry(2, 10, "chemical_addition", {**chem, "amount": 15}, by=3,
                  countersignature=signed, history=[amended],
                  original={"data": chem, "occurred_at": None}),
            entry(3, 5, by=3, needs_countersignature=True, late=30),
        ],
        {1: "Oli Op", 2: "Casey Chief", 3: "Tess T"},
        NAMES,
        zone,
        today,
    )  # fmt: skip
    assert [r.id for r in rows] == [2, 3, 1]
    chemical, late, first = rows
    assert (chemical.time, chemical.who, chemical.title) == ("08:10", "Tess T", "Chemical")
    assert chemical.verified_by == "Casey Chief" and chemical.verified_before_change
    assert chemical.changes[0].what == ("Amount: 12 gal → 15 gal",)
    assert (chemical.changes[0].who, chemical.changes[0].reason) == ("Casey Chief", "recounted")
    assert late.awaiting and late.recorded == "recorded 08:35"
    assert first.summary == "n1" and not first.awaiting and first.verified_by == ""


def now_body(**kw):
    body = {"shifts_open": [12], "drc": [{"person_id": 4, "name": "Oli Op"}],
            "on_site": [{"person_id": 4, "name": "Oli Op"}],
            "certified_on_site": [{"person_id": 4, "name": "Oli Op"}],
            "in_order": True, "findings": []}  # fmt: skip
    return body | kw


MISSING = {
    "rule": "drc-missing",
    "severity": "violation",
    "ongoing": True,
    "operators": [],
    "message": "No one who may hold charge was on site from 2026-03-01 08:00 MST to 09:00 MST"
    " (1 h), shift 12: no operator in direct responsible charge, chief operator, assistant"
    " chief operator or shift operator.",
}


@pytest.mark.parametrize(
    ("body", "state", "headline", "next_step"),
    [
        (None, "unknown", "Coverage is not judged here: this site has no compliance profile yet.",
         "A chief operator or admin sets the site's profile (its state, category and class)."),
        (now_body(shifts_open=[]), "unknown", "No shift open: nobody is on record as on site.",
         "Open a shift and say who holds charge."),
        (now_body(), "good", "Coverage in order: Oli Op holds charge as shift operator.", ""),
        (now_body(in_order=False, drc=[], findings=[MISSING]), "bad", "Coverage NOT in order.",
         "Say who holds charge: change a crew member's role (Role), or add them with + Crew."),
        (now_body(in_order=False, certified_on_site=[]), "bad", "Coverage NOT in order.",
         "A certified operator must be on site: add one with + Crew."),
    ],
)  # fmt: skip
def test_the_coverage_banner_says_it_all_and_what_to_do(body, state, headline, next_step):
    view = coverage_view(body, {12: "Day"}, {4: "shift_operator"})
    assert (view.state, view.headline, view.next_step) == (state, headline, next_step)


def test_a_finding_is_shown_whole_with_names_and_shift_labels():
    finding = {**MISSING, "message": MISSING["message"] + " Oli Op (4) left at 08:00."}
    view = coverage_view(now_body(in_order=False, findings=[finding]), {12: "Day"}, {})
    (text,) = view.findings
    assert text.endswith("shift operator. Oli Op left at 08:00.")
    assert "shift “Day”: no operator" in text and "(4)" not in text
    ended = {**MISSING, "ongoing": False}
    view = coverage_view(now_body(findings=[ended]), {}, {4: "shift_operator"})
    assert view.state == "good" and view.earlier[0].startswith("No one who may hold charge")
    assert "shift 12:" in view.earlier[0]  # a shift not on screen keeps its number


def test_a_violation_names_the_rule_and_a_policy_finding_never_reads_as_one():
    """A state rule's finding carries its citation; a finding of the site's competency policy
    is listed apart, as the site's policy (compliance/README.md: policy findings are never
    violations of law)."""
    violation = {**MISSING, "citation": "UT R317-10-4 I (Direct Responsible Charge)"}
    policy = {
        "rule": "countersign-missing",
        "severity": "policy",
        "basis": "site policy",
        "ongoing": True,
        "operators": [],
        "message": "1 entry by Tess Trainee (3) needs verification.",
    }
    view = coverage_view(
        now_body(in_order=False, drc=[], findings=[violation, policy]), {12: "Day"}, {}
    )
    (text,) = view.findings
    assert text.endswith("(violation of UT R317-10-4 I (Direct Responsible Charge))")
    assert view.policy == (
        "Site policy (competency framework), not a state rule: 1 entry by Tess Trainee (3)"
        " needs verification.",
    )
    assert coverage_view(now_body(findings=[policy]), {}, {}).state == "good"


def test_plain_names_people_and_several_shifts():
    assert plain("A (4) on shift 1, 2.", {4: "A"}, {1: "Day"}) == "A on shift “Day”, 2."


def test_confirmed_values_in_words():
    listed = [{"field": "data.value", "value": 15.0, "unit": "mg/L", "plausible": [0, 12],
               "of": "DO basin 1", "reason": "checked with the handheld"}]  # fmt: skip
    assert confirmed(listed) == "15 mg/L (0 to 12 expected): checked with the handheld"
    assert confirmed({"reason": "seen"}) == "seen"
    assert confirmed(None) == "" and confirmed([]) == ""


@pytest.mark.parametrize(
    ("state", "roles"),
    [
        ("UT", ("drc", "chief", "assistant_chief", "shift_operator")),
        ("VT", ("chief", "assistant_chief", "drc")),
        ("NY", ("chief", "drc", "assistant_chief", "shift_operator")),
        ("XX", ()),
    ],
)
def test_who_may_hold_charge_is_the_states_rule(state, roles):
    assert charge_roles(state, datetime(2026, 3, 1).date()) == roles

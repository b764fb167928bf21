"""Findings a regulator accepts (issue 15): each citation from its own state's
seed, findings inside shift time only with the rest reported as gaps in the record, every
finding's basis, and each rule set's version."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from compliance.engine import check
from compliance.rulesets import RULE_SETS, latest
from compliance.scenario import load_scenario
from tests.compliance.builders import at, cert, member, op, run, scenario, shift, shift_between

EXAMPLES = Path(__file__).resolve().parents[2] / "compliance" / "examples"


def month_with_a_gap():
    """UT, June 2025: shifts 06-18 / 18-06 on the first 11 days, none for the 19 after.
    The last night's DRC leaves at 02:00: a `drc-missing` that must stop at the shift's end."""
    shifts = []
    for d in range(1, 12):
        day, after = f"2025-06-{d:02d}", f"2025-06-{d + 1:02d}"
        night = [member("d", "drc")]
        if d == 11:
            night = [
                member("d", "drc", (at("UT", "18:00", day), at("UT", "02:00", after))),
                member("o", "operator"),
            ]
        shifts.append(
            shift_between(f"{day} day", at("UT", "06:00", day), at("UT", "18:00", day),
                          member("d", "drc"))
        )  # fmt: skip
        shifts.append(
            shift_between(f"{day} night", at("UT", "18:00", day), at("UT", "06:00", after),
                          *night)
        )  # fmt: skip
    return scenario(
        "UT",
        operators=[op("d", cert("II")), op("o", cert("I"))],
        shifts=shifts,
        period=(at("UT", "06:00", "2025-06-01"), at("UT", "06:00", "2025-07-01")),
    )


def test_no_finding_spans_days_without_shifts():
    """issue 15: a finding spans shift time only; 19 days without shifts are reported as
    `no-shift-recorded` (severity gap, basis record), never inside a violation."""
    report = run(month_with_a_gap())
    gaps = [f for f in report.findings if f.rule == "no-shift-recorded"]
    assert [(g.start, g.end) for g in gaps] == [
        (
            datetime.fromisoformat(at("UT", "06:00", "2025-06-12")),
            datetime.fromisoformat(at("UT", "06:00", "2025-07-01")),
        )
    ]
    assert (gaps[0].severity, gaps[0].basis) == ("gap", "record")
    assert "19 days" in gaps[0].message or "456 h" in gaps[0].message
    violations = [f for f in report.findings if f.severity == "violation"]
    assert [f.rule for f in violations] == ["drc-missing"]
    assert violations[0].end == gaps[0].start
    for f in report.findings:
        if f is not gaps[0]:
            assert f.end <= gaps[0].start or f.start >= gaps[0].end
    summary = report.to_dict()["summary"]
    assert (summary["violations"], summary["gaps"]) == (1, 1)


def test_operational_entry_with_no_shift_recorded_is_a_finding_at_its_instant():
    """VT §1: an operational entry with nobody recorded on site; the finding is the entry's
    instant, not the stretch without shifts."""
    data = scenario(
        "VT",
        operators=[op("u", cert("2", state="VT"))],
        entries=[{"id": "x", "time": at("VT", "09:00"), "author": "u", "operational": True}],
    )
    report = run(data)
    f = next(f for f in report.findings if f.rule == "certified-on-site")
    assert f.start == f.end == datetime.fromisoformat(at("VT", "09:00"))
    assert "no shift was recorded" in f.message


def findings_of_every_kind(state):
    """A day with as many kinds of finding as the state's rules give."""
    g = {"UT": ("II", "I"), "VT": ("2", "1"), "NY": ("2", "1")}[state][1]
    low = cert(g, state=state, expires="2025-07-31" if state == "NY" else None)
    if state == "UT":
        low = cert(g, issued="2023-01-01", expires="2025-12-31")
    if state == "VT":
        low = cert(g, state="VT", issued="2020-07-01", expires="2025-07-01")
    return scenario(
        state,
        facility_kw={"class": "4" if state == "VT" else "III"} if state != "NY" else {"points": 80},
        operators=[
            op("c", low, training=[{"date": "2024-01-01", "hours": 1}]),
            op("a", low),
            op("s", low),
            op("t", level=None),
        ],
        shifts=[
            shift(state, member("c", "chief"), member("t", "trainee"), start="06:00", end="10:00"),
            shift(state, member("a", "assistant_chief"), member("s", "shift_operator"),
                  member("t", "trainee"), start="10:00", end="14:00", id="mid"),
            shift(state, member("s", "drc"), id="late", start="14:00", end="16:00"),
            shift(state, member("t", "trainee"), id="last", start="16:00", end="17:00"),
        ],
        entries=[
            {"id": "e1", "time": at(state, "07:00"), "author": "t", "kind": "reading"},
            {"id": "e2", "time": at(state, "08:00"), "author": "t", "kind": "sample"},
            {"id": "e3", "time": at(state, "16:30"), "author": "t", "kind": "reading",
             "operational": True},
        ],
        expiry_horizon_days=365,
    )  # fmt: skip


OWN = {"UT": "R317-10", "VT": "§", "NY": "650.12"}


@pytest.mark.parametrize("state", ["UT", "VT", "NY"])
def test_each_citation_is_from_its_own_states_seed(state):
    """issue 15: every UT citation names only R317-10, every VT one only §, every NY one
    only 650.12, the competency policy's only the competency framework."""
    report = run(findings_of_every_kind(state))
    bases = {f.basis for f in report.findings}
    assert {"regulation", "site policy", "record"} <= bases, [f.rule for f in report.findings]
    others = [mark for s, mark in OWN.items() if s != state]
    for f in report.findings:
        if f.basis == "site policy":
            assert f.citation.startswith("Competency framework 51-8031.00 (site policy), ")
            assert not any(m in f.citation for m in OWN.values()), f.citation
        elif f.basis == "regulation":
            assert OWN[state] in f.citation, f.citation
            assert "Competency" not in f.citation
            assert not any(m in f.citation for m in others), (f.rule, f.citation)
            assert f.severity in ("violation", "warning")
        else:
            assert f.severity in ("gap", "warning")
        assert not any(m in f.message for m in others if m != "§"), (f.rule, f.message)


@pytest.mark.parametrize("state", ["UT", "VT", "NY"])
def test_every_rule_pack_citation_is_its_own_states(state):
    """The rule pack's citation table itself, whether or not a scenario raises each rule."""
    others = [mark for s, mark in OWN.items() if s != state]
    for rules in RULE_SETS[state]:
        texts = [*rules.citations.values(), *rules.sections.values()]
        texts += [r.citation for r in rules.role_rules.values()]
        texts += [t.citation for t in rules.terms.values()]
        for text in texts:
            assert not any(m in text for m in others), text


@pytest.mark.parametrize("state", ["UT", "VT", "NY"])
def test_each_rule_set_states_its_version(state):
    """issue 15: version, effective date, and that later amendments are not on record,
    shown with every report's class spans."""
    rules = latest(state)
    assert rules.version
    assert "later amendments are not on record" in rules.statement
    report = run(scenario(state, facility_kw={"points": 20} if state == "NY" else {}))
    spans = report.to_dict()["class_periods"]
    assert spans[0]["rule_set_version"] == rules.version
    assert spans[0]["rule_set_statement"] == rules.statement
    assert spans[0]["rule_set_effective_from"] == (
        rules.effective_from.isoformat() if rules.effective_from else None
    )


@pytest.mark.parametrize("name", ["ut_cedar_valley", "vt_lamoille_falls", "ny_hudson_bend"])
def test_example_files_load(name):
    """issue 15: the examples load; new fields have defaults."""
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    report = check(load_scenario(data))
    assert all(f.basis in ("regulation", "site policy", "record") for f in report.findings)


def test_findings_carry_their_basis_in_json():
    report = run(month_with_a_gap()).to_dict()
    assert {f["basis"] for f in report["findings"]} == {"regulation", "record"}
    assert {f["severity"] for f in report["findings"]} == {"violation", "gap"}


def test_a_gap_of_minutes_between_shifts_is_reported():
    data = scenario(
        "UT",
        operators=[op("d", cert("II"))],
        shifts=[
            shift("UT", member("d", "drc"), id="a", start="06:00", end="12:00"),
            shift("UT", member("d", "drc"), id="b", start="12:05", end="18:00"),
        ],
    )
    (gap,) = [f for f in run(data).findings]
    assert gap.rule == "no-shift-recorded"
    assert gap.end - gap.start == timedelta(minutes=5)

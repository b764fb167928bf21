"""Supervision by competency level: a site policy from the competency framework (seed 000),
never a regulation (issue 15)."""

import dataclasses
from datetime import date

import pytest

from compliance.competency import (
    DEFAULT_POLICY,
    FRAMEWORK,
    LEVELS,
    Assessment,
    level_on,
    policy_with,
)
from compliance.engine import check
from compliance.scenario import load_scenario
from tests.compliance.builders import at, cert, member, only, op, rules, run, scenario, shift


def test_levels_in_order():
    """Competency framework 51-8031.00: emerging, developing, proficient, advanced."""
    assert LEVELS == ("emerging", "developing", "proficient", "advanced")


# The framework's statements, as seed 000 words them (issue 15 table).
STATEMENTS = {
    "reading": (
        "emerging",
        "Operational data forms and meter readings — record accurately on standardized log "
        "sheets with supervisor verification.",
    ),
    "note": (
        "emerging",
        "Compliance software and paper log templates — enter shift data into designated "
        "fields with guidance from a supervising operator.",
    ),
    "alarm_ack": (
        "developing",
        "Malfunctions and load requirement changes — detect by monitoring gauges, meters, and "
        "equipment indicators during routine operations and escalate appropriately.",
    ),
    "inspection": (
        "developing",
        "Filter beds and sedimentation tanks — clean and inspect on a recurring maintenance "
        "schedule, documenting findings in plant records.",
    ),
    "chemical_addition": (
        "emerging",
        "Chemical addition procedures for chlorine and lime — follow written protocols under "
        "direct supervision in a treatment plant setting.",
    ),
    "sample": (
        "emerging",
        "Water and sewage samples — collect and label under direct supervisor guidance at a "
        "municipal treatment facility.",
    ),
    "lab_result": (
        "emerging",
        "Test equipment and color analysis standards — apply to perform basic water quality "
        "checks on shift under close oversight.",
    ),
    "maintenance": (
        "emerging",
        "Equipment lubrication schedules — follow step-by-step instructions to apply "
        "lubricants to designated machinery under supervision.",
    ),
    "cleaning": (
        "emerging",
        "Hand tools and basic cleaning implements — use to clean filter beds and tank "
        "surfaces as directed by a senior operator.",
    ),
    "process_adjustment": (
        "developing",
        "Equipment control panels and process controls — adjust with reduced oversight to "
        "maintain flow rates and treatment levels within normal operating parameters.",
    ),
}
BELOW = {
    "reading": "verify",
    "note": "verify",
    "observation": "verify",
    "safety": "verify",
    "alarm_ack": "verify",
    "inspection": "verify",
    "chemical_addition": "direct",
    "sample": "direct",
    "lab_result": "direct",
    "maintenance": "direct",
    "cleaning": "direct",
    "process_adjustment": "direct",
}


@pytest.mark.parametrize("kind", sorted(BELOW))
def test_default_policy_table(kind):
    """issue 15: unsupervised from developing; below it `verify` or `direct`, each with the
    framework statement it rests on, quoted."""
    rule = DEFAULT_POLICY.rule(kind)
    assert rule.unsupervised_from == "developing"
    assert rule.below == BELOW[kind]
    level, statement = STATEMENTS.get(kind, STATEMENTS["note"])
    assert (rule.statement_level, rule.statement) == (level, statement)
    assert rule.citation() == f"{FRAMEWORK}, {level}: {statement}"
    assert FRAMEWORK == "Competency framework 51-8031.00 (site policy)"


def test_an_unknown_kind_is_read_as_a_note():
    assert DEFAULT_POLICY.rule("moon_landing") == DEFAULT_POLICY.rule("note")
    assert DEFAULT_POLICY.rule(None) == DEFAULT_POLICY.rule("note")


def test_a_site_may_change_the_policy():
    policy = policy_with({"reading": ("proficient", "direct")})
    rule = policy.rule("reading")
    assert (rule.unsupervised_from, rule.below) == ("proficient", "direct")
    assert rule.statement == STATEMENTS["reading"][1]
    assert policy.rule("note") == DEFAULT_POLICY.rule("note")


def test_level_on_a_day_newest_in_force_none_is_emerging():
    """The newest assessment in force with assessed_on <= the day; a correction supersedes."""
    record = (
        Assessment("developing", date(2024, 1, 10), "boss", id="1"),
        Assessment("proficient", date(2025, 3, 1), "boss", id="2"),
        Assessment("advanced", date(2025, 3, 1), "boss", id="3", supersedes="2"),
        Assessment("emerging", date(2026, 1, 1), "boss", id="4"),
    )
    assert level_on((), date(2025, 1, 1)) == "emerging"
    assert level_on(record, date(2024, 1, 9)) == "emerging"
    assert level_on(record, date(2024, 1, 10)) == "developing"
    assert level_on(record, date(2025, 3, 1)) == "advanced"
    assert level_on(record, date(2026, 1, 1)) == "emerging"


# --- through the engine ------------------------------------------------------------------


def supervised(entry, *, verifier_on_site=False, verifier_level="proficient"):
    """UT class II, a day shift: DRC "d" (certified, proficient) and trainee "t" on site;
    "v" (certified) on site only if ``verifier_on_site``."""
    crew = [member("d", "drc"), member("t", "trainee")]
    if verifier_on_site:
        crew.append(member("v", "operator"))
    return scenario(
        "UT",
        operators=[
            op("d", cert("II")),
            op("t", level="advanced"),  # the trainee role makes them emerging whatever this says
            op("v", cert("II"), level=verifier_level),
        ],
        shifts=[shift("UT", *crew)],
        entries=[{"id": "e1", "time": at("UT", "09:00"), "author": "t", **entry}],
    )


def test_trainee_chemical_addition_verified_by_someone_off_site():
    """Competency framework, emerging: "Chemical addition procedures for chlorine and lime —
    follow written protocols under direct supervision": a verification by a proficient
    certified operator who was not on site then is not direct supervision."""
    report = run(
        supervised(
            {
                "kind": "chemical_addition",
                "countersigned_by": "v",
                "countersigned_at": at("UT", "10:00"),
            }
        )
    )
    f = only(report, "supervision-missing")
    assert rules(report) == [("supervision-missing", ("t",))]
    assert (f.severity, f.basis) == ("policy", "site policy")
    assert f.entries == ("e1",)
    assert "not on site" in f.message and "site's competency policy" in f.message
    assert f.citation.startswith("Competency framework 51-8031.00 (site policy), emerging: ")
    assert "under direct supervision" in f.citation


def test_trainee_chemical_addition_verified_by_someone_on_site():
    data = supervised({"kind": "chemical_addition", "countersigned_by": "v"}, verifier_on_site=True)
    assert rules(run(data)) == []


@pytest.mark.parametrize("on_site", [True, False])
def test_trainee_reading_verified_an_hour_later(on_site):
    """Competency framework, emerging: meter readings recorded "with supervisor
    verification": verified later by a proficient certified operator, on site or not."""
    data = supervised(
        {"kind": "reading", "countersigned_by": "v", "countersigned_at": at("UT", "10:00")},
        verifier_on_site=on_site,
    )
    assert rules(run(data)) == []


@pytest.mark.parametrize(
    ("entry", "level", "problem"),
    [
        ({}, "proficient", "not verified"),
        ({"countersigned_by": "t"}, "proficient", "who is its author"),
        ({"countersigned_by": "v"}, "developing", "assessed developing"),
        ({"countersigned_by": "x"}, "proficient", "held no valid certificate"),
    ],
)
def test_who_may_verify(entry, level, problem):
    """issue 15: a verifier holds a valid certificate, is at least proficient, and is not
    the author."""
    data = supervised({"kind": "reading", **entry}, verifier_level=level)
    data["operators"].append(op("x"))
    f = only(run(data), "countersign-missing")
    assert problem in f.message, f.message


def test_operator_with_no_level_on_record_is_emerging():
    """issue 15: none on record = emerging; a reading with no verification is
    `countersign-missing` under the site's policy. Assessed developing: no finding."""
    data = scenario(
        "UT",
        operators=[op("d", cert("II")), op("o", cert("I"), level=None)],
        shifts=[shift("UT", member("d", "drc"), member("o", "operator"))],
        entries=[{"id": "e1", "time": at("UT", "09:00"), "author": "o", "kind": "reading"}],
    )
    f = only(run(data), "countersign-missing")
    assert (f.severity, f.basis) == ("policy", "site policy")
    assert "no level on record" in f.message
    assert "with supervisor verification" in f.citation
    data["operators"][1] = op("o", cert("I"), level="developing")
    assert rules(run(data)) == []


def test_a_level_counts_from_its_assessment_day():
    """The level at t is the newest assessment with assessed_on <= t's local date."""
    data = scenario(
        "UT",
        operators=[
            op("d", cert("II")),
            op("o", levels=[{"level": "developing", "assessed_on": "2025-06-11"}]),
        ],
        shifts=[shift("UT", member("d", "drc"), member("o", "operator"))],
        entries=[{"id": "e1", "time": at("UT", "09:00"), "author": "o", "kind": "reading"}],
    )
    assert rules(run(data)) == [("countersign-missing", ("o",))]
    data["operators"][1]["levels"][0]["assessed_on"] = "2025-06-10"
    assert rules(run(data)) == []


def test_policy_findings_are_never_violations():
    data = supervised({"kind": "sample"})
    report = run(data)
    assert [f.severity for f in report.findings] == ["policy"]
    summary = report.to_dict()["summary"]
    assert (summary["violations"], summary["policy"]) == (0, 1)
    assert report.to_dict()["findings"][0]["basis"] == "site policy"


def test_scenario_file_may_set_the_sites_policy():
    data = supervised({"kind": "reading"})
    data["competency_policy"] = {"reading": {"unsupervised_from": "emerging"}}
    assert rules(run(data)) == []


def test_a_kind_free_from_emerging_is_free_with_no_level_on_record():
    """None on record is emerging (issue 15): a policy recording readings unsupervised
    from emerging asks nothing of an operator with no assessment."""
    data = scenario(
        "UT",
        operators=[op("d", cert("II")), op("o", cert("I"), level=None)],
        shifts=[shift("UT", member("d", "drc"), member("o", "operator"))],
        entries=[{"id": "e1", "time": at("UT", "09:00"), "author": "o", "kind": "reading"}],
        competency_policy={"reading": {"unsupervised_from": "emerging"}},
    )
    assert rules(run(data)) == []
    data["entries"][0]["kind"] = "note"
    assert rules(run(data)) == [("countersign-missing", ("o",))]


def test_without_levels_on_record_only_the_trainee_role_limits():
    """A scenario without a competency record (``Scenario.competency`` None, as from a
    loader that does not read levels): a trainee's entries still want verification; anyone
    else records unsupervised and, certified, may verify."""
    data = supervised({"kind": "chemical_addition"})
    data["entries"].append({"id": "e2", "time": at("UT", "10:00"), "author": "v"})
    data["entries"].append(
        {"id": "e3", "time": at("UT", "11:00"), "author": "t", "kind": "reading",
         "countersigned_by": "v"}
    )  # fmt: skip
    for o in data["operators"]:
        o.pop("levels", None)
    bare = dataclasses.replace(load_scenario(data), competency=None)
    report = check(bare)
    assert [(f.rule, f.entries) for f in report.findings] == [("supervision-missing", ("e1",))]

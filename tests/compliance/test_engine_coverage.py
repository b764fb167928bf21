"""Coverage over time and logbook entries: DRC presence, certified presence, countersigning."""

import dataclasses
from datetime import UTC, date, datetime

import pytest

from compliance.engine import check
from compliance.rulesets import UT_2007, ut_required
from compliance.scenario import load_scenario
from tests.compliance.builders import (
    at,
    cert,
    member,
    only,
    op,
    rules,
    run,
    scenario,
    shift,
    shift_between,
)

CREW = [op("d", cert("II")), op("o", cert("I")), op("t")]


def test_drc_who_leaves_early_leaves_the_rest_of_the_shift_uncovered():
    """UT R317-10-4 I: DRC is active on-site charge; 15:00-18:00 nobody holds it."""
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[
            shift(
                "UT",
                member("d", "drc", (at("UT", "06:00"), at("UT", "15:00"))),
                member("o", "operator"),
            )
        ],
    )
    report = run(data)
    f = only(report, "drc-missing")
    assert (f.start, f.end) == (
        datetime(2025, 6, 10, 21, tzinfo=UTC),
        datetime(2025, 6, 11, tzinfo=UTC),
    )
    assert "15:00 MDT to 18:00 MDT (3 h)" in f.message
    assert [(c.drc, c.on_site) for c in report.coverage] == [(("d",), ("d", "o")), ((), ("o",))]


def test_drc_back_after_a_break_closes_the_gap():
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[
            shift(
                "UT",
                member(
                    "d",
                    "drc",
                    (at("UT", "06:00"), at("UT", "12:00")),
                    (at("UT", "12:30"), at("UT", "18:00")),
                ),
            )
        ],
    )
    report = run(data)
    f = only(report, "drc-missing")
    # 12:00-12:30 MDT: the gap ends when the DRC is back, who then covers the rest.
    assert (f.start, f.end) == (
        datetime(2025, 6, 10, 18, tzinfo=UTC),
        datetime(2025, 6, 10, 18, 30, tzinfo=UTC),
    )
    assert [c.drc for c in report.coverage] == [("d",), (), ("d",)]
    assert report.coverage[-1].end == datetime(2025, 6, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("operational", "expected"),
    [
        (True, [("certified-on-site", ("t",)), ("countersign-missing", ("t",))]),
        (False, [("countersign-missing", ("t",))]),
    ],
)
def test_entry_while_only_a_trainee_is_on_site(operational, expected):
    """VT §1, §2: a certified operator present for any operational activity."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[op("d", cert("2", state="VT")), op("t")],
        shifts=[
            shift(
                "VT",
                member("d", "drc", (at("VT", "06:00"), at("VT", "12:00"))),
                member("t", "trainee"),
            )
        ],
        entries=[
            {"id": "e1", "time": at("VT", "13:05"), "author": "t", "operational": operational}
        ],
    )
    report = run(data)
    got = [r for r in rules(report) if r[0] != "drc-missing"]
    assert got == expected
    if operational:
        f = only(report, "certified-on-site")
        assert f.entries == ("e1",)
        assert (f.start, f.end) == (
            datetime(2025, 6, 10, 16, tzinfo=UTC),
            datetime(2025, 6, 10, 22, tzinfo=UTC),
        )
        assert "VT §1" in f.citation
    assert report.entries[0].certified_on_duty == ()
    assert report.entries[0].drc == ()


@pytest.mark.parametrize(
    ("countersigned_by", "problem"),
    [
        ("o", None),
        (None, "e1 not verified"),
        ("t", "who is its author"),
        # issue 15: a later verification need not come from someone on duty.
        ("off", None),
        ("lapsed", "who held no valid certificate then"),
    ],
)
def test_trainee_entries_verified_by_a_qualified_operator(countersigned_by, problem):
    """Competency framework, emerging level: shift data entered "with guidance from a
    supervising operator" (a note: verified later by a certified, proficient operator)."""
    entry = {"id": "e1", "time": at("UT", "09:00"), "author": "t"}
    if countersigned_by:
        entry["countersigned_by"] = countersigned_by
    data = scenario(
        "UT",
        operators=[
            *CREW,
            op("off", cert("IV")),
            op("lapsed", cert("II", issued="2022-01-01", expires="2024-12-31")),
        ],
        shifts=[
            shift(
                "UT",
                member("d", "drc"),
                member("o", "operator"),
                member("t", "trainee"),
                member("lapsed", "operator"),
            )
        ],
        entries=[entry],
    )
    report = run(data)
    found = [f for f in report.findings if f.rule == "countersign-missing"]
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0].message
        assert found[0].entries == ("e1",)


def test_shift_across_spring_forward_is_seven_hours_and_fully_covered():
    """America/Denver 2025-03-09: 22:00 MST to 06:00 MDT is 7 hours; no false gap."""
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[
            shift_between(
                "dst night",
                "2025-03-08T22:00:00-07:00",
                "2025-03-09T06:00:00-06:00",
                member("d", "drc"),
            )
        ],
        entries=[
            {"id": "e1", "time": "2025-03-09T03:30:00-06:00", "author": "d", "operational": True}
        ],
        period=("2025-03-08T22:00:00-07:00", "2025-03-09T06:00:00-06:00"),
    )
    report = run(data)
    assert rules(report) == []
    assert len(report.coverage) == 1
    cov = report.coverage[0]
    assert (cov.end - cov.start).total_seconds() == 7 * 3600
    out = report.to_dict()
    assert out["coverage"][0]["start"] == "2025-03-08T22:00:00-07:00"
    assert out["coverage"][0]["end"] == "2025-03-09T06:00:00-06:00"
    assert report.entries[0].drc == ("d",)


def test_drc_leaving_in_the_repeated_hour_of_fall_back():
    """2025-11-02 01:30 happens twice in Denver; the offset says which one."""
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[
            shift_between(
                "fall night",
                "2025-11-01T22:00:00-06:00",
                "2025-11-02T06:00:00-07:00",
                member("d", "drc", ("2025-11-01T22:00:00-06:00", "2025-11-02T01:30:00-07:00")),
            )
        ],
        period=("2025-11-01T22:00:00-06:00", "2025-11-02T06:00:00-07:00"),
    )
    f = only(run(data), "drc-missing")
    assert f.start == datetime(2025, 11, 2, 8, 30, tzinfo=UTC)
    assert "2025-11-02 01:30 MST to 06:00 MST (4 h 30 min)" in f.message


def test_gap_between_shifts_is_coverage_not_a_drc_finding():
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[shift("UT", member("d", "drc"), start="06:00", end="12:00")],
    )
    report = run(data)
    assert rules(report) == []
    assert [c.shifts for c in report.coverage] == [("day",), ()]
    # issue 15: the afternoon without a shift is a gap in the record.
    (gap,) = report.findings
    assert (gap.rule, gap.severity, gap.basis) == ("no-shift-recorded", "gap", "record")
    assert gap.start == report.coverage[1].start and gap.end == report.coverage[1].end


def test_sole_operator_is_in_drc():
    """UT R317-10-4 I: where only one operator is employed, that operator is in DRC."""
    data = scenario(
        "UT",
        facility_kw={"employed_operators": 1},
        operators=CREW,
        shifts=[shift("UT", member("d", "operator"))],
    )
    report = run(data)
    assert rules(report) == []
    assert report.coverage[0].drc == ("d",)


def test_overlapping_drcs_at_handover_one_qualified_is_enough():
    data = scenario(
        "UT",
        facility_kw={"class": "II"},
        operators=[op("d", cert("II")), op("e", cert("I"))],
        shifts=[
            shift("UT", member("d", "drc"), id="day", start="06:00", end="14:15"),
            shift("UT", member("e", "drc"), id="swing", start="14:00", end="18:00"),
        ],
    )
    report = run(data)
    f = only(report, "drc-unqualified")
    assert f.start == datetime(2025, 6, 10, 20, 15, tzinfo=UTC)
    # At the handover both are candidates; the qualified one holds charge (issue 15).
    handover = [c for c in report.coverage if c.shifts == ("day", "swing")]
    assert handover and handover[0].drc == ("d",)


def night_across_midnight(**facility_kw):
    """A night shift 2025-06-10 18:00 to 06:00 MDT, the period, with "d" (grade II) in DRC."""
    return scenario(
        "UT",
        facility_kw=facility_kw,
        operators=[op("d", cert("II"))],
        shifts=[
            shift_between(
                "night",
                "2025-06-10T18:00:00-06:00",
                "2025-06-11T06:00:00-06:00",
                member("d", "drc"),
            )
        ],
        period=("2025-06-10T18:00:00-06:00", "2025-06-11T06:00:00-06:00"),
    )


def test_class_change_takes_effect_at_local_midnight():
    """A class changes when processes are added: a check at t uses the class at t."""
    history = [{"class": "II"}, {"from": "2025-06-11", "class": "III"}]
    report = run(night_across_midnight(history=history))
    f = only(report, "drc-unqualified")
    assert f.start == datetime(2025, 6, 11, 6, tzinfo=UTC)
    assert [s.facility_class for s in report.class_spans] == ["II", "III"]
    assert report.facility_class == "II"


def test_rule_set_in_force_at_t_is_used():
    """Rule sets carry effective dates; a later version applies only from its date."""
    stricter = dataclasses.replace(
        UT_2007,
        effective_from=date(2025, 6, 11),
        title="UT test version",
        required=lambda c: {**ut_required(c), "drc": dataclasses.replace(c, level=c.level + 1)},
    )
    report = check(load_scenario(night_across_midnight()), {"UT": (UT_2007, stricter)})
    f = only(report, "drc-unqualified")
    assert f.start == datetime(2025, 6, 11, 6, tzinfo=UTC)
    assert [s.rule_set for s in report.class_spans] == [UT_2007.title, "UT test version"]


def test_before_any_rule_set_the_hours_are_not_judged():
    data = scenario(
        "UT",
        operators=[op("d", cert("II", issued="2006-01-01", expires="2008-12-31"))],
        shifts=[
            shift_between(
                "old",
                "2007-10-21T06:00:00-06:00",
                "2007-10-22T06:00:00-06:00",
                member("d", "operator"),
            )
        ],
        period=("2007-10-21T06:00:00-06:00", "2007-10-22T06:00:00-06:00"),
    )
    report = run(data)
    f = only(report, "no-rule-set")
    assert f.severity == "warning"
    assert f.end == datetime(2007, 10, 22, 6, tzinfo=UTC)


def test_entries_outside_the_period_are_listed_not_judged():
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[shift("UT", member("d", "drc"))],
        entries=[{"id": "late", "time": at("UT", "18:00"), "author": "t", "operational": True}],
    )
    report = run(data)
    assert report.entries == () and report.entries_outside_period == ("late",)
    assert rules(report) == []


def test_many_trainee_entries_on_one_shift_make_one_finding():
    entries = [
        {"id": f"e{i}", "time": at("UT", f"{8 + i:02d}:00"), "author": "t"} for i in range(8)
    ]
    data = scenario(
        "UT",
        operators=CREW,
        shifts=[shift("UT", member("d", "drc"), member("t", "trainee"))],
        entries=entries,
    )
    f = only(run(data), "countersign-missing")
    assert len(f.entries) == 8 and "and 3 more" in f.message

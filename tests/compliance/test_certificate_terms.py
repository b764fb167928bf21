"""Certificates as the seeds define them (issue 15): terms refused at
entry, NY old names, grandfather deadlines, Vermont's domestic and industrial types, and
expiry messages that agree with the record."""

import dataclasses
from datetime import UTC, date, datetime

import pytest

from compliance.certificates import term_problem
from compliance.engine import check
from compliance.grades import Grade, GradeError
from compliance.jsonpath import ScenarioError
from compliance.model import Certificate
from compliance.rulesets import latest
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


def certificate(state, kind, issued, expires, grade=2):
    return Certificate(
        id="c",
        state=state,
        category="treatment",
        grade=Grade(grade),
        kind=kind,
        issued=date.fromisoformat(issued),
        expires=date.fromisoformat(expires),
        facility="plant" if kind == "grandfather" else None,
    )


TERMS = [
    # UT R317-10-11 C: "a period of up to three years ... expire on December 31 of the last
    # year"; G: grandfather certificates "issued for a period of up to three years".
    ("UT", "full", "2023-01-01", "2025-12-31", None),
    ("UT", "full", "2023-01-01", "2026-12-31", "R317-10-11 C"),
    ("UT", "full", "2023-01-01", "2025-06-30", "December 31"),
    ("UT", "restricted", "2023-01-01", "2026-12-31", "R317-10-11 C"),
    ("UT", "grandfather", "2023-01-01", "2025-12-31", None),
    ("UT", "grandfather", "2023-01-01", "2026-12-31", "R317-10-11 G"),
    ("UT", "full", "2023-06-15", "2025-12-31", None),
    ("UT", "full", "2023-06-15", "2026-12-31", "three years"),
    # VT §6(c)(i): "five years after July 1 of the year in which issued or renewed"; an
    # earlier July 1 is allowed (§6(c)(iii): a reissued certificate ends on the original date).
    ("VT", "full", "2022-07-01", "2027-07-01", None),
    ("VT", "full", "2022-09-15", "2027-07-01", None),
    ("VT", "full", "2022-07-01", "2026-07-01", None),
    ("VT", "full", "2022-07-01", "2027-06-30", "July 1"),
    ("VT", "full", "2022-07-01", "2028-07-01", "§6(c)(i)"),
    # VT §6(b)(ii): provisional, "not to exceed two years".
    ("VT", "provisional", "2024-02-29", "2026-02-28", None),
    ("VT", "provisional", "2024-02-29", "2026-03-01", "§6(b)(ii)"),
    ("VT", "provisional", "2024-03-01", "2026-02-28", None),
    ("VT", "provisional", "2024-02-28", "2026-02-27", None),
    ("VT", "provisional", "2024-02-28", "2026-02-28", "§6(b)(ii)"),
    # All: expires >= issued.
    ("NY", "full", "2024-05-01", "2024-04-30", "before"),
    ("NY", "full", "2024-05-01", "2034-04-30", None),
]


@pytest.mark.parametrize(("state", "kind", "issued", "expires", "problem"), TERMS)
def test_certificate_terms(state, kind, issued, expires, problem):
    got = term_problem(certificate(state, kind, issued, expires), latest(state))
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got, got


@pytest.mark.parametrize(
    ("state", "kind", "issued", "expires", "problem"), [t for t in TERMS if t[4]]
)
def test_a_term_the_rule_does_not_allow_is_refused_by_the_scenario_file(
    state, kind, issued, expires, problem
):
    grade = "II" if state == "UT" else "2"
    extra = {"facility": "plant"} if kind == "grandfather" else {}
    data = scenario(
        state,
        operators=[op("a", cert(grade, state=state, kind=kind, issued=issued, expires=expires,
                                **extra))],
    )  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert err.value.path in (
        "$.operators[0].certificates[0].expires",
        "$.operators[0].certificates[0].issued",
    )
    assert problem in err.value.problem


def test_vt_provisional_issued_february_29_counts_through_february_28():
    """VT §6(b)(ii): at most two years; issued 2024-02-29, it counts through the end of
    2026-02-28 (local), not a day less."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[
            op("p", cert("2", state="VT", kind="provisional", issued="2024-02-29",
                         expires="2026-02-28")),
        ],
        shifts=[
            shift_between(
                "night",
                "2026-02-28T18:00:00-05:00",
                "2026-03-01T06:00:00-05:00",
                member("p", "operator"),
            )
        ],
        entries=[
            {"id": "before", "time": "2026-02-28T23:00:00-05:00", "author": "p",
             "operational": True},
            {"id": "after", "time": "2026-03-01T00:30:00-05:00", "author": "p",
             "operational": True},
        ],
        period=("2026-02-28T18:00:00-05:00", "2026-03-01T06:00:00-05:00"),
    )  # fmt: skip
    report = run(data)
    stamps = {e.id: e.certified_on_duty for e in report.entries}
    assert stamps == {"before": ("p",), "after": ()}
    f = only(report, "certified-on-site")
    assert f.entries == ("after",)
    assert f.start == datetime(2026, 3, 1, 5, tzinfo=UTC)


# --- New York's old names (650.12(d) Table 4) --------------------------------------------


@pytest.mark.parametrize("name", ["IIA", "IA", "IB", "IIB", "IIC", "IIIA", "iia"])
def test_ny_old_name_typed_as_grade_is_refused(name):
    """NY 650.12 Table 4: an old name is never read as roman II + A."""
    rules = latest("NY")
    assert rules.written_grade_problem(name) == (
        f"{name!r} is an old New York certificate name (650.12 Table 4); enter it as legacy_grade"
    )
    data = scenario("NY", facility_kw={"points": 20}, operators=[op("a", cert(name, state="NY"))])
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert err.value.path == "$.operators[0].certificates[0].grade"
    assert "enter it as legacy_grade" in err.value.problem


@pytest.mark.parametrize("grade", ["3", "3A", "IV", 2])
def test_ny_present_grades_are_not_old_names(grade):
    assert latest("NY").written_grade_problem(grade) is None


def test_ny_legacy_grade_reads_table_4():
    """NY 650.12(d) Table 4, first block: IA 4A, IB 4, IIA 3A, IIB 3, IIC 3."""
    rules = latest("NY")
    assert rules.legacy_grade("IIA") == Grade(3, True)
    assert rules.legacy_grade("IIC") == Grade(3)
    with pytest.raises(GradeError, match="'IIIA' is not an old New York certificate name"):
        rules.legacy_grade("IIIA")
    with pytest.raises(GradeError, match="New York's"):
        latest("UT").legacy_grade("IIA")


def test_ny_written_grade_problem_leaves_other_states_alone():
    assert latest("UT").written_grade_problem("IIA") is None


# --- UT grandfather (R317-10-11 G) --------------------------------------------------------


def grandfather(day, hhmm_from, hhmm_to, *, added=None, ratings=None, period=None):
    kw = {}
    if added:
        kw["processes_added"] = added
    if ratings:
        kw["rating_changes"] = ratings
    start, end = at("UT", hhmm_from, day), at("UT", hhmm_to, day)
    return scenario(
        "UT",
        facility_kw=kw,
        operators=[
            op("g", cert("II", kind="grandfather", facility="plant", issued="2024-01-01",
                         expires="2026-12-31"))
        ],
        shifts=[shift_between("s", start, end, member("g", "drc"))],
        period=period or (start, end),
    )  # fmt: skip


@pytest.mark.parametrize("which", ["added", "ratings"])
def test_ut_grandfather_counts_for_one_year_after_a_process_is_added(which):
    """UT R317-10-11 G: after a new process (or a collection system's change in rating), the
    operator "must obtain a restricted or unrestricted certificate within one year": added
    2025-03-01, the certificate counts until local midnight starting 2026-03-01."""
    kw = {which: ["2025-03-01"]}
    before = run(grandfather("2026-02-28", "06:00", "18:00", **kw))
    assert rules(before, severity="violation") == []
    warning = only(before, "certificate-expiring")
    assert "2026-02-28" in warning.message and "R317-10-11 G" in warning.citation
    after = grandfather("2026-03-01", "00:00", "06:00", **kw)
    f = only(run(after), "drc-unqualified")
    assert f.start == datetime(2026, 3, 1, 7, tzinfo=UTC)  # 00:00 MST


def test_ut_grandfather_deadline_is_warned_during_the_whole_year():
    """UT R317-10-11 G: the year to get a certificate; a warning gives the deadline during it,
    even far beyond the site's expiry horizon."""
    report = run(grandfather("2025-04-15", "06:00", "18:00", added=["2025-03-01"]))
    f = only(report, "certificate-expiring")
    assert f.severity == "warning"
    assert "2026-02-28" in f.message


# --- Vermont types (§3(a), §4 Table 1, §6(a)) ---------------------------------------------


def test_vt_industrial_certificate_at_a_domestic_facility_does_not_qualify():
    """VT §3(a): certificates "of the grade and/or industrial type as required"; §6(a):
    each certificate states "the grade and type"."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[op("c", cert("2", state="VT", type="industrial"))],
        shifts=[shift("VT", member("c", "chief"))],
    )
    f = only(run(data), "chief-grade")
    assert "industrial" in f.message
    data["facility"]["wastewater_type"] = "industrial"
    assert rules(run(data)) == []


@pytest.mark.parametrize(("grade", "refused"), [("3", True), ("5", True), ("4", False)])
def test_vt_industrial_grades_3_and_5_are_refused(grade, refused):
    """VT §4 Table 1: classes III and V are domestic only."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[op("c", cert(grade, state="VT", type="industrial"))],
    )
    if refused:
        with pytest.raises(ScenarioError) as err:
            load_scenario(data)
        assert err.value.path == "$.operators[0].certificates[0].type"
        assert "§4 Table 1" in err.value.problem
    else:
        load_scenario(data)


def test_types_are_vermonts():
    data = scenario("UT", operators=[op("c", cert("II", type="industrial"))])
    with pytest.raises(ScenarioError, match="type"):
        load_scenario(data)


# --- expiry messages (§E) ------------------------------------------------------------------


def test_ut_reinstated_certificate_message_names_the_reinstatement_and_the_gap():
    """UT R317-10-11 D: reinstatable within three months; the message says what the record
    says: reinstated or renewed from 2026-02-15, not qualifying 2026-01-01 to 2026-02-14."""
    data = scenario(
        "UT",
        operators=[
            op(
                "a",
                cert("II", issued="2023-01-01", expires="2025-12-31", id="old"),
                cert("II", issued="2026-02-15", expires="2028-12-31", id="new"),
            )
        ],
        period=(at("UT", "00:00", "2025-12-01"), at("UT", "00:00", "2025-12-02")),
    )
    f = only(run(data), "certificate-expiring")
    assert "no renewed certificate" not in f.message
    assert "reinstated or renewed from 2026-02-15 (new)" in f.message
    assert "did not qualify from 2026-01-01 to 2026-02-14" in f.message


def test_ny_expiry_message_uses_the_actual_date():
    data = scenario(
        "NY",
        facility_kw={"points": 20},
        operators=[op("a", cert("1", state="NY", issued="2021-04-01", expires="2026-03-31"))],
        period=(at("NY", "00:00", "2026-03-01"), at("NY", "00:00", "2026-03-02")),
    )
    f = only(run(data), "certificate-expiring")
    assert "2026-03-31" in f.message and "December 31" not in f.message


def test_a_stored_provisional_certificate_counts_two_years_at_most():
    """VT §6(b)(ii): a certificate stored with a longer term (before terms were checked at
    entry) still stops counting when its two years end."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[op("p", cert("2", state="VT", kind="provisional", issued="2023-05-01",
                                expires="2025-04-30"))],
        shifts=[shift("VT", member("p", "drc"))],
    )  # fmt: skip
    s = load_scenario(data)
    p = s.operators[0]
    stored = dataclasses.replace(p.certificates[0], expires=date(2026, 6, 30))
    s = dataclasses.replace(s, operators=(dataclasses.replace(p, certificates=(stored,)),))
    f = only(check(s), "drc-unqualified")
    assert "past its two-year window (ended 2025-04-30, VT §6(b)(ii))" in f.message


def test_vt_grandfather_does_not_lapse_with_a_process_added():
    """The one-year lapse is Utah's (R317-10-11 G); VT §8(d) grandfathers a chief operator
    at the employing facility."""
    data = scenario(
        "VT",
        facility_kw={"class": "2", "processes_added": ["2024-01-01"]},
        operators=[op("g", cert("2", state="VT", kind="grandfather", facility="plant"))],
        shifts=[shift("VT", member("g", "chief"))],
    )
    assert rules(run(data)) == []

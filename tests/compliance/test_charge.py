"""Who holds charge on site, as each state's rule says (issue 15).

A week of three shifts a day properly staffed under each state's rule gives no finding; the
same week with one shift short of its grade gives exactly that finding, over that shift.
"""

from datetime import datetime

import pytest

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
    week,
)

SHORT_NIGHT = 2  # the third day's night is the shift short of its grade


def week_report(state, class_kw, people, day, night, short=None):
    def crews(d, name):
        if name == "day":
            return day
        if short is not None and d == SHORT_NIGHT and name == "night":
            return short
        return night

    shifts, period = week(state, crews)
    return run(
        scenario(state, facility_kw=class_kw, operators=people, shifts=shifts, period=period)
    )


def third_night(state):
    return (
        datetime.fromisoformat(at(state, "22:00", "2025-06-11")),
        datetime.fromisoformat(at(state, "06:00", "2025-06-12")),
    )


UT_PEOPLE = [op("c", cert("III")), op("s", cert("III")), op("low", cert("II"))]

VT_PEOPLE = [
    op("c3", cert("3", state="VT")),
    op("c4", cert("4", state="VT")),
    op("a1", cert("1", state="VT")),
    op("a2", cert("2", state="VT")),
    op("o1", cert("1", state="VT")),
]

NY_PEOPLE = [
    op("c", cert("3", state="NY")),
    op("s", cert("2", state="NY")),
    op("low", cert("1", state="NY")),
]


# --- A week in each state ------------------------------------------------------------

# (state, class, people, day crew, evening and night crew, the short night's crew,
# its finding, the citation's words)
WEEKS = {
    "UT": pytest.param(
        "UT",
        {"class": "III"},
        UT_PEOPLE,
        [member("c", "chief")],
        [member("s", "shift_operator")],
        [member("low", "shift_operator")],
        ("drc-unqualified", ("low",)),
        "R317-10-4 I",
        id="UT R317-10-4 I, E, R317-10-6 Table 1: chief III by day, shift operator III at night",
    ),
    "VT": pytest.param(
        "VT",
        {"class": "4"},
        VT_PEOPLE,
        [member("c4", "chief")],
        [member("a2", "assistant_chief")],
        [member("a1", "assistant_chief")],
        ("assistant-grade", ("a1",)),
        "§4(d)",
        id="VT §3(a), §4(d): class 4, chief 4 by day, assistant chief 2 at night",
    ),
    "NY": pytest.param(
        "NY",
        {"points": 60},
        NY_PEOPLE,
        [member("c", "chief")],
        [member("s", "shift_operator")],
        [member("low", "shift_operator")],
        ("shift-grade", ("low",)),
        "650.12(b) Table 2",
        id="NY 650.12(b) Table 2, 56-75 points: chief 3 by day, shift operator 2 at night",
    ),
}
WEEK_FIELDS = ("state", "cls", "people", "day", "night", "short", "finding", "words")


@pytest.mark.parametrize(WEEK_FIELDS, WEEKS.values())
def test_a_week_staffed_as_the_state_says_is_in_order(
    state, cls, people, day, night, short, finding, words
):
    """Three shifts a day for a week, the chief by day and an assistant chief or a shift
    operator of the grade the state's rule gives in the evening and at night: no finding,
    and each shift shows who held charge."""
    report = week_report(state, cls, people, day, night)
    assert report.findings == ()
    assert {c.drc for c in report.coverage} == {
        (day[0]["operator"],),
        (night[0]["operator"],),
    }


@pytest.mark.parametrize(WEEK_FIELDS, WEEKS.values())
def test_a_week_with_one_night_short_of_its_grade_is_that_finding(
    state, cls, people, day, night, short, finding, words
):
    """The same week with the third night's crew one grade short: exactly that finding
    (UT `drc-unqualified`, VT `assistant-grade`, NY `shift-grade`), spanning that night."""
    report = week_report(state, cls, people, day, night, short=short)
    assert rules(report) == [finding]
    f = report.findings[0]
    assert (f.start, f.end) == third_night(state)
    assert (f.severity, f.basis) == ("violation", "regulation")
    assert words in f.citation


# --- Utah ------------------------------------------------------------------------------


def test_ut_chief_alone_on_site_holds_charge():
    """UT R317-10-4 E: the chief operator is the supervisor in direct responsible charge;
    a chief alone on site is no `drc-missing`."""
    data = scenario(
        "UT",
        facility_kw={"class": "II"},
        operators=[op("c", cert("II"))],
        shifts=[shift("UT", member("c", "chief"))],
    )
    report = run(data)
    assert rules(report) == []
    assert report.coverage[0].drc == ("c",)


def sole_operator(employed=None):
    kw = {"class": "II"}
    if employed is not None:
        kw["employed_operators"] = employed
    return scenario(
        "UT",
        facility_kw=kw,
        operators=[op("o", cert("II"))],
        shifts=[shift("UT", member("o", "operator"))],
    )


def test_ut_the_one_operator_employed_is_in_drc():
    """UT R317-10-4 I: "In cases where only one operator is employed, this operator shall be
    considered to be in direct responsible charge"."""
    report = run(sole_operator(employed=1))
    assert rules(report) == []
    assert report.coverage[0].drc == ("o",)


def test_ut_the_one_operator_employed_needs_the_class():
    """UT R317-10-4 I, R317-10-6 Table 1: deemed in DRC, the one operator needs the class."""
    data = sole_operator(employed=1)
    data["facility"]["class"] = "III"
    assert rules(run(data)) == [("drc-unqualified", ("o",))]


@pytest.mark.parametrize("employed", [None, 3])
def test_ut_one_name_in_all_crews_is_not_one_operator_employed(employed):
    """UT R317-10-4 I: only the facility's roster (`employed_operators` 1) deems the sole
    operator in DRC; one name in the crews does not (not known, or 3 employed)."""
    report = run(sole_operator(employed))
    assert rules(report) == [("drc-missing", ())]
    assert report.coverage[0].drc == ()


# --- Vermont ---------------------------------------------------------------------------


def test_vt_week_class_3_assistant_chief_of_grade_1_at_night_is_in_order():
    """VT §3(a), §4(d): at class 3 an assistant chief of grade 1 (two grades below), who
    "makes operational decisions in the absence of the chief operator" (§2): no finding."""
    report = week_report(
        "VT",
        {"class": "3"},
        VT_PEOPLE,
        [member("c3", "chief")],
        [member("a1", "assistant_chief")],
    )
    assert report.findings == ()


def test_vt_night_with_only_a_certified_operator_is_no_drc_missing():
    """VT §1: a certified operator present is what Vermont requires; no VT rule requires a
    designated DRC on site, so a night run by a certified `operator` is no finding."""
    report = week_report(
        "VT",
        {"class": "3"},
        VT_PEOPLE,
        [member("c3", "chief")],
        [member("a1", "assistant_chief")],
        short=[member("o1", "operator")],
    )
    assert report.findings == ()


def test_vt_reading_with_no_certified_operator_on_site():
    """VT §1 "A certified operator shall be present at a treatment facility when any
    operational activity is being undertaken"; §2 Operational activity: "performing process
    control tests". A reading is one, whatever the logbook's own flag says."""
    data = scenario(
        "VT",
        facility_kw={"class": "2"},
        operators=[op("c", cert("2", state="VT")), op("u", level="developing")],
        shifts=[
            shift("VT", member("c", "chief"), id="day", start="06:00", end="14:00"),
            shift("VT", member("u", "operator"), id="evening", start="14:00", end="22:00"),
        ],
        entries=[
            {"id": "r1", "time": at("VT", "20:00"), "author": "u", "kind": "reading"},
            {"id": "n1", "time": at("VT", "20:30"), "author": "u", "kind": "note"},
        ],
        period=(at("VT", "06:00"), at("VT", "22:00")),
    )
    report = run(data)
    f = only(report, "certified-on-site")
    assert rules(report) == [("certified-on-site", ("u",))]
    assert f.entries == ("r1",)
    assert "§1" in f.citation and "§2" in f.citation


@pytest.mark.parametrize("state", ["UT", "NY"])
def test_certified_on_site_is_vermonts_rule_only(state):
    """No such rule in UT R317-10 (001) or NY 650.12 (003): not judged there."""
    grade = "I" if state == "UT" else "1"
    data = scenario(
        state,
        facility_kw={"class": grade} if state == "UT" else {"points": 20},
        operators=[op("c", cert(grade, state=state)), op("u", level="developing")],
        shifts=[
            shift(state, member("c", "chief"), id="day", start="06:00", end="14:00"),
            shift(state, member("u", "operator"), id="evening", start="14:00", end="22:00"),
        ],
        entries=[
            {
                "id": "x",
                "time": at(state, "20:00"),
                "author": "u",
                "kind": "chemical_addition",
                "operational": True,
                "countersigned_by": "c",
            }
        ],
        period=(at(state, "06:00"), at(state, "22:00")),
    )
    assert "certified-on-site" not in [r for r, _ in rules(run(data))]


# --- New York --------------------------------------------------------------------------


def test_ny_activated_sludge_shift_operator_with_a_plain_grade():
    """NY 650.12(a) Table 1, 76 points and greater: assistant/shift operator 3A; a plain 3
    does not meet it."""
    data = scenario(
        "NY",
        facility_kw={"points": 80, "activated_sludge": True},
        operators=[op("c", cert("4A", state="NY")), op("s", cert("3", state="NY"))],
        shifts=[shift("NY", member("c", "chief"), member("s", "shift_operator"))],
    )
    assert rules(run(data)) == [("shift-grade", ("s",))]


def test_ny_shift_with_no_graded_operator_is_drc_missing():
    """NY 650.12(a), (b) Tables 1-2 (our reading): each shift has a chief, an assistant or a
    shift operator of the table's grade; a shift with only an `operator` is `drc-missing`."""
    data = scenario(
        "NY",
        facility_kw={"points": 60},
        operators=[op("o", cert("3", state="NY"))],
        shifts=[shift("NY", member("o", "operator"))],
    )
    f = only(run(data), "drc-missing")
    assert "650.12" in f.citation and "R317" not in f.citation

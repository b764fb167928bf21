"""Grade thresholds by role, state and class, judged through the whole engine."""

import pytest

from tests.compliance.builders import cert, member, only, op, rules, run, scenario, shift

UT_DRC_CASES = [
    (cls, level, None if level >= need else "drc-unqualified")
    for need, cls in enumerate(["I", "II", "III", "IV"], start=1)
    for level in range(max(1, need - 1), min(4, need + 1) + 1)
]


@pytest.mark.parametrize(("cls", "level", "finding"), UT_DRC_CASES)
def test_ut_drc_grade_against_every_class(cls, level, finding):
    """UT R317-10-4 I, R317-10-6 Table 1: the DRC holds at least the facility's class."""
    data = scenario(
        "UT",
        facility_kw={"class": cls},
        operators=[op("a", cert(level))],
        shifts=[shift("UT", member("a", "drc"))],
    )
    report = run(data)
    assert report.required["drc"] == cls
    assert rules(report) == ([] if finding is None else [(finding, ("a",))])


@pytest.mark.parametrize(
    ("points", "activated", "chief", "shift_grade"),
    [
        (30, False, "1", "1"),
        (31, False, "2", "1"),
        (55, False, "2", "1"),
        (56, False, "3", "2"),
        (75, False, "3", "2"),
        (76, False, "4", "3"),
        (30, True, "1A", "1A"),
        (31, True, "2A", "1A"),
        (55, True, "2A", "1A"),
        (56, True, "3A", "2A"),
        (75, True, "3A", "2A"),
        (76, True, "4A", "3A"),
    ],
)
def test_ny_tables_1_2_every_threshold(points, activated, chief, shift_grade):
    """NY 650.12 Table 1 / Table 2: chief and assistant/shift operator by point score."""
    kw = {"points": points, "activated_sludge": activated}
    ok = scenario(
        "NY",
        facility_kw=kw,
        operators=[
            op("c", cert(chief, state="NY")),
            op("s", cert(shift_grade, state="NY")),
            op("d", cert(chief, state="NY")),
        ],
        shifts=[
            shift("NY", member("d", "drc"), member("c", "chief"), member("s", "shift_operator"))
        ],
    )
    report = run(ok)
    assert report.facility_class == chief
    # Whoever holds charge of a shift other than the chief: the Assistant/Shift column.
    assert report.required == {
        "drc": shift_grade,
        "chief": chief,
        "assistant_chief": shift_grade,
        "shift_operator": shift_grade,
    }
    assert rules(report) == []


@pytest.mark.parametrize(
    ("points", "activated", "chief_held", "shift_held", "expected"),
    [
        (76, False, "3", "3", [("chief-grade", ("c",))]),
        (76, False, "4", "2", [("shift-grade", ("s",))]),
        (56, False, "2", "2", [("chief-grade", ("c",))]),
        (56, False, "3", "1", [("shift-grade", ("s",))]),
        (31, False, "1", "1", [("chief-grade", ("c",))]),
        # Table 1: a plain certificate does not meet an A requirement, even a higher one.
        (76, True, "4", "3A", [("chief-grade", ("c",))]),
        (56, True, "3A", "2", [("shift-grade", ("s",))]),
        (30, True, "1A", "4", [("shift-grade", ("s",))]),
    ],
)
def test_ny_chief_and_shift_below_table(points, activated, chief_held, shift_held, expected):
    """NY 650.12 Tables 1-2: `chief-grade` and `shift-grade`."""
    data = scenario(
        "NY",
        facility_kw={"points": points, "activated_sludge": activated},
        operators=[
            op("c", cert(chief_held, state="NY")),
            op("s", cert(shift_held, state="NY")),
            op("d", cert("4A", state="NY")),
        ],
        shifts=[
            shift("NY", member("d", "drc"), member("c", "chief"), member("s", "shift_operator"))
        ],
    )
    report = run(data)
    assert rules(report) == expected
    f = report.findings[0]
    assert "NY 650.12" in f.citation
    assert f.start.isoformat() == "2025-06-10T10:00:00+00:00"


@pytest.mark.parametrize(
    ("cls", "assistant", "finding"),
    [
        ("5", "3", None),
        ("5", "2", "assistant-grade"),
        ("4", "2", None),
        ("4", "1", "assistant-grade"),
        ("3", "1", None),
        ("2", "1", None),
        ("1", "1", None),
    ],
)
def test_vt_assistant_chief_at_most_two_grades_below(cls, assistant, finding):
    """VT §3(a), §4(d): assistant chief not more than two grades below the class."""
    data = scenario(
        "VT",
        facility_kw={"class": cls},
        operators=[op("d", cert(cls, state="VT")), op("a", cert(assistant, state="VT"))],
        shifts=[shift("VT", member("d", "drc"), member("a", "assistant_chief"))],
    )
    report = run(data)
    assert rules(report) == ([] if finding is None else [(finding, ("a",))])
    if finding:
        assert "VT §3(a), §4(d)" in report.findings[0].citation


@pytest.mark.parametrize(("cls", "chief", "finding"), [("3", "3", None), ("3", "2", "chief-grade")])
def test_vt_chief_equal_to_class(cls, chief, finding):
    """VT §4(d): chief operator's grade equal to the numerical class."""
    data = scenario(
        "VT",
        facility_kw={"class": cls},
        operators=[op("d", cert("5", state="VT")), op("c", cert(chief, state="VT"))],
        shifts=[shift("VT", member("d", "drc"), member("c", "chief"))],
    )
    assert rules(run(data)) == ([] if finding is None else [(finding, ("c",))])


def test_ut_chief_below_class_is_chief_grade():
    """UT R317-10-4 E: the chief is in direct responsible charge of all shift operators."""
    data = scenario(
        "UT",
        facility_kw={"class": "III"},
        operators=[op("d", cert("III")), op("c", cert("II"))],
        shifts=[shift("UT", member("d", "drc"), member("c", "chief"))],
    )
    f = only(run(data), "chief-grade")
    assert f.operators == ("c",)
    assert "grade below the required III" in f.message

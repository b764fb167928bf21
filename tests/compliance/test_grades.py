import pytest

from compliance.grades import Grade, GradeError, ny_reclassify, parse_grade


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("III", Grade(3)),
        ("3", Grade(3)),
        (3, Grade(3)),
        ("iv", Grade(4)),
        ("V", Grade(5)),
        ("3A", Grade(3, True)),
        ("IIIA", Grade(3, True)),
        ("1a", Grade(1, True)),
        ("Grade 2", Grade(2)),
        ("Class IV", Grade(4)),
    ],
)
def test_grades_read_as_roman_or_digits_with_ny_a_suffix(text, expected):
    assert parse_grade(text) == expected


@pytest.mark.parametrize("bad", ["", "VI", "0", "6", "IIII", "3B", "A", True, None, 2.5, 0])
def test_unreadable_grades_are_refused(bad):
    with pytest.raises(GradeError):
        parse_grade(bad)


@pytest.mark.parametrize(
    ("held", "required", "ok", "why"),
    [
        ("3", "3", True, "equal grade meets (VT §4(d), UT Table 1)"),
        ("4", "3", True, "higher grade meets"),
        ("2", "3", False, "lower grade does not"),
        ("3A", "3A", True, "NY Table 1: A series at an activated-sludge plant"),
        ("3", "3A", False, "NY Table 1: plain certificate at an activated-sludge plant"),
        ("4", "3A", False, "NY Table 1: a higher plain grade is still not the A series"),
        ("3A", "3", True, "NY Table 2: A certificate at another plant (our reading)"),
        ("2A", "3", False, "NY Table 2: lower A grade"),
    ],
)
def test_grade_satisfies(held, required, ok, why):
    assert parse_grade(held).satisfies(parse_grade(required)) is ok, why


@pytest.mark.parametrize(
    ("old", "new"), [("IA", "4A"), ("IB", "4"), ("IIA", "3A"), ("IIB", "3"), ("IIC", "3")]
)
def test_ny_table_4_reclassification(old, new):
    assert ny_reclassify(old) == parse_grade(new)


def test_ny_table_4_rows_lost_in_the_seed_are_not_guessed():
    with pytest.raises(GradeError, match="not an old New York certificate name"):
        ny_reclassify("IIIA")

"""The shared request values' bounds, pure: ids, decimal ids, instants and days, and
the text and numbers the database and a JSON answer can hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from clearwell.params import (
    ID_MAX,
    day_problem,
    decimal_id,
    finite,
    instant_problem,
    text_problem,
    value_problems,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),
        ("0", None),
        ("-5", None),
        ("³", None),
        ("①", None),
        ("٣", None),  # Arabic-Indic three: isdecimal, and still not an id here
        ("1099511627776", None),
        ("", None),
        (" 7", None),
        ("7a", None),
    ],
)
def test_decimal_id(text: str, expected: int | None) -> None:
    assert decimal_id(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("plain", None),
        ("VT §3(a) ✓ 🌊", None),
        ("a\x00b", "NUL"),
        ("\ud800x", "surrogate"),
        ("x\udfff", "surrogate"),
    ],
)
def test_text_problem(text: str, problem: str | None) -> None:
    found = text_problem(text)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_value_problems_name_where() -> None:
    value = {"a": [1.5, float("nan"), "ok", "x\x00"], "b": {"\ud800": 1}, "c": float("inf")}
    found = dict(value_problems(value, ("body",)))
    assert set(found) == {("body", "a", 1), ("body", "a", 3), ("body", "b", "?"), ("body", "c")}


def test_finite_writes_non_finite_numbers_as_text() -> None:
    assert finite({"x": [float("nan"), float("-inf"), 1.0], "y": (float("inf"),)}) == {
        "x": ["nan", "-inf", 1.0],
        "y": ["inf"],
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (datetime(2026, 12, 7, 12, tzinfo=UTC), True),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), False),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))), False),
        (datetime(1, 6, 1, tzinfo=UTC), False),
        (datetime(2, 1, 1, tzinfo=UTC), True),
        (datetime(9998, 12, 31, tzinfo=UTC), True),
    ],
)
def test_instant_problem(value: datetime, ok: bool) -> None:
    assert (instant_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("day", "ok"), [(date(2026, 1, 1), True), (date(9999, 12, 31), False), (date(1, 1, 1), False)]
)
def test_day_problem(day: date, ok: bool) -> None:
    assert (day_problem(day) is None) is ok

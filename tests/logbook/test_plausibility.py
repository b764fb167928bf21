"""Which numbers of a record the site's ranges judge, and the judgement in FastAPI's shape:
pure, a table of cases."""

from __future__ import annotations

from typing import Any

import pytest

from logbook.plausibility import (
    ENTRY_FIELDS,
    NUMBER_FIELDS,
    Confirmation,
    Value,
    check_entry_fields,
    entry_values,
    judged,
    result_values,
)
from sitefile.load import parse_config
from sitefile.ranges import Ranges, SiteRanges

DO = Ranges("Aeration DO", "mg/L", (0, 20), (0, 12))
READINGS = Ranges("a reading's value", "", None, (0, None))
AMOUNT = Ranges("a chemical addition's amount", "", (0, None), (0, 2000))
BOD = Ranges("BOD, 5-day", "mg/L", (0, None), (0, 600))
SITE = SiteRanges(
    tags={"aeration.do": DO},
    fields={"reading.value": READINGS, "chemical_addition.amount": AMOUNT},
    analytes={"bod5": BOD},
)
CONFIRMED = Confirmation(confirmed=True, reason="probe fouled; checked by hand")


def test_the_number_fields_of_entries_are_their_measured_numbers_not_ids() -> None:
    assert NUMBER_FIELDS == {"reading": ("value",), "chemical_addition": ("amount",)}
    assert ENTRY_FIELDS == {"reading.value", "chemical_addition.amount"}


@pytest.mark.parametrize(
    ("kind", "data", "tag", "fields", "under", "expected"),
    [
        ("reading", {"value": -25}, "aeration.do", None, (), [(("data", "value"), -25, DO)]),
        # By instrument, or of a tag without a range: the readings' range.
        ("reading", {"value": 3}, None, None, (), [(("data", "value"), 3, READINGS)]),
        ("reading", {"value": 3}, "influent.flow", None, (), [(("data", "value"), 3, READINGS)]),
        ("chemical_addition", {"amount": 5}, None, None, (), [(("data", "amount"), 5, AMOUNT)]),
        ("note", {"text": "x"}, None, None, (), []),
        # An amendment: under its changes, only the fields it changes.
        (
            "reading",
            {"value": 14},
            "aeration.do",
            ["value"],
            ("changes",),
            [(("changes", "data", "value"), 14, DO)],
        ),
        ("reading", {"value": 14}, "aeration.do", [], ("changes",), []),
    ],
)
def test_an_entrys_numbers_and_their_ranges(
    kind: str,
    data: dict[str, Any],
    tag: str | None,
    fields: list[str] | None,
    under: tuple[str, ...],
    expected: list[tuple[tuple[str, ...], float, Ranges]],
) -> None:
    found = entry_values(kind, data, SITE, tag, fields, under)
    assert [(v.loc, v.value, v.ranges) for v in found] == expected
    assert all(v.field == "data." + v.loc[-1] for v in found)


def test_a_results_value_is_judged_by_its_analyte_however_spelled() -> None:
    assert result_values("BOD5", -3, SITE) == [Value(("value",), "value", -3, BOD)]
    assert result_values("bod-5", 4, SITE, ("changes",))[0].loc == ("changes", "value")
    assert result_values("BOD5", None, SITE) == []  # a non-detect without a value
    assert result_values("TSS", 10, SITE)[0].ranges is None


def _v(value: float, ranges: Ranges | None = DO) -> Value:
    return Value(("data", "value"), "data.value", value, ranges)


@pytest.mark.parametrize(
    ("values", "confirmation", "types", "confirmed"),
    [
        ([_v(2)], None, [], []),
        ([_v(-25)], None, ["instrument_range"], []),
        # An impossible value is refused however it is confirmed.
        ([_v(-25)], CONFIRMED, ["instrument_range"], []),
        ([_v(14)], None, ["implausible"], []),
        ([_v(14)], Confirmation(confirmed=False, reason="x"), ["implausible"], []),
        ([_v(14)], CONFIRMED, [], [14]),
        ([_v(2)], CONFIRMED, [], []),  # nothing to confirm: nothing recorded
        ([_v(-1, None)], None, [], []),  # no ranges: taken as it is
        # Every refusal at once; nothing is confirmed while anything is refused.
        ([_v(14), _v(-25)], None, ["implausible", "instrument_range"], []),
        ([_v(14), _v(-25)], CONFIRMED, ["instrument_range"], [-25]),
    ],
)
def test_values_are_refused_or_confirmed(
    values: list[Value],
    confirmation: Confirmation | None,
    types: list[str],
    confirmed: list[float],
) -> None:
    result = judged(values, confirmation)
    assert [e["type"] for e in result.errors] == types
    if types:
        assert result.confirmed == []
    else:
        assert [c.value for c in result.confirmed] == confirmed


def test_a_refusal_is_in_fastapis_shape_naming_the_field_and_the_range() -> None:
    [error] = judged([_v(-25)], None).errors
    assert error == {
        "type": "instrument_range",
        "loc": ("body", "data", "value"),
        "msg": "outside the instrument range 0 to 20 mg/L of Aeration DO",
        "input": -25,
        "ctx": {"of": "Aeration DO", "unit": "mg/L", "instrument": [0, 20], "plausible": [0, 12]},
    }
    [error] = judged([_v(14)], None).errors
    assert error["msg"] == (
        "implausible for Aeration DO: 0 to 12 mg/L expected; confirm it with a reason"
    )


def test_the_site_files_entry_ranges_name_entry_number_fields() -> None:
    text = (
        "site: {code: s, name: S}\n"
        "entry_ranges:\n"
        "  chemical_addition.amount: {instrument: [0, null]}\n"
        "  reading.unit: {instrument: [0, null]}\n"
    )
    problems = check_entry_fields(parse_config(text))
    assert [(p.loc, p.message.split(" is ")[0]) for p in problems] == [
        (("entry_ranges", "reading.unit"), "'reading.unit'")
    ]
    assert "chemical_addition.amount, reading.value" in problems[0].message

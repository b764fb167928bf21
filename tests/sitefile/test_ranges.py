"""Ranges in the site file: what the file may say (errors by file, line and field), what a
value is judged by them, and the ranges in words."""

from __future__ import annotations

import pytest

from simulators.address_map import DEFAULT_MAP
from sitefile.load import SiteConfigError, load_config, parse_config
from sitefile.ranges import (
    NO_RANGES,
    Ranges,
    Verdict,
    analyte_key,
    judge,
    refusal,
    site_ranges,
    span_text,
)
from tests.sitefile.texts import HEAD

RANGED = HEAD.replace(
    "  - name: first\n",
    "  - name: first\n    description: Aeration DO\n    unit: mg/L\n"
    "    range: {instrument: [0, 20], plausible: [0, 12]}\n",
) + (
    "entry_ranges:\n"
    "  chemical_addition.amount: {instrument: [0, null], plausible: [0, 500], unit: kg}\n"
    "  reading.value: {plausible: [0, null]}\n"
    "analytes:\n"
    "  bod5: {name: 'BOD, 5-day', unit: mg/L, instrument: [0, null], plausible: [0, 400]}\n"
    "  E. coli: {unit: MPN/100mL, instrument: [0, null]}\n"
)


def test_a_site_file_sets_ranges_for_tags_entry_fields_and_analytes() -> None:
    ranges = site_ranges(parse_config(RANGED))
    assert ranges.tags["first"] == Ranges("Aeration DO", "mg/L", (0, 20), (0, 12))
    assert ranges.of_tag("first") == ranges.tags["first"]
    # A reading of a tag without a range, or by instrument, takes the readings' range.
    assert (
        ranges.of_tag("other")
        == ranges.of_tag(None)
        == Ranges("a reading's value", "", None, (0, None))
    )
    assert ranges.of_field("chemical_addition", "amount") == Ranges(
        "a chemical addition's amount", "kg", (0, None), (0, 500)
    )
    assert ranges.of_field("chemical_addition", "unit") is None
    # Analytes are one whatever their spelling, as the exports match them.
    assert ranges.of_analyte("BOD5") == Ranges("BOD, 5-day", "mg/L", (0, None), (0, 400))
    assert ranges.of_analyte("e-coli") == Ranges("E. coli", "MPN/100mL", (0, None), None)
    assert ranges.of_analyte("tss") is None


def test_a_site_file_without_ranges_has_none() -> None:
    assert site_ranges(parse_config(HEAD)) == NO_RANGES
    assert NO_RANGES.of_tag("first") is None and NO_RANGES.of_analyte("bod5") is None


def test_the_demo_plant_sets_ranges_for_every_tag_and_what_the_floor_records() -> None:
    config = load_config(DEFAULT_MAP)
    ranges = site_ranges(config)
    assert {t.name for t in config.tags} == set(ranges.tags)
    for tag in config.tags:
        r = ranges.tags[tag.name]
        # Nothing the plant measures is negative, and each has an instrument range.
        assert r.instrument is not None and r.instrument[0] == 0, tag.name
    assert judge(-25, ranges.tags["aeration.do"]) is Verdict.INSTRUMENT
    assert judge(-500, ranges.tags["influent.flow"]) is Verdict.INSTRUMENT
    assert judge(2.0, ranges.tags["aeration.do"]) is Verdict.OK
    assert judge(-3, ranges.of_analyte("BOD5")) is Verdict.INSTRUMENT  # type: ignore[arg-type]
    for analyte in ("bod5", "tss", "ecoli"):
        assert ranges.of_analyte(analyte) is not None, analyte
    for key in ("chemical_addition.amount", "reading.value"):
        assert key in ranges.fields


DO = Ranges("Aeration DO", "mg/L", (0, 20), (0, 12))
FLOW = Ranges("Influent flow", "m3/h", (0, None), (None, 2000))
ONLY_PLAUSIBLE = Ranges("a reading's value", "", None, (0, None))
ONLY_INSTRUMENT = Ranges("E. coli", "MPN/100mL", (0, 2420), None)


@pytest.mark.parametrize(
    ("value", "ranges", "verdict"),
    [
        (-25, DO, Verdict.INSTRUMENT),
        (0, DO, Verdict.OK),  # bounds are inside
        (12, DO, Verdict.OK),
        (12.01, DO, Verdict.IMPLAUSIBLE),
        (20, DO, Verdict.IMPLAUSIBLE),
        (20.5, DO, Verdict.INSTRUMENT),
        (-500, FLOW, Verdict.INSTRUMENT),
        (-0.001, FLOW, Verdict.INSTRUMENT),
        (1e9, FLOW, Verdict.IMPLAUSIBLE),  # no instrument bound above
        (1500, FLOW, Verdict.OK),
        (-3, ONLY_PLAUSIBLE, Verdict.IMPLAUSIBLE),
        (3, ONLY_PLAUSIBLE, Verdict.OK),
        (2421, ONLY_INSTRUMENT, Verdict.INSTRUMENT),
        (2420, ONLY_INSTRUMENT, Verdict.OK),
        (-1, Ranges("x", "", None, None), Verdict.OK),
    ],
)
def test_a_value_is_judged_by_the_instrument_range_first(
    value: float, ranges: Ranges, verdict: Verdict
) -> None:
    assert judge(value, ranges) is verdict


@pytest.mark.parametrize(
    ("verdict", "ranges", "words"),
    [
        (Verdict.INSTRUMENT, DO, "outside the instrument range 0 to 20 mg/L of Aeration DO"),
        (
            Verdict.IMPLAUSIBLE,
            DO,
            "implausible for Aeration DO: 0 to 12 mg/L expected; confirm it with a reason",
        ),
        (Verdict.INSTRUMENT, FLOW, "outside the instrument range 0 m3/h or more of Influent flow"),
        (Verdict.IMPLAUSIBLE, FLOW, "implausible for Influent flow: 2000 m3/h or less expected"),
        (Verdict.IMPLAUSIBLE, ONLY_PLAUSIBLE, "implausible for a reading's value: 0 or more"),
    ],
)
def test_a_refusal_names_the_range_with_its_unit_and_what_it_is_of(
    verdict: Verdict, ranges: Ranges, words: str
) -> None:
    assert words in refusal(verdict, ranges)


def test_spans_in_words() -> None:
    assert span_text((0.5, 1e6), "mg/L") == "0.5 to 1e+06 mg/L"
    assert span_text((-10, None)) == "-10 or more"
    assert span_text((None, 14), "pH") == "14 pH or less"


def test_analytes_are_keyed_by_letters_and_digits() -> None:
    assert analyte_key("E. coli") == analyte_key("ECOLI") == analyte_key("e-coli") == "ecoli"
    assert analyte_key("BOD, 5-day") == "bod5day"


@pytest.mark.parametrize(
    ("tail", "line", "field", "words"),
    [
        (
            "    range: {instrument: [20, 0]}\n",
            11,
            "tags[0].range.instrument",
            "must be [low, high] with low < high, got [20, 0]",
        ),
        (
            "    range: {instrument: [0, 20], plausible: [-1, 12]}\n",
            11,
            "tags[0].range",
            "plausible [-1, 12] must lie inside instrument [0, 20]",
        ),
        (
            "    range: {instrument: [0, 20], plausible: [0, null]}\n",
            11,
            "tags[0].range",
            "plausible [0, null] must lie inside instrument [0, 20]",
        ),
        ("    range: {plausible: [null, null]}\n", 11, "tags[0].range.plausible", "limits nothing"),
        ("    range: {}\n", 11, "tags[0].range", "give instrument: [low, high], plausible"),
        ("    range: {instrument: [0, '20']}\n", 11, "tags[0].range.instrument[1]", "valid number"),
        ("    range: {instrument: [0, 20, 30]}\n", 11, "tags[0].range.instrument", "at most 2"),
        ("    range: {instrument: [0, 20], typo: 1}\n", 11, "tags[0].range.typo", "unknown field"),
        (
            "entry_ranges:\n  chemical_addition: {instrument: [0, null]}\n",
            12,
            "entry_ranges.chemical_addition",
            "name an entry kind and its number field",
        ),
        (
            "entry_ranges:\n  reading.value: {instrument: [0, null], plausible: [-1, 5]}\n",
            12,
            "entry_ranges.reading.value",
            "must lie inside instrument",
        ),
        ("analytes:\n  bod5: {instrument: [0, null]}\n", 12, "analytes.bod5.unit", "required"),
        (
            "analytes:\n  ecoli: {unit: MPN/100mL, instrument: [0, null]}\n"
            "  E. coli: {unit: MPN/100mL, instrument: [0, null]}\n",
            13,
            "analytes.E. coli",
            "same analyte as 'ecoli' (spelling and case aside) (first on line 12)",
        ),
        ("analytes:\n  '--': {unit: mg/L, instrument: [0, null]}\n", 12, "analytes.--", "letter"),
    ],
)
def test_range_errors_name_file_line_and_field(
    tail: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD + tail, "site.yaml")
    message = str(info.value)
    assert f"site.yaml:{line}: {field}: " in message, message
    assert words in message, message

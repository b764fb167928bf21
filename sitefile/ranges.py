"""The ranges a site file sets for values people record, and the judgement of a value
against them: pure, no I/O.

A tag's ``range:`` covers readings of that tag, ``entry_ranges:`` an entry kind's number
field (``"reading.value"``: a reading by instrument, or of a tag without a range of its
own), ``analytes:`` the results of a lab analyte. Each is an instrument range (outside
it a value is impossible: refused) and a plausible range (outside it a value is taken
only when confirmed with a reason). What a value is judged by, and how a range is
written in words, is the same for the API that enforces it and the page that warns
before sending.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sitefile.models import SiteConfig, Span, ValueRange

# "<kind>.<field>": an entry kind of the logbook and one of its number fields.
ENTRY_FIELD_PATTERN = r"^[a-z][a-z_]*\.[a-z][a-z_]*$"
# Readings by instrument, and of a tag without a range of its own.
READING_VALUE = "reading.value"


def analyte_key(name: str) -> str:
    """``E. coli``, ``e-coli`` and ``ECOLI`` are one analyte: letters and digits, any case."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _number(v: float) -> str:
    return f"{v:g}"


def span_text(span: Span, unit: str = "") -> str:
    """``0 to 20 mg/L``, ``0 m3/h or more``, ``20 mg/L or less``."""
    low, high = span
    u = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{_number(low)} to {_number(high)}{u}"
    if low is not None:
        return f"{_number(low)}{u} or more"
    assert high is not None
    return f"{_number(high)}{u} or less"


def inside(value: float, span: Span | None) -> bool:
    if span is None:
        return True
    low, high = span
    return (low is None or value >= low) and (high is None or value <= high)


@dataclass(frozen=True)
class Ranges:
    """The ranges of one kind of value: what it is (``of``, in words), its unit, and its
    instrument and plausible spans (None: not set)."""

    of: str
    unit: str
    instrument: Span | None = None
    plausible: Span | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "of": self.of,
            "unit": self.unit,
            "instrument": list(self.instrument) if self.instrument else None,
            "plausible": list(self.plausible) if self.plausible else None,
        }


class Verdict(StrEnum):
    OK = "ok"
    # The names are the ``type`` of the API's 422 for each.
    INSTRUMENT = "instrument_range"
    IMPLAUSIBLE = "implausible"


def judge(value: float, ranges: Ranges) -> Verdict:
    """Whether a value is possible and plausible by these ranges."""
    if not inside(value, ranges.instrument):
        return Verdict.INSTRUMENT
    if not inside(value, ranges.plausible):
        return Verdict.IMPLAUSIBLE
    return Verdict.OK


def refusal(verdict: Verdict, ranges: Ranges) -> str:
    """What is wrong with a value judged ``verdict``, naming the range it is outside."""
    if verdict is Verdict.INSTRUMENT:
        assert ranges.instrument is not None
        return (
            f"outside the instrument range {span_text(ranges.instrument, ranges.unit)}"
            f" of {ranges.of}"
        )
    assert verdict is Verdict.IMPLAUSIBLE and ranges.plausible is not None
    return (
        f"implausible for {ranges.of}: {span_text(ranges.plausible, ranges.unit)} expected;"
        " confirm it with a reason"
    )


def entry_field_words(key: str) -> str:
    """``chemical_addition.amount`` -> "a chemical addition's amount"."""
    kind, _, name = key.partition(".")
    return f"a {kind.replace('_', ' ')}'s {name.replace('_', ' ')}"


def _ranges(of: str, unit: str, r: ValueRange) -> Ranges:
    return Ranges(of, unit, r.instrument, r.plausible)


@dataclass(frozen=True)
class SiteRanges:
    """A site's ranges: tags' by tag name, entry fields' by ``kind.field``, analytes' by
    :func:`analyte_key`."""

    tags: Mapping[str, Ranges] = field(default_factory=dict)
    fields: Mapping[str, Ranges] = field(default_factory=dict)
    analytes: Mapping[str, Ranges] = field(default_factory=dict)

    def of_tag(self, name: str | None) -> Ranges | None:
        """A reading's ranges: its tag's, else those of readings (``reading.value``)."""
        found = self.tags.get(name) if name is not None else None
        return found or self.fields.get(READING_VALUE)

    def of_field(self, kind: str, name: str) -> Ranges | None:
        return self.fields.get(f"{kind}.{name}")

    def of_analyte(self, analyte: str) -> Ranges | None:
        return self.analytes.get(analyte_key(analyte))


NO_RANGES = SiteRanges()


def site_ranges(config: SiteConfig) -> SiteRanges:
    """The ranges a valid site configuration sets."""
    return SiteRanges(
        tags={
            t.name: _ranges(t.description or t.name, t.unit, t.range)
            for t in config.tags
            if t.range is not None
        },
        fields={
            key: _ranges(entry_field_words(key), r.unit, r)
            for key, r in config.entry_ranges.items()
        },
        analytes={
            analyte_key(key): _ranges(r.name or key, r.unit, r)
            for key, r in config.analytes.items()
        },
    )

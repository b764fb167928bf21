"""Plausibility of the numbers people record: which of a record's numbers the site's
ranges judge, the refusals in FastAPI's error shape, and what a person confirmed: pure.

An entry kind's number fields (``Reading.value``, ``ChemicalAddition.amount``) and a
result's value are judged by the site file's ranges (:mod:`sitefile.ranges`): outside
the instrument range a value is refused (``type: instrument_range``); outside the
plausible range it is refused (``type: implausible``) unless the request carries a
``plausibility`` confirmation with a reason, and then it is taken and the confirmation
recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from logbook.kinds import KINDS
from sitefile.checks import Problem
from sitefile.models import SiteConfig
from sitefile.ranges import Ranges, SiteRanges, Verdict, judge, refusal


class Confirmation(BaseModel):
    """A request's ``plausibility``: the person confirms the values outside their plausible
    range, and says why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    confirmed: bool = Field(description="true: the values outside their plausible range stand")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def _number_fields(model: type[BaseModel]) -> tuple[str, ...]:
    # Numbers a person measures or weighs; integers are ids (tag_id, event_id).
    props = model.model_json_schema()["properties"]
    return tuple(
        name
        for name, prop in props.items()
        if any(p.get("type") == "number" for p in prop.get("anyOf", [prop]))
    )


# Each entry kind's number fields, which ``entry_ranges:`` may name as "kind.field".
NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    kind: fields for kind, model in KINDS.items() if (fields := _number_fields(model))
}
ENTRY_FIELDS = frozenset(
    f"{kind}.{name}" for kind, names in NUMBER_FIELDS.items() for name in names
)


def check_entry_fields(config: SiteConfig) -> list[Problem]:
    """The site file's rule the logbook adds: ``entry_ranges:`` names entry number fields."""
    return [
        Problem(
            ("entry_ranges", key),
            f"{key!r} is not a number field of an entry; one of {', '.join(sorted(ENTRY_FIELDS))}",
        )
        for key in config.entry_ranges
        if key not in ENTRY_FIELDS
    ]


@dataclass(frozen=True)
class Value:
    """A number of a record: where it is in the request body (``loc``) and in the record
    (``field``: ``data.value``, ``value``), and the ranges judging it."""

    loc: tuple[str, ...]
    field: str
    value: float
    ranges: Ranges | None


def entry_values(
    kind: str,
    data: dict[str, Any],
    ranges: SiteRanges,
    tag_name: str | None = None,
    fields: Iterable[str] | None = None,
    under: tuple[str, ...] = (),
) -> list[Value]:
    """The numbers of an entry's ``data`` to judge (only ``fields``, if given), each with
    its ranges: a reading's value by its tag (``tag_name``), another by ``kind.field``.
    ``under`` is where ``data`` is in the request body (an amendment's ``changes``)."""
    wanted = set(NUMBER_FIELDS.get(kind, ())) if fields is None else set(fields)
    out = []
    for name in NUMBER_FIELDS.get(kind, ()):
        value = data.get(name)
        if name not in wanted or value is None or isinstance(value, bool):
            continue
        found = (
            ranges.of_tag(tag_name)
            if (kind, name) == ("reading", "value")
            else ranges.of_field(kind, name)
        )
        out.append(Value((*under, "data", name), f"data.{name}", float(value), found))
    return out


def result_values(
    analyte: str, value: float | None, ranges: SiteRanges, under: tuple[str, ...] = ()
) -> list[Value]:
    """A lab result's value (none for a non-detect without one), judged by its analyte."""
    if value is None:
        return []
    return [Value((*under, "value"), "value", float(value), ranges.of_analyte(analyte))]


@dataclass(frozen=True)
class Confirmed:
    """A value taken outside its plausible range on the person's confirmation."""

    field: str
    value: float
    ranges: Ranges


@dataclass(frozen=True)
class Judged:
    """The refusals (FastAPI's error dicts, loc under ``body``) and the confirmed values."""

    errors: list[dict[str, Any]]
    confirmed: list[Confirmed]


def judged(values: Sequence[Value], confirmation: Confirmation | None) -> Judged:
    """Each value judged by its ranges: out of the instrument range is refused whatever is
    confirmed; out of the plausible range stands only with a confirmation."""
    confirms = confirmation is not None and confirmation.confirmed
    errors: list[dict[str, Any]] = []
    confirmed: list[Confirmed] = []
    for v in values:
        if v.ranges is None:
            continue
        verdict = judge(v.value, v.ranges)
        if verdict is Verdict.OK:
            continue
        if verdict is Verdict.IMPLAUSIBLE and confirms:
            confirmed.append(Confirmed(v.field, v.value, v.ranges))
            continue
        errors.append(
            {
                "type": verdict.value,
                "loc": ("body", *v.loc),
                "msg": refusal(verdict, v.ranges),
                "input": v.value,
                "ctx": v.ranges.as_json(),
            }
        )
    return Judged(errors, [] if errors else confirmed)

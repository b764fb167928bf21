"""Records as a reader sees them: an entry in one line, an amendment as what changed,
from what, by whom, when and why. Pure functions over the logbook's folded records.

People's words: each field by the label the floor's forms give it (``floor.forms``), a
number with its unit, a tag or an alarm by its name rather than its id, yes or no, and
times in the site's zone with its abbreviation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from dashboards.floor.forms import ENTRY_LOOKS, RESULT_LOOK, SAMPLE_LOOK, Look, label_of
from sitefile.ranges import span_text

# The fields that say most about an entry of each kind, in the order a reader wants them.
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "reading": ("instrument", "tag_id", "value", "unit", "notes"),
    "chemical_addition": ("chemical", "amount", "unit", "feed_point", "notes"),
    "process_adjustment": ("what", "from_value", "to_value", "unit", "reason"),
    "maintenance": ("equipment", "work", "description", "out_of_service"),
    "inspection": ("location", "condition", "finding", "action_needed"),
    "cleaning": ("what", "method", "notes"),
    "alarm_ack": ("event_id", "response"),
    "observation": ("text", "location"),
    "safety": ("category", "text"),
    "note": ("text",),
}
# Free text reads better without its field name.
UNNAMED = frozenset({"text", "description", "finding", "response"})
MAX_SUMMARY = 160
# A number and the unit the record gives it, shown together ("15 gal").
WITH_UNIT = frozenset({"value", "amount", "from_value", "to_value", "detection_limit"})
# The fields of a record the floor's forms do not offer (the page, the server or a desk
# fills them in), and those an amendment of a crew member changes.
RECORD_LABELS: dict[str, str] = {
    "occurred_at": "When it happened",
    "event_id": "Alarm",
    "sampled_at": "Sampled",
    "composite_start": "Composite from",
    "composite_end": "Composite to",
    "composite_kind": "Composite by",
    "analyzed_at": "Analyzed",
    "analyst_id": "Analyst",
    "analyst_name": "Analyst",
    "parameter_code": "Parameter code",
    "lab": "Lab",
    "shift_role": "Role on the shift",
    "arrived_at": "Arrived",
    "left_at": "Left",
}
LOOKS: dict[str, Look] = {**ENTRY_LOOKS, "sample": SAMPLE_LOOK, "result": RESULT_LOOK}


@dataclass(frozen=True, slots=True)
class Refs:
    """What records name by id, by name: tags (their description, else their name), alarms
    (the event's message) and people (an analyst)."""

    tags: Mapping[int, str]
    events: Mapping[int, str]
    people: Mapping[int, str]


NO_REFS = Refs({}, {}, {})


def referenced(records: Sequence[Mapping[str, Any]]) -> tuple[set[int], set[int]]:
    """The tag ids and event ids that entries (as now and as first recorded) name."""
    tags: set[int] = set()
    events: set[int] = set()
    for r in records:
        for data in (r.get("data"), (r.get("original") or {}).get("data")):
            if not isinstance(data, Mapping):
                continue
            if isinstance(data.get("tag_id"), int):
                tags.add(data["tag_id"])
            if isinstance(data.get("event_id"), int):
                events.add(data["event_id"])
    return tags, events


def field_label(what: str, name: str) -> str:
    """A field's label: the floor form's for an entry kind, a sample or a result (``what``),
    else the record's own, else the name in words."""
    look = LOOKS.get(what)
    found = next((f.label for f in look.fields if f.name == name), None) if look else None
    return found or RECORD_LABELS.get(name) or label_of(name)


def field_text(
    what: str, name: str, value: Any, refs: Refs = NO_REFS, tz: tzinfo | None = None
) -> str:
    """A field's value in words: a tag or an alarm by name, a closed set's value as the form
    words it, anything else as ``show_value``."""
    if name == "tag_id" and isinstance(value, int):
        return refs.tags.get(value, f"tag {value}")
    if name == "event_id" and isinstance(value, int):
        return refs.events.get(value, f"alarm {value}")
    if name == "analyst_id" and isinstance(value, int):
        return refs.people.get(value, f"person {value}")
    look = LOOKS.get(what)
    texts = next((f.texts for f in look.fields if f.name == name), {}) if look else {}
    if isinstance(value, str) and value in texts:
        return texts[value]
    return show_value(value, tz)


def _with_unit(name: str, text: str, unit: Any) -> str:
    return f"{text} {unit}" if name in WITH_UNIT and unit and text != "—" else text


def entry_fields(
    kind: str,
    data: Mapping[str, Any],
    refs: Refs = NO_REFS,
    empty: bool = False,
    tz: tzinfo | None = None,
) -> list[tuple[str, str, str]]:
    """An entry's fields (or a sample's, a result's: ``kind`` "sample", "result") as (name,
    label, value in words): the kind's main fields first, then any others; a number with
    its unit, the unit then not again. Empty fields are left out unless ``empty``."""
    given = [f for f in data if empty or data.get(f) not in (None, "")]
    first = [f for f in SUMMARY_FIELDS.get(kind, ()) if f in given]
    order = first + [f for f in given if f not in first]
    unit = data.get("unit")
    merged = bool(unit) and any(data.get(f) not in (None, "") for f in WITH_UNIT)
    return [
        (f, field_label(kind, f), _with_unit(f, field_text(kind, f, data[f], refs, tz), unit))
        for f in order
        if not (merged and f == "unit")
    ]


def pick_site(
    sites: list[dict[str, Any]], wanted: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The site asked for (by code), else the first with a compliance profile, else the first;
    and a message when the one asked for does not exist."""
    if wanted:
        found = next((s for s in sites if s["code"] == wanted), None)
        if found:
            return found, None
        problem = f"No facility with code “{wanted}”."
    else:
        problem = None
    default = next((s for s in sites if s["has_profile"]), sites[0] if sites else None)
    return default, problem


def entry_href(url_for_zero: str) -> str:
    """The entry page's URL up to the id, from its URL for entry 0: one ``url_for`` a page
    rather than one a link (each costs about half a millisecond)."""
    if not url_for_zero.endswith("/0"):
        raise ValueError(f"not an entry URL for id 0: {url_for_zero!r}")
    return url_for_zero[:-1]


def kind_label(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


def show_value(value: Any, tz: tzinfo | None = None) -> str:
    """A field's value for reading: times in the site's zone, nothing as an em dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, str) and tz is not None and len(value) >= 19 and value[10] == "T":
        try:
            return show_value(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {show_value(v, tz)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v, tz) for v in value)
    return str(value)


def entry_summary(
    kind: str, data: Mapping[str, Any], refs: Refs = NO_REFS, tz: tzinfo | None = None
) -> str:
    """One line: the kind's main fields first, then any others, cut at a readable length."""
    parts = [
        value if name in UNNAMED else f"{label}: {value}"
        for name, label, value in entry_fields(kind, data, refs, tz=tz)
    ]
    text = "; ".join(parts) or "(no details)"
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AmendmentView:
    id: int
    at: datetime
    by: str
    reason: str
    after_signing: bool
    changes: tuple[Change, ...]


def changes_of(
    changes: Mapping[str, Any],
    previous: Mapping[str, Any],
    tz: tzinfo | None = None,
    what: str = "",
    refs: Refs = NO_REFS,
    record: Mapping[str, Any] | None = None,
) -> tuple[Change, ...]:
    """Each changed field by its label with its value before and after, in words; an entry's
    ``data`` field by field. ``what`` is the entry's kind, or "sample", "result", "crew";
    ``record`` the record as it was before (for the unit of a number that changed alone)."""

    def text(name: str, value: Any, unit: Any) -> str:
        return _with_unit(name, field_text(what, name, value, refs, tz), unit)

    def pairs(
        new: Mapping[str, Any], old: Mapping[str, Any], was: Mapping[str, Any]
    ) -> list[Change]:
        # A value is in the unit of its own record: the one before, or the one it became.
        before_unit = old.get("unit", was.get("unit"))
        after_unit = new.get("unit", before_unit)
        return [
            Change(field_label(what, k), text(k, old.get(k), before_unit), text(k, v, after_unit))
            for k, v in new.items()
        ]

    was = record or {}
    out = []
    for name, value in changes.items():
        if name == "data" and isinstance(value, Mapping):
            out += pairs(value, previous.get("data") or {}, was.get("data") or {})
        else:
            unit = {"unit": changes["unit"]} if "unit" in changes else {}
            out += pairs({name: value, **unit}, previous, was)[:1]
    return tuple(out)


def _local(at: datetime | str, tz: tzinfo) -> datetime:
    """A record's time (as the logbook's JSON may give it, text) in the site's zone."""
    return (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(tz)


def _name(names: Mapping[int, str], person: int) -> str:
    return names.get(int(person), f"person {int(person)}")


def _amended(record: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The record with an amendment's changes applied (an entry's data field by field)."""
    out = {**record, **changes}
    if isinstance(changes.get("data"), Mapping):
        out["data"] = {**(record.get("data") or {}), **changes["data"]}
    return out


def amendment_views(
    history: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    tz: tzinfo,
    what: str = "",
    original: Mapping[str, Any] | None = None,
    refs: Refs = NO_REFS,
) -> list[AmendmentView]:
    """The logbook's ``history`` of a record (``logbook.amend.fold``), oldest first; ``what``
    as for ``changes_of``, ``original`` the record as first recorded."""
    out = []
    record: Mapping[str, Any] = original or {}
    for h in history:
        out.append(
            AmendmentView(
                id=int(h["id"]),
                at=_local(h["amended_at"], tz),
                by=_name(names, h["amended_by"]),
                reason=str(h["reason"]),
                after_signing=bool(h.get("after_signing")),
                changes=changes_of(h["changes"], h.get("previous") or {}, tz, what, refs, record),
            )
        )
        record = _amended(record, h["changes"])
    return out


@dataclass(frozen=True, slots=True)
class ConfirmationView:
    id: int
    value: str
    of: str
    expected: str
    by: str
    at: datetime
    reason: str
    amendment_id: int | None


def confirmation_views(
    confirmations: Sequence[Mapping[str, Any]], names: Mapping[int, str], tz: tzinfo
) -> list[ConfirmationView]:
    """A record's values confirmed outside their plausible range (its ``plausibility``),
    in words: the value, what it is of, the range expected, who confirmed it, when, why."""
    out = []
    for c in confirmations:
        low, high = c["plausible"]
        out.append(
            ConfirmationView(
                id=int(c["id"]),
                value=f"{show_value(c['value'])} {c['unit']}".strip(),
                of=str(c["of"]),
                expected=span_text((low, high), str(c["unit"])),
                by=_name(names, c["confirmed_by"]),
                at=_local(c["confirmed_at"], tz),
                reason=str(c["reason"]),
                amendment_id=c.get("amendment_id"),
            )
        )
    return out

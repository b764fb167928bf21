"""Records in people's words, for the floor's shift log, review and verification: pure.

An entry's fields come out as its form labels them, in the form's order: a tag by its
name on the tiles, a choice by its text, a yes/no as "yes", a number with its unit, an
acknowledged alarm by its message; empty fields and database keys never show.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from dashboards.floor.forms import FORMS
from dashboards.floor.view import unit_text

# A crew member's shift role, in words.
ROLE_WORDS: dict[str, str] = {
    "drc": "In charge (DRC)",
    "chief": "Chief operator",
    "assistant_chief": "Assistant chief",
    "shift_operator": "Shift operator",
    "operator": "Operator",
    "trainee": "Trainee",
}
# Fields shown with the unit the entry gives.
WITH_UNIT = frozenset({"value", "amount", "from_value", "to_value"})


def number_text(value: float | int) -> str:
    """A typed number as typed: no trailing zeros, no exponent (12.0 -> "12")."""
    try:
        exact = Decimal(repr(value)).normalize()
    except InvalidOperation:
        return str(value)
    text = format(exact, "f")
    return "0" if text in ("-0", "") else text


def value_text(spec: Mapping[str, Any], value: Any, names: Mapping[str, Mapping[Any, str]]) -> str:
    """One field's value in words ("" for nothing worth showing)."""
    if value is None or value == "" or value is False:
        return ""
    if value is True:
        return "yes"
    options = spec.get("options")
    if isinstance(options, str):
        return names.get(options, {}).get(value, "") or "one no longer on record"
    if isinstance(options, list):
        return next((text for v, text in options if v == str(value)), str(value))
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


def entry_lines(
    kind: str, data: Mapping[str, Any], names: Mapping[str, Mapping[Any, str]]
) -> list[tuple[str, str]]:
    """(label, text) of an entry's fields, in its form's order. ``names`` words what the
    data points at: ``{"tags": {tag id: name}, "alarms": {event id: message}}``."""
    form = FORMS.get(kind)
    if form is None:
        return [(key.replace("_", " ").capitalize(), str(v)) for key, v in data.items() if v]
    unit = unit_text(str(data.get("unit") or ""))
    lines = []
    for spec in form["fields"]:
        name = spec["name"]
        if name == "unit" and any(data.get(f) not in (None, "") for f in WITH_UNIT):
            continue
        text = value_text(spec, data.get(name), names)
        if text and name in WITH_UNIT and unit:
            text = f"{text} {unit}"
        if text:
            # The one text of a form named by it ("Note") needs no label.
            lines.append(("" if spec["label"] == form["title"] else spec["label"], text))
    if kind == "alarm_ack" and data.get("event_id") is not None:
        message = names.get("alarms", {}).get(data["event_id"], "")
        lines.insert(0, ("Alarm", message or "an alarm no longer on record"))
    return lines


def summary(lines: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """The lines on one line: "Chemical: NaOCl · Amount: 12 gal"."""
    return " · ".join(f"{label}: {text}" if label else text for label, text in lines)


def changed_lines(
    kind: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    names: Mapping[str, Mapping[Any, str]],
) -> list[str]:
    """What an amendment changed in an entry's data, field by field in words:
    "Amount: 12 gal → 15 gal" ("(none)" for an empty side)."""
    old = {label or "Text": text for label, text in entry_lines(kind, before, names)}
    new = {label or "Text": text for label, text in entry_lines(kind, after, names)}
    out = []
    for label in list(dict.fromkeys([*old, *new])):
        if old.get(label) != new.get(label):
            out.append(f"{label}: {old.get(label) or '(none)'} → {new.get(label) or '(none)'}")
    return out

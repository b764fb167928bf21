"""Records as a reader sees them: an entry in one line, an amendment as what changed,
from what, by whom, when and why. Pure functions over the logbook's folded records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

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
        return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M:%S %z")
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


def entry_summary(kind: str, data: Mapping[str, Any]) -> str:
    """One line: the kind's main fields first, then any others, cut at a readable length."""
    first = [f for f in SUMMARY_FIELDS.get(kind, ()) if data.get(f) not in (None, "")]
    rest = [f for f in data if f not in first and data.get(f) not in (None, "")]
    parts = []
    for f in first + rest:
        value = show_value(data[f])
        parts.append(value if f in UNNAMED else f"{f}: {value}")
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
    changes: Mapping[str, Any], previous: Mapping[str, Any], tz: tzinfo | None = None
) -> tuple[Change, ...]:
    """Each changed field with its value before and after; an entry's ``data`` field by field."""
    out = []
    for name, value in changes.items():
        if name == "data" and isinstance(value, Mapping):
            before = previous.get("data") or {}
            for k, v in value.items():
                out.append(Change(f"data.{k}", show_value(before.get(k), tz), show_value(v, tz)))
        else:
            out.append(Change(name, show_value(previous.get(name), tz), show_value(value, tz)))
    return tuple(out)


def _local(at: datetime | str, tz: tzinfo) -> datetime:
    """A record's time (as the logbook's JSON may give it, text) in the site's zone."""
    return (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(tz)


def _name(names: Mapping[int, str], person: int) -> str:
    return names.get(int(person), f"person {int(person)}")


def amendment_views(
    history: Sequence[Mapping[str, Any]], names: Mapping[int, str], tz: tzinfo
) -> list[AmendmentView]:
    """The logbook's ``history`` of a record (``logbook.amend.fold``), oldest first."""
    out = []
    for h in history:
        out.append(
            AmendmentView(
                id=int(h["id"]),
                at=_local(h["amended_at"], tz),
                by=_name(names, h["amended_by"]),
                reason=str(h["reason"]),
                after_signing=bool(h.get("after_signing")),
                changes=changes_of(h["changes"], h.get("previous") or {}, tz),
            )
        )
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

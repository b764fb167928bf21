"""The shift log on the floor: a shift's entries newest first, each with who recorded it
and when, whether it waits for verification, and its amendments in words. Pure: the
entries come as ``logbook.store`` reads them (amendments folded in, with their history).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from dashboards.floor.forms import KIND_LABELS
from dashboards.floor.words import changed_lines, entry_lines, number_text, summary


@dataclass(frozen=True)
class Change:
    """One amendment: when, by whom, why, and what it changed."""

    when: str
    who: str
    reason: str
    what: tuple[str, ...]
    after_signing: bool


@dataclass(frozen=True)
class LogRow:
    id: int
    kind: str
    title: str  # the kind in a few words
    time: str  # when it happened, on the plant's clock
    recorded: str  # when and by whom it was recorded, if later than it happened
    who: str
    lines: tuple[tuple[str, str], ...]
    summary: str  # the lines on one line
    awaiting: bool  # a trainee's entry not verified yet
    verified_by: str  # who verified it, if someone did
    verified_before_change: bool  # and it was amended since: they verified what it was
    changes: tuple[Change, ...]
    data: Mapping[str, Any]  # its current fields, for the amend form
    confirmed: str = ""  # why a value outside its plausible range is right, if it is


def _clock(at: datetime, zone: tzinfo, today: datetime) -> str:
    local = at.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%d %b %H:%M}"


def _changes(
    entry: Mapping[str, Any],
    people: Mapping[int, str],
    names: Mapping[str, Mapping[Any, str]],
    zone: tzinfo,
    today: datetime,
) -> tuple[Change, ...]:
    original = entry.get("original") or {"data": entry["data"], "occurred_at": entry["occurred_at"]}
    data = dict(original["data"])
    out = []
    for amendment in entry.get("history") or ():
        changes = amendment["changes"]
        after = {**data, **(changes.get("data") or {})}
        what = changed_lines(entry["kind"], data, after, names)
        if "occurred_at" in changes:
            moved = datetime.fromisoformat(str(changes["occurred_at"]))
            was = amendment["previous"].get("occurred_at")
            before = _clock(was, zone, today) if isinstance(was, datetime) else "?"
            what.append(f"Time: {before} → {_clock(moved, zone, today)}")
        out.append(
            Change(
                when=_clock(amendment["amended_at"], zone, today),
                who=people.get(amendment["amended_by"], "someone no longer on record"),
                reason=amendment["reason"],
                what=tuple(what),
                after_signing=bool(amendment.get("after_signing")),
            )
        )
        data = after
    return tuple(out)


def confirmed(plausibility: Any) -> str:
    """The values an entry took outside their plausible range, each with why (the
    logbook's ``plausibility``: a confirmation, or a list of them)."""
    found = [plausibility] if isinstance(plausibility, Mapping) else plausibility or []
    said = []
    for c in found:
        if not isinstance(c, Mapping) or not c.get("reason"):
            continue
        value = f"{number_text(c['value'])} {c.get('unit', '')}".strip() if "value" in c else ""
        span = c.get("plausible")
        expected = f" ({_span(span)} expected)" if span else ""
        said.append(f"{value}{expected}: {c['reason']}" if value else str(c["reason"]))
    return "; ".join(said)


def _span(span: Sequence[Any]) -> str:
    low, high = span
    if low is not None and high is not None:
        return f"{number_text(low)} to {number_text(high)}"
    return f"{number_text(low)} or more" if low is not None else f"{number_text(high)} or less"


def log_rows(
    entries: Sequence[Mapping[str, Any]],
    people: Mapping[int, str],
    names: Mapping[str, Mapping[Any, str]],
    zone: tzinfo,
    today: datetime,
) -> list[LogRow]:
    """The entries newest first (by when they happened, then by when recorded)."""
    rows = []
    ordered = sorted(entries, key=lambda e: (e["occurred_at"], e["id"]), reverse=True)
    for e in ordered:
        who = people.get(e["recorded_by"], "someone no longer on record")
        late = (e["recorded_at"] - e["occurred_at"]).total_seconds() > 120
        cs = e.get("countersignature")
        lines = tuple(entry_lines(e["kind"], e["data"], names))
        history = e.get("history") or ()
        plausibility = e.get("plausibility")
        rows.append(
            LogRow(
                id=e["id"],
                kind=e["kind"],
                title=KIND_LABELS.get(e["kind"], e["kind"].replace("_", " ").capitalize()),
                time=_clock(e["occurred_at"], zone, today),
                recorded=f"recorded {_clock(e['recorded_at'], zone, today)}" if late else "",
                who=who,
                lines=lines,
                summary=summary(lines),
                awaiting=bool(e.get("needs_countersignature")),
                verified_by=people.get(cs["person_id"], "") if cs else "",
                verified_before_change=bool(
                    cs and any(a["amended_at"] > cs["signed_at"] for a in history)
                ),
                changes=_changes(e, people, names, zone, today),
                data=e["data"],
                confirmed=confirmed(plausibility),
            )
        )
    return rows


def people_in(entries: Sequence[Mapping[str, Any]]) -> set[int]:
    """Everyone the log names: authors, verifiers, amenders."""
    ids = set()
    for e in entries:
        ids.add(e["recorded_by"])
        if e.get("countersignature"):
            ids.add(e["countersignature"]["person_id"])
        ids.update(a["amended_by"] for a in e.get("history") or ())
    return ids

"""The engine's output and its JSON form (times in the facility's local time with offset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, NamedTuple

from compliance.timeutil import iso_local


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken, a warning, or a gap in the record, over [start, end] (an entry's
    finding spans its entries' instants).

    ``severity``: ``violation`` (a state's regulation), ``warning`` (a deadline ahead, hours
    not judged), ``policy`` (the site's competency policy), ``gap`` (no shift recorded).
    ``basis``: what it rests on, ``regulation``, ``site policy`` or ``record``.
    """

    rule: str
    severity: str
    start: datetime
    end: datetime
    operators: tuple[str, ...]
    entries: tuple[str, ...]
    message: str
    citation: str
    basis: str = "regulation"


@dataclass(frozen=True, slots=True)
class CoverageInterval:
    """A stretch in which nothing changes. ``drc``: who holds charge on site, as the rule
    pack says (the first of its ``charge_roles`` meeting the grade; if none does, every
    candidate; empty if no one who may hold charge is on site)."""

    start: datetime
    end: datetime
    shifts: tuple[str, ...]
    drc: tuple[str, ...]
    on_site: tuple[str, ...]
    certified_on_site: tuple[str, ...]


class EntryStamp(NamedTuple):
    """What the logbook keeps with an entry: who was certified on site, and who was in DRC.

    A named tuple, not a dataclass: the engine makes one per entry (100,000 in a year).
    """

    id: str
    time: datetime
    certified_on_duty: tuple[str, ...]
    drc: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassSpan:
    start: datetime
    end: datetime
    facility_class: str | None
    required: dict[str, str]
    rule_set: str | None  # its title; None before any rule set on record
    rule_set_version: str | None = None
    rule_set_effective_from: date | None = None
    # The version on record, and that later amendments are not (``RuleSet.statement``).
    rule_set_statement: str | None = None


@dataclass(frozen=True)
class Report:
    rules: str
    facility: str
    timezone: str
    tz: tzinfo
    period_start: datetime
    period_end: datetime
    facility_class: str | None
    required: dict[str, str]
    class_spans: tuple[ClassSpan, ...]
    coverage: tuple[CoverageInterval, ...]
    findings: tuple[Finding, ...]
    entries: tuple[EntryStamp, ...]
    entries_outside_period: tuple[str, ...] = field(default=())

    def to_dict(self, entries: bool = True) -> dict[str, Any]:
        """The JSON form; ``entries=False`` leaves out the per-entry stamps (a year has
        100,000, and the API keeps them with the entries instead)."""
        tz = self.tz

        def t(x: datetime) -> str:
            return iso_local(x, tz)

        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        return {
            "rules": self.rules,
            "facility": self.facility,
            "timezone": self.timezone,
            "period": {"start": t(self.period_start), "end": t(self.period_end)},
            "facility_class": self.facility_class,
            "required": self.required,
            "class_periods": [
                {
                    "start": t(s.start),
                    "end": t(s.end),
                    "facility_class": s.facility_class,
                    "required": s.required,
                    "rule_set": s.rule_set,
                    "rule_set_version": s.rule_set_version,
                    "rule_set_effective_from": s.rule_set_effective_from.isoformat()
                    if s.rule_set_effective_from
                    else None,
                    "rule_set_statement": s.rule_set_statement,
                }
                for s in self.class_spans
            ],
            "summary": {
                "violations": sum(1 for f in self.findings if f.severity == "violation"),
                "warnings": sum(1 for f in self.findings if f.severity == "warning"),
                "policy": sum(1 for f in self.findings if f.severity == "policy"),
                "gaps": sum(1 for f in self.findings if f.severity == "gap"),
                "by_rule": dict(sorted(counts.items())),
            },
            "coverage": [
                {
                    "start": t(c.start),
                    "end": t(c.end),
                    "shifts": list(c.shifts),
                    "drc": list(c.drc),
                    "on_site": list(c.on_site),
                    "certified_on_site": list(c.certified_on_site),
                }
                for c in self.coverage
            ],
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity,
                    "start": t(f.start),
                    "end": t(f.end),
                    "operators": list(f.operators),
                    "entries": list(f.entries),
                    "message": f.message,
                    "citation": f.citation,
                    "basis": f.basis,
                }
                for f in self.findings
            ],
            "entries": [
                {
                    "id": e.id,
                    # Inline rather than t(): this runs once per entry.
                    "time": e.time.astimezone(tz).isoformat(),
                    "certified_on_duty": list(e.certified_on_duty),
                    "drc": list(e.drc),
                }
                for e in (self.entries if entries else ())
            ],
            "entries_outside_period": list(self.entries_outside_period),
        }

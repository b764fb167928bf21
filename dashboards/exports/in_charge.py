"""Who was in direct responsible charge of each shift of each plant day, and with what
certificate: pure functions of the compliance engine's coverage (or of the logbook's crews)
and the certificates in force.

Who held charge is the compliance engine's reading of the crews under the state's rule
(``CoverageInterval.drc``: the first on site of the rule pack's charge roles who meets the
grade, so a shift operator holds charge when no DRC is on site); a stretch of a shift with
no one who may hold charge is reported as such. A facility without a compliance profile
has no class to judge against; its report falls back to the crews' DRC role: a DRC stint
is the crew row with role ``drc`` (after crew amendments), on site from ``arrived_at`` to
``left_at`` or the shift's end, and a shift with no DRC on record says so.

A shift that spans midnight (a night shift) appears on both plant days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance.grades import GradeError, parse_grade
from compliance.report import CoverageInterval, Finding
from compliance.rulesets import DRC_UNQUALIFIED
from dashboards.exports.mor import InCharge
from dashboards.exports.plant_day import day_bounds

NO_DRC = "no DRC recorded"
NO_CERTIFICATE = "no certificate in force"
NO_ONE = "no one in charge"
UNQUALIFIED = "did not meet the grade required (drc-unqualified)"


@dataclass(frozen=True)
class ShiftSpan:
    id: int
    label: str
    start: datetime
    end: datetime  # closure, or the export time while open


@dataclass(frozen=True)
class Stint:
    shift_id: int
    person_id: int
    name: str
    role: str
    arrived: datetime
    left: datetime | None


@dataclass(frozen=True)
class Certificate:
    person_id: int
    state: str
    category: str
    grade: str
    number: str
    kind: str
    issued: date
    expires: date  # the last local day in effect

    def describe(self) -> str:
        kind = "" if self.kind == "full" else f" ({self.kind})"
        number = f" #{self.number}" if self.number else ""
        return f"{self.state} {self.category} Grade {self.grade}{kind}{number}"


def _rank(c: Certificate) -> tuple[int, int, date]:
    try:
        level = parse_grade(c.grade).level
    except GradeError:
        level = 0
    return (c.kind != "restricted", level, c.expires)


def best(certs: Sequence[Certificate], person_id: int, day: date) -> Certificate | None:
    """The highest-grade certificate of a person in effect on a local day."""
    valid = [c for c in certs if c.person_id == person_id and c.issued <= day <= c.expires]
    return max(valid, key=_rank) if valid else None


def best_certificate(certs: Sequence[Certificate], person_id: int, day: date) -> str:
    """The highest-grade certificate of a person in effect on a local day, as text."""
    found = best(certs, person_id, day)
    return found.describe() if found else NO_CERTIFICATE


def _person(
    title: str, person_id: int, name: str, certs: Sequence[Certificate], day: date, note: str = ""
) -> InCharge:
    found = best(certs, person_id, day)
    return InCharge(
        title,
        name,
        found.describe() if found else NO_CERTIFICATE,
        found.grade if found else "",
        note,
    )


def _shift_title(shift: ShiftSpan, tz: ZoneInfo) -> str:
    start, end = shift.start.astimezone(tz), shift.end.astimezone(tz)
    name = shift.label or f"shift {shift.id}"
    return f"{name} {start:%H:%M}-{end:%H:%M}"


def in_charge_by_day(
    shifts: Sequence[ShiftSpan],
    stints: Sequence[Stint],
    certificates: Sequence[Certificate],
    days: Sequence[date],
    tz: ZoneInfo,
) -> dict[date, list[InCharge]]:
    drc_of: dict[int, list[Stint]] = defaultdict(list)
    for s in stints:
        if s.role == "drc":
            drc_of[s.shift_id].append(s)
    out: dict[date, list[InCharge]] = {}
    for day in days:
        lo, hi = day_bounds(day, tz)
        rows: list[InCharge] = []
        for shift in sorted(shifts, key=lambda s: (s.start, s.id)):
            if not (shift.start < hi and shift.end > lo):
                continue
            title = _shift_title(shift, tz)
            seen: set[int] = set()
            for stint in sorted(drc_of[shift.id], key=lambda s: (s.arrived, s.person_id)):
                until = min(stint.left or shift.end, shift.end)
                if not (stint.arrived < hi and until > lo) or stint.person_id in seen:
                    continue
                seen.add(stint.person_id)
                rows.append(_person(title, stint.person_id, stint.name, certificates, day))
            if not seen:
                rows.append(InCharge(title, NO_DRC, ""))
        out[day] = rows
    return out


def drc_hours(
    shifts: Sequence[ShiftSpan], stints: Sequence[Stint], lo: datetime, hi: datetime
) -> dict[int, float]:
    """Hours each person was in DRC within [lo, hi)."""
    ends = {s.id: s.end for s in shifts}
    out: dict[int, float] = defaultdict(float)
    for s in stints:
        if s.role != "drc" or s.shift_id not in ends:
            continue
        start = max(s.arrived, lo)
        end = min(s.left or ends[s.shift_id], ends[s.shift_id], hi)
        if end > start:
            out[s.person_id] += (end - start) / timedelta(hours=1)
    return dict(out)


def _hhmm(t: datetime, tz: ZoneInfo) -> str:
    return f"{t.astimezone(tz):%H:%M}"


def in_charge_from_coverage(
    coverage: Sequence[CoverageInterval],
    findings: Sequence[Finding],
    shifts: Sequence[ShiftSpan],
    names: Mapping[int, str],
    certificates: Sequence[Certificate],
    days: Sequence[date],
    tz: ZoneInfo,
) -> dict[date, list[InCharge]]:
    """Per plant day, per shift overlapping it: who held charge during the shift's hours of
    the day (in the order they took it) and the stretches no one did, from the engine's
    coverage of the period (intervals name shifts and people by id, as strings)."""
    ordered = sorted(coverage, key=lambda c: c.start)
    unqualified = [f for f in findings if f.rule == DRC_UNQUALIFIED]
    out: dict[date, list[InCharge]] = {}
    for day in days:
        lo, hi = day_bounds(day, tz)
        rows: list[InCharge] = []
        for shift in sorted(shifts, key=lambda s: (s.start, s.id)):
            start, end = max(shift.start, lo), min(shift.end, hi)
            if start >= end:
                continue
            title = _shift_title(shift, tz)
            held: dict[str, str] = {}
            gaps: list[list[datetime]] = []
            for c in ordered:
                if c.end <= start or c.start >= end or str(shift.id) not in c.shifts:
                    continue
                a, b = max(c.start, start), min(c.end, end)
                for op in c.drc:
                    late = any(op in f.operators and f.start < b and a < f.end for f in unqualified)
                    if late or op not in held:
                        held[op] = UNQUALIFIED if late else held.get(op, "")
                if not c.drc:
                    if gaps and gaps[-1][1] == a:
                        gaps[-1][1] = b
                    else:
                        gaps.append([a, b])
            for op, note in held.items():
                pid = int(op)
                name = names.get(pid, f"person {op}")
                rows.append(_person(title, pid, name, certificates, day, note))
            for a, b in gaps:
                rows.append(InCharge(title, f"{NO_ONE} {_hhmm(a, tz)}-{_hhmm(b, tz)}", ""))
        out[day] = rows
    return out


def charge_hours(
    coverage: Sequence[CoverageInterval], lo: datetime, hi: datetime
) -> dict[int, float]:
    """Hours each person held charge within [lo, hi), from the engine's coverage."""
    out: dict[int, float] = defaultdict(float)
    for c in coverage:
        start, end = max(c.start, lo), min(c.end, hi)
        if end > start:
            for op in c.drc:
                out[int(op)] += (end - start) / timedelta(hours=1)
    return dict(out)

"""Who was in direct responsible charge of each shift of each plant day, and with what
certificate: pure functions of the logbook's shifts and crews and the certificates in force.

A shift that spans midnight (a night shift) appears on both plant days. A DRC stint is
the crew row with role ``drc`` (after crew amendments), on site from ``arrived_at`` to
``left_at`` or the shift's end. A shift with no DRC on record says so rather than
leaving the row empty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance.grades import GradeError, parse_grade
from dashboards.exports.mor import InCharge
from dashboards.exports.plant_day import day_bounds

NO_DRC = "no DRC recorded"
NO_CERTIFICATE = "no certificate in force"


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


def best_certificate(certs: Sequence[Certificate], person_id: int, day: date) -> str:
    """The highest-grade certificate of a person in effect on a local day, as text."""
    valid = [c for c in certs if c.person_id == person_id and c.issued <= day <= c.expires]
    if not valid:
        return NO_CERTIFICATE
    return max(valid, key=_rank).describe()


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
                cert = best_certificate(certificates, stint.person_id, day)
                rows.append(InCharge(title, stint.name, cert))
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

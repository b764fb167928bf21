"""The chief operator's month of DRC coverage as day rows: pure functions, no I/O.

A row is a plant day, local midnight to local midnight in the facility's zone, so it is
23 or 25 hours long on the days the clocks change. Positions are percentages of the
row's own length: on a 25 h day, local noon sits at 13/25 of the row, not at half.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance.report import CoverageInterval, Finding
from dashboards.exports.plant_day import day_bounds

# Warnings about a person's records rather than a moment of a shift: listed with the
# certificates, not drawn on the timeline (they would cover whole months). The record's gaps
# (no shift recorded) are the lane's "off" spans already.
OFF_TIMELINE_RULES = frozenset({"certificate-expiring", "renewal-training", "no-shift-recorded"})
# Local hours that get a faint line across every row.
TICK_EVERY_H = 6

Kind = str  # "drc" (someone in DRC on site), "gap" (a shift with no DRC), "off", "future"


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of one day's coverage lane within which nothing shown changes."""

    start: datetime
    end: datetime
    left: float  # percent of the day
    width: float
    kind: Kind
    drc: tuple[str, ...]  # names
    on_site: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A finding's part within one day (an instant finding has width 0)."""

    finding: int  # index in the report's findings
    rule: str
    severity: str
    start: datetime
    end: datetime
    left: float
    width: float


@dataclass(frozen=True, slots=True)
class Tick:
    left: float
    label: str  # local hour, "06"


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    start: datetime  # UTC
    end: datetime
    hours: float
    spans: tuple[Span, ...]
    marks: tuple[Mark, ...]
    ticks: tuple[Tick, ...]
    status: str  # "violation", "warning", "ok", "off" (no shift), "future"

    @property
    def clock_change(self) -> bool:
        return self.hours != 24


@dataclass(frozen=True, slots=True)
class FindingView:
    index: int
    rule: str
    severity: str
    start: datetime  # local
    end: datetime
    duration: str
    people: tuple[tuple[str, str], ...]  # (person id, name)
    on_site: tuple[str, ...]  # names of everyone on site at some moment of the finding
    entries: tuple[int, ...]
    message: str
    citation: str
    on_timeline: bool
    basis: str = "regulation"
    # Samples and results the finding names (not logbook entries): "sample 12", "result 3".
    other_records: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return f"f-{self.index}"

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS.get(self.severity, self.severity)

    @property
    def basis_text(self) -> str:
        return basis_text(self.severity, self.basis, self.citation)


# A finding's badge: a site policy's is never called a violation.
SEVERITY_LABELS = {"policy": "site policy", "gap": "no record"}


def basis_text(severity: str, basis: str, citation: str) -> str:
    """What a finding rests on, as the chief reads it: a regulation's violation or warning
    under the cited rule; the site's competency policy, never a violation of law."""
    if basis == "site policy":
        return "Site policy (competency framework), not a violation of law"
    if basis == "record":
        return "The record: no shift recorded, nothing judged"
    if severity == "violation":
        return f"Violation of {citation}"
    return f"Warning under {citation}" if citation else "Warning"


def _pct(t: datetime, start: datetime, length_s: float) -> float:
    return round(100.0 * (t - start).total_seconds() / length_s, 3)


def _names(ids: Iterable[str], names: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(names.get(i, f"person {i}") for i in ids)


def _ticks(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[Tick, ...]:
    """Lines at local hours 6, 12, 18 (and whichever of them a clock change skips is absent)."""
    length = (end - start).total_seconds()
    out = []
    t = start + timedelta(hours=1)
    while t < end:
        local = t.astimezone(tz)
        if local.minute == 0 and local.hour % TICK_EVERY_H == 0:
            out.append(Tick(_pct(t, start, length), f"{local.hour:02d}"))
        t += timedelta(hours=1)
    return tuple(out)


def _spans(
    start: datetime,
    end: datetime,
    coverage: Sequence[CoverageInterval],
    names: Mapping[str, str],
    now: datetime | None,
) -> tuple[Span, ...]:
    length = (end - start).total_seconds()
    pieces: list[tuple[datetime, datetime, Kind, tuple[str, ...], tuple[str, ...]]] = []
    cursor = start
    for c in coverage:
        a, b = max(c.start, start), min(c.end, end)
        if a >= b:
            continue
        if a > cursor:
            pieces.append((cursor, a, "off", (), ()))
        if not c.shifts:
            kind: Kind = "off"
        else:
            kind = "drc" if c.drc else "gap"
        pieces.append((a, b, kind, _names(c.drc, names), _names(c.on_site, names)))
        cursor = b
    if cursor < end:
        pieces.append((cursor, end, "off", (), ()))
    if now is not None:
        cut: list[tuple[datetime, datetime, Kind, tuple[str, ...], tuple[str, ...]]] = []
        for a, b, kind, drc, on in pieces:
            if b <= now:
                cut.append((a, b, kind, drc, on))
            elif a >= now:
                cut.append((a, b, "future", (), ()))
            else:
                cut += [(a, now, kind, drc, on), (now, b, "future", (), ())]
        pieces = cut
    merged: list[tuple[datetime, datetime, Kind, tuple[str, ...], tuple[str, ...]]] = []
    for piece in pieces:
        if merged and merged[-1][2:] == piece[2:]:
            merged[-1] = (merged[-1][0], piece[1], *piece[2:])
        else:
            merged.append(piece)
    out = []
    for a, b, kind, drc, on in merged:
        left = _pct(a, start, length)
        out.append(Span(a, b, left, round(_pct(b, start, length) - left, 3), kind, drc, on))
    return tuple(out)


def _marks(start: datetime, end: datetime, findings: Sequence[Finding]) -> tuple[Mark, ...]:
    length = (end - start).total_seconds()
    out = []
    for i, f in enumerate(findings):
        if f.rule in OFF_TIMELINE_RULES:
            continue
        if f.end > f.start:
            if f.end <= start or f.start >= end:
                continue
        elif not start <= f.start < end:
            continue
        a, b = max(f.start, start), min(f.end, end)
        left = _pct(a, start, length)
        out.append(Mark(i, f.rule, f.severity, a, b, left, round(_pct(b, start, length) - left, 3)))
    return tuple(out)


def _status(spans: Sequence[Span], marks: Sequence[Mark]) -> str:
    if any(m.severity == "violation" for m in marks):
        return "violation"
    if marks:
        return "warning"
    if all(s.kind == "future" for s in spans):
        return "future"
    if all(s.kind in ("off", "future") for s in spans):
        return "off"
    return "ok"


def day_rows(
    days: Sequence[date],
    tz: ZoneInfo,
    coverage: Sequence[CoverageInterval],
    findings: Sequence[Finding],
    names: Mapping[str, str],
    now: datetime | None = None,
) -> list[DayRow]:
    """A row per plant day: the coverage lane (who was in DRC, gaps, no shift, not yet),
    the findings that touch the day, and hour lines; ``names`` maps person id to name."""
    rows = []
    for day in days:
        start, end = day_bounds(day, tz)
        spans = _spans(start, end, coverage, names, now)
        marks = _marks(start, end, findings)
        rows.append(
            DayRow(
                day=day,
                start=start,
                end=end,
                hours=(end - start).total_seconds() / 3600,
                spans=spans,
                marks=marks,
                ticks=_ticks(start, end, tz),
                status=_status(spans, marks),
            )
        )
    return rows


def duration_text(seconds: float) -> str:
    """``2 h 05 min``, ``45 min``, ``at one moment``."""
    minutes = round(seconds / 60)
    if minutes <= 0:
        return "at one moment"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{mins:02d} min" if (hours or days) else f"{mins} min")
    return " ".join(parts)


def _on_site(f: Finding, coverage: Sequence[CoverageInterval]) -> list[str]:
    seen: dict[str, None] = {}
    for c in coverage:
        overlaps = (
            c.start < f.end and f.start < c.end if f.end > f.start else c.start <= f.start < c.end
        )
        if overlaps:
            seen.update(dict.fromkeys(c.on_site))
    return list(seen)


def finding_views(
    findings: Sequence[Finding],
    names: Mapping[str, str],
    tz: ZoneInfo,
    coverage: Sequence[CoverageInterval] = (),
) -> list[FindingView]:
    """Each finding as the page lists it, in the report's order (its index is its anchor),
    with who was on site meanwhile (a ``drc-missing`` finding names no one itself)."""
    return [
        FindingView(
            index=i,
            rule=f.rule,
            severity=f.severity,
            start=f.start.astimezone(tz),
            end=f.end.astimezone(tz),
            duration=duration_text((f.end - f.start).total_seconds()),
            people=tuple((p, names.get(p, f"person {p}")) for p in f.operators),
            on_site=_names(
                _on_site(f, coverage) if f.rule not in OFF_TIMELINE_RULES else (), names
            ),
            entries=tuple(int(e) for e in f.entries if str(e).isdigit()),
            message=f.message,
            citation=f.citation,
            on_timeline=f.rule not in OFF_TIMELINE_RULES,
            basis=f.basis,
            other_records=tuple(
                str(e).replace("-", " ", 1) for e in f.entries if not str(e).isdigit()
            ),
        )
        for i, f in enumerate(findings)
    ]


def parse_month(text: str | None, today: date) -> tuple[int, int]:
    """``2026-03`` -> (2026, 3); None means this month. ValueError names what is wrong."""
    if not text:
        return today.year, today.month
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
    except ValueError:
        raise ValueError(f"month must be written YYYY-MM (got {text!r})") from None
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        raise ValueError(f"month must be written YYYY-MM (got {text!r})")
    return year, month


def shift_month(year: int, month: int, step: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + step
    return index // 12, index % 12 + 1


def month_period(
    first: datetime, last: datetime, now: datetime
) -> tuple[datetime, datetime] | None:
    """The part of [first, last) the report judges: up to now, none if it is all to come."""
    end = min(last, now.astimezone(UTC))
    return (first, end) if end > first else None


PALETTE_SIZE = 6


def drc_colours(rows: Sequence[DayRow]) -> dict[tuple[str, ...], int]:
    """A colour number per DRC (or pair of DRCs) in order of first appearance, so one person
    keeps one colour across the month; colours repeat after ``PALETTE_SIZE`` people."""
    out: dict[tuple[str, ...], int] = {}
    for row in rows:
        for s in row.spans:
            if s.kind == "drc" and s.drc not in out:
                out[s.drc] = len(out) % PALETTE_SIZE
    return out

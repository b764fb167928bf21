"""The shift report as it prints: pure, no I/O. Everything comes in as the logbook's read
side gives it (entries and samples with amendments folded in, crew, handoff notes,
signatures), with the compliance engine's coverage, the shift's alarms and its key tags'
readings summed up; out comes a :class:`ShiftReport` of texts, in the plant's local time,
that the PDF (``pdf.py``) and the HTML page (``shift_report.html``) lay out the same way.

Who held charge is the engine's reading of the crew under the state's rule (as the MOR's
exports give it): the stretches of the shift each person held it, and those no one did.
A facility without a compliance profile falls back to the crew's DRC role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from compliance.report import CoverageInterval
from dashboards.regulator.view import Refs, amendment_views, entry_summary, kind_label, show_value

NO_ONE = "no one held charge"
OPEN = "still open"


@dataclass(frozen=True, slots=True)
class Stretch:
    """Part of the shift: who held charge from ``start`` to ``end`` (nobody: ``people``
    empty)."""

    start: datetime
    end: datetime
    people: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChargeRow:
    who: str
    start: str
    end: str
    gap: bool


@dataclass(frozen=True, slots=True)
class CrewRow:
    name: str
    role: str
    arrived: str
    left: str
    amended: str


@dataclass(frozen=True, slots=True)
class EntryRow:
    time: str
    kind: str
    text: str
    author: str
    verification: str
    amendments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SampleRow:
    time: str
    point: str
    taken_by: str
    verification: str
    results: tuple[str, ...]
    amendments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlarmRow:
    time: str
    message: str
    severity: str
    cleared: str
    acknowledgements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoteRow:
    heading: str
    body: str
    acknowledgement: str


@dataclass(frozen=True, slots=True)
class SignatureRow:
    name: str
    at: str
    meaning: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ReadingRow:
    tag: str
    unit: str
    low: str
    mean: str
    high: str
    count: int


@dataclass(frozen=True, slots=True)
class ShiftReport:
    facility: str
    facility_code: str
    shift_id: int
    label: str
    plant_day: str
    opened: str
    closed: str
    status: str
    opened_by: str
    closed_by: str
    zone: str
    charge_basis: str
    charge: tuple[ChargeRow, ...]
    crew: tuple[CrewRow, ...]
    entries: tuple[EntryRow, ...]
    samples: tuple[SampleRow, ...]
    alarms: tuple[AlarmRow, ...]
    notes_out: tuple[NoteRow, ...]
    notes_in: tuple[NoteRow, ...]
    signatures: tuple[SignatureRow, ...]
    readings: tuple[ReadingRow, ...]
    readings_from: str
    generated: str

    @property
    def heading(self) -> str:
        """What every page says it is: facility, plant day and shift."""
        return f"{self.facility} ({self.facility_code}): {self.plant_day}, shift {self.title}"

    @property
    def title(self) -> str:
        return f"{self.label or 'unlabelled'} (#{self.shift_id})"


def stamp(at: datetime | str | None, tz: tzinfo) -> str:
    """A time on the plant's clock with its zone's abbreviation: 2026-03-02 14:05 MST."""
    if at is None:
        return ""
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{when.astimezone(tz):%Y-%m-%d %H:%M %Z}"


def clock(at: datetime | str | None, tz: tzinfo, day: date) -> str:
    """A time on the plant's clock, with its date only when not the shift's plant day."""
    if at is None:
        return ""
    local = (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(tz)
    return f"{local:%H:%M}" if local.date() == day else f"{local:%Y-%m-%d %H:%M}"


def stretches(
    coverage: Sequence[CoverageInterval], shift_id: int, start: datetime, end: datetime
) -> list[Stretch]:
    """Who held charge over the shift's [start, end), from the engine's coverage: the
    intervals naming the shift, cut to it, consecutive ones with the same people joined;
    a part of the shift no interval names is a stretch with no one."""
    out: list[Stretch] = []
    at = start
    for c in sorted(coverage, key=lambda c: c.start):
        if str(shift_id) not in c.shifts or c.end <= start or c.start >= end:
            continue
        a, b = max(c.start, start), min(c.end, end)
        if a > at:
            out.append(Stretch(at, a, ()))
        people = tuple(int(p) for p in c.drc)
        if out and out[-1].people == people and out[-1].end == a:
            out[-1] = Stretch(out[-1].start, b, people)
        else:
            out.append(Stretch(a, b, people))
        at = max(at, b)
    if at < end:
        if out and not out[-1].people:
            out[-1] = Stretch(out[-1].start, end, ())
        else:
            out.append(Stretch(at, end, ()))
    return out


def drc_stretches(
    crew: Sequence[Mapping[str, Any]], start: datetime, end: datetime
) -> list[Stretch]:
    """Without a compliance profile: the crew's DRC stints within the shift, in order, and
    the parts no DRC was on site."""
    stints = sorted(
        (max(c["arrived_at"], start), min(c["left_at"] or end, end), int(c["person_id"]))
        for c in crew
        if c["shift_role"] == "drc"
    )
    out: list[Stretch] = []
    at = start
    for a, b, person in stints:
        if b <= a:
            continue
        if a > at:
            out.append(Stretch(at, a, ()))
        out.append(Stretch(a, b, (person,)))
        at = max(at, b)
    if at < end:
        out.append(Stretch(at, end, ()))
    return out


def _name(names: Mapping[int, str], person: Any) -> str:
    return names.get(int(person), f"person {int(person)}") if person is not None else ""


def charge_rows(
    found: Sequence[Stretch], names: Mapping[int, str], tz: tzinfo, day: date
) -> tuple[ChargeRow, ...]:
    return tuple(
        ChargeRow(
            " and ".join(_name(names, p) for p in s.people) or NO_ONE,
            clock(s.start, tz, day),
            clock(s.end, tz, day),
            not s.people,
        )
        for s in found
    )


def _amendment_texts(
    history: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    tz: tzinfo,
    what: str,
    original: Mapping[str, Any] | None,
    refs: Refs,
) -> tuple[str, ...]:
    out = []
    for a in amendment_views(history, names, tz, what, original, refs):
        changes = "; ".join(f"{c.field}: {c.before} → {c.after}" for c in a.changes)
        late = " (after signing)" if a.after_signing else ""
        out.append(f"{a.at:%Y-%m-%d %H:%M} {a.by}{late}: {changes}. Reason: {a.reason}")
    return tuple(out)


def _verification(
    cs: Mapping[str, Any] | None, waiting: bool, names: Mapping[int, str], tz: tzinfo
) -> str:
    if cs:
        return f"verified by {_name(names, cs['person_id'])} at {stamp(cs['signed_at'], tz)}"
    return "awaiting verification" if waiting else ""


def entry_rows(
    entries: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    refs: Refs,
    tz: tzinfo,
    day: date,
) -> tuple[EntryRow, ...]:
    """Every entry in time order as it stands (amended), with who recorded it, its
    verification and each amendment: when, who, what changed, and why."""
    return tuple(
        EntryRow(
            time=clock(e["occurred_at"], tz, day),
            kind=kind_label(e["kind"]),
            text=entry_summary(e["kind"], e["data"], refs, tz),
            author=_name(names, e["recorded_by"]) + (" (trainee)" if e["by_trainee"] else ""),
            verification=_verification(
                e["countersignature"], bool(e["needs_countersignature"]), names, tz
            ),
            amendments=_amendment_texts(e["history"], names, tz, e["kind"], e["original"], refs),
        )
        for e in sorted(entries, key=lambda e: (e["occurred_at"], e["id"]))
    )


def _result_text(r: Mapping[str, Any], names: Mapping[int, str]) -> str:
    qualifier = r.get("qualifier") or ""
    value = "" if r.get("value") is None else show_value(r["value"])
    if qualifier in ("<", "ND"):
        shown = f"{qualifier} {show_value(r.get('detection_limit'))}".strip()
    else:
        shown = f"{qualifier}{value}"
    by = r.get("analyst_name") or (
        _name(names, r["analyst_id"]) if r.get("analyst_id") is not None else ""
    )
    parts = [f"{r.get('analyte', '')}: {shown} {r.get('unit', '')}".strip()]
    if r.get("method"):
        parts.append(f"method {r['method']}")
    if by:
        parts.append(f"by {by}")
    if r.get("countersignature"):
        parts.append(f"verified by {_name(names, r['countersignature']['person_id'])}")
    return ", ".join(parts)


def sample_rows(
    samples: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    refs: Refs,
    tz: tzinfo,
    day: date,
) -> tuple[SampleRow, ...]:
    out = []
    for s in samples:
        kind = s.get("sample_type", "")
        amendments = _amendment_texts(s["history"], names, tz, "sample", s["original"], refs)
        for r in s.get("results") or ():
            amendments += _amendment_texts(r["history"], names, tz, "result", r["original"], refs)
        out.append(
            SampleRow(
                time=clock(s["sampled_at"], tz, day),
                point=f"{s.get('sample_point', '')} ({kind})"
                if kind
                else s.get("sample_point", ""),
                taken_by=", ".join(_name(names, p) for p in s.get("sampled_by") or ()),
                verification=_verification(s.get("countersignature"), False, names, tz),
                results=tuple(_result_text(r, names) for r in s.get("results") or ()),
                amendments=amendments,
            )
        )
    return tuple(out)


def alarm_rows(
    events: Sequence[Mapping[str, Any]],
    acks: Sequence[Mapping[str, Any]],
    names: Mapping[int, str],
    tz: tzinfo,
    day: date,
) -> tuple[AlarmRow, ...]:
    """The alarms active during the shift, oldest first, each with its acknowledgements
    (alarm_ack entries, whichever shift made them): who, when, what they did."""
    out = []
    for ev in sorted(events, key=lambda v: (v["started_at"], v["id"])):
        mine = [a for a in acks if a["event_id"] == ev["id"]]
        out.append(
            AlarmRow(
                time=clock(ev["started_at"], tz, day),
                message=str(ev["message"]),
                severity=str(ev["severity"]),
                cleared=clock(ev["ended_at"], tz, day) if ev["ended_at"] else "not cleared",
                acknowledgements=tuple(
                    f"{stamp(a['occurred_at'], tz)} {_name(names, a['recorded_by'])}:"
                    f" {a['data'].get('response', '')}"
                    for a in sorted(mine, key=lambda a: (a["occurred_at"], a["id"]))
                ),
            )
        )
    return tuple(out)


def note_rows(
    notes: Sequence[Mapping[str, Any]], names: Mapping[int, str], tz: tzinfo, incoming: bool
) -> tuple[NoteRow, ...]:
    out = []
    for n in notes:
        ack = n.get("acknowledgement")
        heading = f"{stamp(n['written_at'], tz)} {_name(names, n['written_by'])}"
        if incoming:
            heading += f" (shift #{n['from_shift_id']})"
        out.append(
            NoteRow(
                heading,
                str(n["body"]),
                (
                    f"acknowledged by {_name(names, ack['acknowledged_by'])} at"
                    f" {stamp(ack['acknowledged_at'], tz)} (shift #{ack['to_shift_id']})"
                    if ack
                    else "not acknowledged yet"
                ),
            )
        )
    return tuple(out)


def number(value: float | None) -> str:
    """Three significant figures, as the floor's tiles show them; whole numbers from 1000."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def reading_rows(summary: Sequence[Mapping[str, Any]]) -> tuple[ReadingRow, ...]:
    """min/avg/max per key tag over the shift (``summary``: tag, unit, min, avg, max, n)."""
    return tuple(
        ReadingRow(
            str(r["tag"]),
            str(r["unit"] or ""),
            number(r["min"]),
            number(r["avg"]),
            number(r["max"]),
            int(r["n"] or 0),
        )
        for r in summary
    )


@dataclass(frozen=True)
class Loaded:
    """What the report is made of, as ``queries.load`` reads it."""

    site: Mapping[str, Any]  # code, name, timezone
    shift: Mapping[str, Any]  # id, label, opened_at, opened_by, closed_at, closed_by, signed
    crew: Sequence[Mapping[str, Any]]
    charge: Sequence[Stretch]
    charge_basis: str
    entries: Sequence[Mapping[str, Any]]
    samples: Sequence[Mapping[str, Any]]
    events: Sequence[Mapping[str, Any]]
    acks: Sequence[Mapping[str, Any]]
    notes_out: Sequence[Mapping[str, Any]]
    notes_in: Sequence[Mapping[str, Any]]
    signatures: Sequence[Mapping[str, Any]]
    readings: Sequence[Mapping[str, Any]]
    readings_from: str
    names: Mapping[int, str]
    refs: Refs
    generated_at: datetime
    generated_by: str


def crew_rows(
    crew: Sequence[Mapping[str, Any]], names: Mapping[int, str], tz: tzinfo, day: date
) -> tuple[CrewRow, ...]:
    return tuple(
        CrewRow(
            name=str(c["full_name"]),
            role=str(c["shift_role"]).replace("_", " "),
            arrived=clock(c["arrived_at"], tz, day),
            left=clock(c["left_at"], tz, day) if c["left_at"] else "",
            amended="; ".join(
                _amendment_texts(
                    c["history"], names, tz, "crew", c["original"], Refs({}, {}, names)
                )
            ),
        )
        for c in crew
    )


def report(found: Loaded, tz: tzinfo) -> ShiftReport:
    """The shift report of what was loaded, in the site's zone ``tz``."""
    shift = found.shift
    opened = shift["opened_at"].astimezone(tz)
    day = opened.date()
    names = found.names
    status = (
        "signed" if shift["signed"] else ("closed, not signed" if shift["closed_at"] else "open")
    )
    return ShiftReport(
        facility=str(found.site["name"]),
        facility_code=str(found.site["code"]),
        shift_id=int(shift["id"]),
        label=str(shift["label"]),
        plant_day=f"{day:%A %Y-%m-%d}",
        opened=stamp(shift["opened_at"], tz),
        closed=stamp(shift["closed_at"], tz) if shift["closed_at"] else OPEN,
        status=status,
        opened_by=_name(names, shift["opened_by"]),
        closed_by=_name(names, shift["closed_by"]) if shift["closed_by"] else "",
        zone=str(found.site["timezone"]),
        charge_basis=found.charge_basis,
        charge=charge_rows(found.charge, names, tz, day),
        crew=crew_rows(found.crew, names, tz, day),
        entries=entry_rows(found.entries, names, found.refs, tz, day),
        samples=sample_rows(found.samples, names, found.refs, tz, day),
        alarms=alarm_rows(found.events, found.acks, names, tz, day),
        notes_out=note_rows(found.notes_out, names, tz, incoming=False),
        notes_in=note_rows(found.notes_in, names, tz, incoming=True),
        signatures=tuple(
            SignatureRow(
                _name(names, g["person_id"]),
                stamp(g["signed_at"], tz),
                str(g.get("meaning") or ""),
                str(g["content_sha256"]),
            )
            for g in found.signatures
        ),
        readings=reading_rows(found.readings),
        readings_from=found.readings_from,
        generated=f"Generated {stamp(found.generated_at, tz)} by {found.generated_by}",
    )

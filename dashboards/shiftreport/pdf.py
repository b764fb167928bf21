"""The shift report as PDF: pure, no I/O. Letter portrait; facility, plant day and shift
atop every page, "Page X of Y" and who made it below. Sections in the order a reader
checks a shift: times and status, who held charge, crew, entries (with verification and
amendments), samples and results, alarms and acknowledgements, handoff notes, key
readings, signatures.

Every text reaches a paragraph through ``printing.esc`` (a label, a name, an entry, a
note typed as ``"><img src=...>`` prints as those characters and embeds nothing); the
page's header and footer are drawn as text, never parsed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from dashboards.printing import BOLD, FONT, clip, document, esc, numbered
from dashboards.shiftreport.view import ShiftReport

MARGIN = 0.5 * inch
HEAD_BAND = 20.0
FOOT_BAND = 14.0
SHADE_HEAD = colors.HexColor("#e4e4e4")
SHADE_GAP = colors.HexColor("#f4b6b0")

_BASE = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5)
STYLES = {
    "cell": _BASE,
    "small": ParagraphStyle("small", parent=_BASE, fontSize=7.5, leading=9.2),
    "body": ParagraphStyle("body", parent=_BASE, fontSize=9.5, leading=12),
    "section": ParagraphStyle(
        "section", fontName=BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
    ),
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=14, leading=18),
}


def _p(text: str, style: str = "cell") -> Paragraph:
    return Paragraph(esc(text), STYLES[style])


def _lines(first: str, more: Sequence[str]) -> Paragraph:
    """A cell of a text and the lines under it (amendments, acknowledgements), each escaped."""
    parts = [esc(first)] + [f"<i>{esc(m)}</i>" for m in more]
    return Paragraph("<br/>".join(parts), STYLES["cell"])


def _table(
    head: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    gaps: Sequence[int] = (),
) -> Table:
    data: list[list[Any]] = [[_p(h) for h in head]]
    data += [[c if isinstance(c, Flowable) else _p(str(c)) for c in row] for row in rows]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), SHADE_HEAD),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    style += [("BACKGROUND", (0, r + 1), (-1, r + 1), SHADE_GAP) for r in gaps]
    table = Table(data, colWidths=[w * inch for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _section(title: str, body: Flowable | None, empty: str) -> list[Flowable]:
    return [_p(title, "section"), body if body is not None else _p(empty, "small")]


def _decor(report: ShiftReport) -> Callable[[Canvas, Any], None]:
    width, height = LETTER

    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(BOLD, 9)
        canvas.drawString(
            MARGIN,
            height - MARGIN - 9,
            clip(f"Shift report: {report.heading}", 9, width - 2 * MARGIN, BOLD),
        )
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, MARGIN, clip(report.generated, 7, width - 2 * MARGIN - 80))
        canvas.restoreState()

    return draw


def story(report: ShiftReport) -> list[Flowable]:
    """The report's flowables, in order."""
    r = report
    info = [
        ("Facility", f"{r.facility} ({r.facility_code})"),
        ("Plant day", r.plant_day),
        ("Shift", r.title),
        ("Opened", f"{r.opened} by {r.opened_by}"),
        ("Closed", f"{r.closed} by {r.closed_by}" if r.closed_by else r.closed),
        ("Status", r.status),
        ("Times", f"the plant's local time ({r.zone})"),
    ]
    out: list[Flowable] = [
        _p(f"Shift report: {r.facility}, {r.plant_day}, shift {r.title}", "title"),
        Spacer(1, 4),
        _table(("", ""), [(_p(k), _p(v)) for k, v in info], (1.2, 6.3)),
    ]
    out += _section(
        "Who held charge",
        _table(
            ("From", "To", "In responsible charge"),
            [(c.start, c.end, c.who) for c in r.charge],
            (1.2, 1.2, 5.1),
            [i for i, c in enumerate(r.charge) if c.gap],
        )
        if r.charge
        else None,
        "No coverage.",
    )
    out.append(_p(f"As read from {r.charge_basis}.", "small"))
    out += _section(
        "Crew",
        _table(
            ("Name", "Role", "Arrived", "Left"),
            [
                (_lines(c.name, [c.amended] if c.amended else []), c.role, c.arrived, c.left)
                for c in r.crew
            ],
            (2.8, 1.7, 1.5, 1.5),
        )
        if r.crew
        else None,
        "No crew recorded.",
    )
    out += _section(
        "Entries",
        _table(
            ("Time", "Kind", "Entry and amendments", "Recorded by", "Verification"),
            [
                (e.time, e.kind, _lines(e.text, e.amendments), e.author, e.verification)
                for e in r.entries
            ],
            (0.8, 1.0, 3.4, 1.2, 1.1),
        )
        if r.entries
        else None,
        "No entries.",
    )
    out += _section(
        "Samples and lab results",
        _table(
            ("Time", "Sample", "Results and amendments", "Taken by", "Verification"),
            [
                (
                    s.time,
                    s.point,
                    _lines("; ".join(s.results) or "no results yet", s.amendments),
                    s.taken_by,
                    s.verification,
                )
                for s in r.samples
            ],
            (0.8, 1.4, 3.0, 1.2, 1.1),
        )
        if r.samples
        else None,
        "No samples.",
    )
    out += _section(
        "Alarms and acknowledgements",
        _table(
            ("Started", "Alarm", "Severity", "Cleared"),
            [
                (
                    a.time,
                    _lines(a.message, a.acknowledgements or ("not acknowledged",)),
                    a.severity,
                    a.cleared,
                )
                for a in r.alarms
            ],
            (0.9, 4.6, 0.9, 1.1),
        )
        if r.alarms
        else None,
        "No alarms during the shift.",
    )
    notes = [("Handed over by this shift", n) for n in r.notes_out] + [
        ("Received by this shift", n) for n in r.notes_in
    ]
    out += _section(
        "Handoff notes",
        _table(
            ("", "Written", "Note", "Acknowledged"),
            [(kind, n.heading, n.body, n.acknowledgement) for kind, n in notes],
            (1.2, 1.6, 3.0, 1.7),
        )
        if notes
        else None,
        "No handoff notes.",
    )
    out += _section(
        "Key readings over the shift",
        _table(
            ("Tag", "Unit", "Min", "Avg", "Max", "Samples"),
            [(t.tag, t.unit, t.low, t.mean, t.high, str(t.count)) for t in r.readings],
            (3.1, 0.9, 0.9, 0.9, 0.9, 0.8),
        )
        if r.readings
        else None,
        "No key tags.",
    )
    out.append(_p(f"Tags: {r.readings_from}; minute rollups of good samples.", "small"))
    out += _section(
        "Signatures",
        _table(
            ("Signed by", "When", "Meaning", "Content sha256"),
            [
                (g.name, g.at, g.meaning, _lines(g.sha256[:32], [g.sha256[32:]]))
                for g in r.signatures
            ],
            (1.6, 1.5, 1.4, 3.0),
        )
        if r.signatures
        else None,
        "Not signed.",
    )
    return out


def to_pdf(report: ShiftReport) -> bytes:
    out = io.BytesIO()
    doc = document(
        out,
        LETTER,
        MARGIN,
        (HEAD_BAND, FOOT_BAND),
        f"Shift report {report.facility_code} #{report.shift_id}",
        report.generated,
        _decor(report),
    )
    doc.build(story(report), canvasmaker=numbered(LETTER, MARGIN))
    return out.getvalue()

"""The Monthly Operating Report as PDF, laid out as state MOR forms are: pure, no I/O.

The table, its paper and its font are :mod:`dashboards.exports.mor_layout`'s; here they
become ReportLab flowables. A row is never split across pages (tables break between rows
only, and a table that fits a page is kept on one). Values beyond a limit are shaded, bold
and starred, missing values' codes grey, with the legend after the table; calendar weeks
end with a heavy line. Facility, permit, month (and, for the month in progress, that it is
not the whole month) head every page and "Page X of Y" ends it; the certification
statement and the signature block close the report.

Every text that reaches the PDF's paragraphs (names, labels, units, shift labels, the
facility and permit, anything a person typed) is escaped for ReportLab's markup, so that
``<img src=...>`` in a shift label prints as those characters and embeds nothing; the
table's plain cells and the page's header are drawn as text, never parsed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from dashboards.exports.limits import exceedances
from dashboards.exports.mor import Column, MonthlyReport
from dashboards.exports.mor_layout import (
    BOLD,
    CHARGE_TITLE,
    CODES,
    EXCEEDS_MARK,
    FONT,
    FOOT_BAND,
    HEAD_BAND,
    ITALIC,
    MARGIN,
    PAD_H,
    PAD_V,
    UNQUALIFIED_MARK,
    Layout,
    Row,
    choose_layout,
    head_text,
    line_height,
    people_codes,
    people_legend,
    table_rows,
)
from dashboards.exports.mor_render import CERTIFICATION, REASONS, header, period

SHADE_EXCEEDS = colors.HexColor("#f4b6b0")
SHADE_HEAD = colors.HexColor("#e4e4e4")
SHADE_SUMMARY = colors.HexColor("#f1f1f1")
GREY_CODE = colors.HexColor("#5f5f5f")
MTD_COLOUR = colors.HexColor("#9c1c13")


def esc(text: object) -> str:
    """Text for ReportLab's paragraph markup: every ``<``, ``>`` and ``&`` literal."""
    return escape(str(text))


def _styles(size: float) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=line_height(size))
    return {
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontName=FONT),
        "label": ParagraphStyle("label", parent=base, fontName=BOLD),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.2),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5),
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=13, leading=16),
    }


def _table(
    rows: Sequence[Row],
    columns: Sequence[Column],
    layout: Layout,
    with_charge: bool,
    styles: dict[str, ParagraphStyle],
) -> Table:
    size = layout.size
    head: list[Any] = ["Date", "Hours"]
    for c in columns:
        title, kind = head_text(c)
        head.append(Paragraph(f"<b>{esc(title)}</b><br/>{esc(kind)}", styles["head"]))
    if with_charge:
        head.append(Paragraph(f"<b>{esc(CHARGE_TITLE)}</b>", styles["head"]))
    data: list[list[Any]] = [head]
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), line_height(size)),
        ("FONTNAME", (0, 0), (1, 0), BOLD),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE_HEAD),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD_H),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD_H),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_V),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_V),
    ]
    charge_col = 2 + len(columns)
    for r, row in enumerate(rows, start=1):
        # The row's look first: a cell's own (an exceedance's shade) is set after, over it.
        if row.kind != "day":
            style += [("SPAN", (0, r), (1, r)), ("FONTNAME", (0, r), (0, r), BOLD)]
            style.append(("BACKGROUND", (0, r), (-1, r), SHADE_SUMMARY))
        if row.kind in ("limit", "stat-limit"):
            style += [("FONTNAME", (0, r), (-1, r), ITALIC), ("ALIGN", (0, r), (0, r), "RIGHT")]
        if row.kind == "stat" and (r == 1 or rows[r - 2].kind == "day"):
            style.append(("LINEABOVE", (0, r), (-1, r), 0.8, colors.black))
        if row.day is not None and row.day.weekday() == 5:
            # Saturday ends a calendar week, the weekly averages' week.
            style.append(("LINEBELOW", (0, r), (-1, r), 0.8, colors.black))
        line: list[Any] = [row.label, row.hours]
        for i, c in enumerate(columns, start=2):
            line.append(row.cells.get(c.key, ""))
            if c.key in row.marked:
                style += [
                    ("BACKGROUND", (i, r), (i, r), SHADE_EXCEEDS),
                    ("FONTNAME", (i, r), (i, r), BOLD),
                ]
            elif c.key in row.coded:
                style.append(("TEXTCOLOR", (i, r), (i, r), GREY_CODE))
        if with_charge:
            line.append(Paragraph(esc(row.charge), styles["cell"]) if row.charge else "")
        data.append(line)
    widths = [
        layout.widths["date"],
        layout.widths["hours"],
        *(layout.widths[c.key] for c in columns),
    ]
    if with_charge:
        widths.append(layout.widths["charge"])
        style.append(("ALIGN", (charge_col, 1), (charge_col, -1), "LEFT"))
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _legend(
    report: MonthlyReport, codes: dict[str, str], styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    shown = {k: v for k, v in CODES.items() if k in REASONS}
    parts = [
        f"<b>{esc(code)}</b> {esc(REASONS[reason])} ({esc(reason)})"
        for reason, code in shown.items()
    ]
    out: list[Flowable] = [
        Paragraph("<b>Codes:</b> " + "; ".join(parts) + ".", styles["small"]),
        Paragraph(
            f"<b>{esc(EXCEEDS_MARK)}</b> and shaded: beyond the permit's limit (a daily limit"
            " is every day's; the others their statistic's). 7-day average: the highest average"
            " of a calendar week, Sunday to Saturday (heavy lines), ending in the month. Values"
            " below detection are printed as &lt;DL and exceed nothing.",
            styles["small"],
        ),
    ]
    people = people_legend(report, codes)
    if people:
        out.append(
            Paragraph(
                f"<b>{esc(CHARGE_TITLE)}:</b> "
                + "; ".join(esc(p) for p in people)
                + f". <b>{esc(UNQUALIFIED_MARK)}</b> did not meet the grade required then.",
                styles["small"],
            )
        )
    if report.charge_basis:
        out.append(Paragraph(f"Who held charge: {esc(report.charge_basis)}.", styles["small"]))
    return out


def _clip(text: str, size: float, width: float, font: str = FONT) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def _page_decor(report: MonthlyReport, layout: Layout) -> Callable[[Canvas, Any], None]:
    """Facility, permit and month (and the month to date) at the top of every page, who
    made it at the bottom; "Page X of Y" is the canvas's, once the pages are counted."""
    width, height = layout.pagesize
    month = f"{report.days[0].day:%B %Y}" if report.days else f"{report.year}-{report.month:02d}"
    left = f"Monthly Operating Report: {report.facility} ({report.facility_code})"
    right = f"Permit {report.permit}   {month}"
    mtd = (
        f"NOT THE WHOLE MONTH: {period(report).describe()}."
        if report.month_to_date and report.days
        else ""
    )
    made = f"Generated {report.generated_at:%Y-%m-%d %H:%M %Z} by {report.generated_by}"

    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        top = height - MARGIN - 9
        canvas.setFont(BOLD, 9)
        canvas.drawRightString(width - MARGIN, top, right)
        room = width - 2 * MARGIN - stringWidth(right, BOLD, 9) - 18
        canvas.drawString(MARGIN, top, _clip(left, 9, room, BOLD))
        if mtd:
            canvas.setFillColor(MTD_COLOUR)
            canvas.setFont(BOLD, 8)
            canvas.drawString(MARGIN, top - 11, _clip(mtd, 8, width - 2 * MARGIN, BOLD))
        canvas.setFillColor(colors.black)
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, MARGIN, _clip(made, 7, width - 2 * MARGIN - 80))
        canvas.restoreState()

    return draw


def _numbered(pagesize: tuple[float, float]) -> type[Canvas]:
    """A canvas that holds its pages until the end to write "Page X of Y" on each."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self.setFont(BOLD, 8)
                self.drawRightString(
                    pagesize[0] - MARGIN, MARGIN, f"Page {self._pageNumber} of {total}"
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def _signature(report: MonthlyReport, styles: dict[str, ParagraphStyle]) -> Flowable:
    return KeepTogether(
        [
            Spacer(1, 8),
            Paragraph(esc(CERTIFICATION), styles["small"]),
            Spacer(1, 14),
            Paragraph(
                f"Operator in responsible charge: <b>{esc(report.responsible_operator)}</b>, "
                f"{esc(report.responsible_certificate)}"
                "<br/><br/>Signature: ________________________________ &nbsp;&nbsp; Date: "
                "________________ &nbsp;&nbsp; Printed name and title: "
                "________________________________",
                styles["body"],
            ),
        ]
    )


def to_pdf(report: MonthlyReport) -> bytes:
    found = exceedances(report.columns, report.days, report.monthly)
    codes = people_codes([r.in_charge for r in report.days])
    rows = table_rows(report, found, codes)
    layout = choose_layout(report, rows)
    styles = _styles(layout.size)
    out = io.BytesIO()
    width, height = layout.pagesize
    frame = Frame(
        MARGIN,
        MARGIN + FOOT_BAND,
        width - 2 * MARGIN,
        height - 2 * MARGIN - HEAD_BAND - FOOT_BAND,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc = BaseDocTemplate(
        out,
        pagesize=layout.pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEAD_BAND,
        bottomMargin=MARGIN + FOOT_BAND,
        title=f"Monthly Operating Report {report.facility_code} {report.year}-{report.month:02d}",
        author=report.generated_by,
        pageTemplates=[PageTemplate("mor", [frame], onPage=_page_decor(report, layout))],
    )
    info = [
        f"<b>{esc(k)}:</b> {esc(v)}"
        for k, v in header(report)
        if k in ("Permit", "Month", "Results below detection")
    ]
    story: list[Flowable] = [
        Paragraph(f"Monthly Operating Report: {esc(report.facility)}", styles["title"]),
        Paragraph(" &nbsp; ".join(info), styles["small"]),
        Spacer(1, 4),
    ]
    for n, group in enumerate(layout.groups):
        charge = layout.charge_group == n
        story.append(KeepTogether([_table(rows, group, layout, charge, styles), Spacer(1, 6)]))
    if layout.charge_group < 0:
        story.append(KeepTogether([_table(rows, (), layout, True, styles), Spacer(1, 6)]))
    story += _legend(report, codes, styles)
    story.append(_signature(report, styles))
    doc.build(story, canvasmaker=_numbered(layout.pagesize))
    return out.getvalue()

"""The Monthly Operating Report as CSV and PDF: pure functions of the report."""

from __future__ import annotations

import csv
import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dashboards.exports.mor import Column, InCharge, MonthlyReport
from dashboards.exports.statistics import Missing, Value

# 40 CFR 122.22(d): the statement a signatory of a report to the permitting authority makes.
CERTIFICATION = (
    "I certify under penalty of law that this document and all attachments were prepared "
    "under my direction or supervision in accordance with a system designed to assure that "
    "qualified personnel properly gather and evaluate the information submitted. Based on my "
    "inquiry of the person or persons who manage the system, or those persons directly "
    "responsible for gathering the information, the information submitted is, to the best of "
    "my knowledge and belief, true, accurate, and complete. I am aware that there are "
    "significant penalties for submitting false information, including the possibility of "
    "fine and imprisonment for knowing violations."
)

REASONS = {
    "NO_DATA": "no good sample that day",
    "PARTIAL": "good samples cover too little of the day",
    "BAD_QUALITY": "samples exist but all are of bad quality",
    "NOT_SAMPLED": "no lab result for that day",
    "METER_RESET": "totalizer reset or rolled over; only forward steps counted",
}


def cell(value: Value) -> str:
    if isinstance(value, Missing):
        return value.reason
    text = (
        f"{value.qualifier or ''}{value.value:.4g}"
        if abs(value.value) < 1e4
        else (f"{value.qualifier or ''}{value.value:.0f}")
    )
    return f"{text} {value.flag}" if value.flag else text


def _header(report: MonthlyReport) -> list[tuple[str, str]]:
    return [
        ("Facility", f"{report.facility} ({report.facility_code})"),
        ("Permit", report.permit),
        ("Month", f"{report.year}-{report.month:02d} (plant days in {report.timezone})"),
        ("Results below detection", report.below_detection.describe()),
        ("Generated", f"{report.generated_at.isoformat()} by {report.generated_by}"),
    ]


def _column_title(column: Column) -> str:
    return f"{column.label} ({column.unit}) [{column.daily.value}]"


def _in_charge(row_in_charge: list[InCharge]) -> str:
    return "; ".join(f"{c.shift}: {c.operator}, {c.certificate}" for c in row_in_charge)


def to_csv(report: MonthlyReport) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for key, value in _header(report):
        w.writerow([f"# {key}", value])
    w.writerow(
        ["date", "hours", *map(_column_title, report.columns), "operator in responsible charge"]
    )
    for row in report.days:
        values = [cell(row.values[c.key]) for c in report.columns]
        w.writerow([row.day.isoformat(), f"{row.hours:g}", *values, _in_charge(row.in_charge)])
    stats = sorted({s for per in report.monthly.values() for s in per}, key=str)
    for stat in stats:
        w.writerow(
            [
                f"monthly {stat.value}",
                "",
                *[
                    cell(report.monthly[c.key][stat]) if stat in report.monthly[c.key] else ""
                    for c in report.columns
                ],
                "",
            ]
        )
    for code, meaning in REASONS.items():
        w.writerow([f"# {code}", meaning])
    w.writerow(
        [
            "# Operator in responsible charge",
            f"{report.responsible_operator}, {report.responsible_certificate}",
        ]
    )
    return out.getvalue().encode()


# Value columns per table on a landscape letter page; wider reports get several tables.
COLUMNS_PER_TABLE = 10


def _table_style(*extra: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The PDF tables' style: small text, a grid and a grey header row; ``extra`` goes
    before the vertical alignment."""
    return [
        ("FONTSIZE", (0, 0), (-1, -1), 7),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        *extra,
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]


def _value_table(
    report: MonthlyReport, columns: list[Column], small: ParagraphStyle, with_in_charge: bool
) -> Table:
    charge = [Paragraph("In responsible charge", small)] if with_in_charge else []
    head = ["Date", "Hours", *[Paragraph(_column_title(c), small) for c in columns], *charge]
    body = [
        [
            row.day.strftime("%a %d"),
            f"{row.hours:g}",
            *[cell(row.values[c.key]) for c in columns],
            *([Paragraph(_in_charge(row.in_charge), small)] if with_in_charge else []),
        ]
        for row in report.days
    ]
    stats = sorted({s for c in columns for s in report.monthly[c.key]}, key=str)
    footer = [
        [
            f"Monthly {s.value}",
            "",
            *[
                cell(report.monthly[c.key][s]) if s in report.monthly[c.key] else ""
                for c in columns
            ],
            *([""] if with_in_charge else []),
        ]
        for s in stats
    ]
    table = Table([head, *body, *footer], repeatRows=1)
    style = _table_style(("BACKGROUND", (0, len(body) + 1), (-1, -1), colors.whitesmoke))
    for r, row in enumerate(report.days, start=1):
        for c, col in enumerate(columns, start=2):
            if isinstance(row.values[col.key], Missing):
                style.append(("TEXTCOLOR", (c, r), (c, r), colors.red))
    table.setStyle(TableStyle(style))
    return table


def to_pdf(report: MonthlyReport) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(letter),
        leftMargin=0.4 * inch,
        rightMargin=0.4 * inch,
        topMargin=0.4 * inch,
        bottomMargin=0.4 * inch,
        title=f"Monthly Operating Report {report.facility_code} {report.year}-{report.month:02d}",
        author=report.generated_by,
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    story: list[Flowable] = [
        Paragraph(f"Monthly Operating Report: {report.facility}", styles["Title"]),
        Paragraph("<br/>".join(f"<b>{k}:</b> {v}" for k, v in _header(report)), small),
        Spacer(1, 6),
    ]
    groups = [
        report.columns[i : i + COLUMNS_PER_TABLE]
        for i in range(0, len(report.columns), COLUMNS_PER_TABLE)
    ] or [[]]
    for n, group in enumerate(groups):
        # With one table the operators in charge close it; with several (wide reports)
        # they get a table of their own after the values.
        last = len(groups) == 1
        story += [_value_table(report, group, small, with_in_charge=last), Spacer(1, 6)]
        if n + 1 < len(groups):
            story.append(Spacer(1, 6))
    if len(groups) > 1:
        rows = [["Date", Paragraph("In responsible charge", small)]] + [
            [row.day.strftime("%a %d"), Paragraph(_in_charge(row.in_charge), small)]
            for row in report.days
        ]
        table = Table(rows, repeatRows=1, colWidths=[0.6 * inch, 9.2 * inch])
        table.setStyle(TableStyle(_table_style()))
        story += [table, Spacer(1, 6)]
    story.append(
        Paragraph(
            "Reason codes: " + "; ".join(f"<b>{k}</b> {v}" for k, v in REASONS.items()), small
        )
    )
    story += [
        Spacer(1, 8),
        Paragraph(CERTIFICATION, small),
        Spacer(1, 18),
        Paragraph(
            f"Operator in responsible charge: <b>{report.responsible_operator}</b>, "
            f"{report.responsible_certificate}"
            "<br/><br/>Signature: ________________________________ &nbsp;&nbsp; Date: "
            "________________",
            styles["BodyText"],
        ),
    ]
    doc.build(story)
    return out.getvalue()

"""The Monthly Operating Report as CSV, and the texts its CSV and PDF share (the header,
the certification statement, reason codes, statistics' names, the operators in charge):
pure functions of the report."""

from __future__ import annotations

import csv
import io

from dashboards.exports.limits import exceedances, limit_text
from dashboards.exports.mor import Column, InCharge, Monthly, MonthlyReport
from dashboards.exports.plant_day import Period
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
    "NO_WEEK": "no calendar week (Sunday to Saturday) has ended in the period yet",
    "METER_RESET": "totalizer reset or rolled over; only forward steps counted",
}

# The summary statistics in the order state forms list them, with the names they use.
STATISTICS: dict[Monthly, str] = {
    Monthly.AVG: "Monthly average",
    Monthly.WEEK_AVG: "7-day average (highest week)",
    Monthly.MAX: "Daily maximum",
    Monthly.MIN: "Daily minimum",
    Monthly.GEOMEAN: "Geometric mean",
    Monthly.TOTAL: "Monthly total",
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


def period(report: MonthlyReport) -> Period:
    return Period(
        report.year, report.month, tuple(r.day for r in report.days), report.month_to_date
    )


def header(report: MonthlyReport) -> list[tuple[str, str]]:
    month = f"{report.year}-{report.month:02d} (plant days in {report.timezone})"
    if report.month_to_date and report.days:
        month += f"; {period(report).describe()}: not the whole month"
    rows = [
        ("Facility", f"{report.facility} ({report.facility_code})"),
        ("Permit", report.permit),
        ("Month", month),
        ("Results below detection", report.below_detection.describe()),
    ]
    if report.charge_basis:
        rows.append(("Responsible charge", report.charge_basis))
    rows.append(("Generated", f"{report.generated_at.isoformat()} by {report.generated_by}"))
    return rows


def statistics_of(report: MonthlyReport, columns: list[Column] | None = None) -> list[Monthly]:
    """The summary statistics the columns ask for, in the forms' order."""
    wanted = {s for c in (columns or report.columns) for s in report.monthly.get(c.key, {})}
    return [s for s in STATISTICS if s in wanted]


def column_limits(column: Column) -> str:
    """``<= 25 (30DA AVG); <= 45 (DAILY MX)``: the permit's limits on a column."""
    return "; ".join(f"{limit_text(lim)} ({lim.base})" for lim in column.limits)


def _column_title(column: Column) -> str:
    return f"{column.label} ({column.unit}) [{column.daily.value}]"


def _in_charge(row_in_charge: list[InCharge]) -> str:
    return "; ".join(
        f"{c.shift}: {c.operator}, {c.certificate}" + (f" ({c.note})" if c.note else "")
        for c in row_in_charge
    )


def to_csv(report: MonthlyReport) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for key, value in header(report):
        w.writerow([f"# {key}", value])
    w.writerow(
        ["date", "hours", *map(_column_title, report.columns), "operator in responsible charge"]
    )
    for row in report.days:
        values = [cell(row.values[c.key]) for c in report.columns]
        w.writerow([row.day.isoformat(), f"{row.hours:g}", *values, _in_charge(row.in_charge)])
    # The statistics' rows keep their names of old ("monthly avg"), which scripts read.
    for stat in sorted({s for per in report.monthly.values() for s in per}, key=str):
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
    found = exceedances(report.columns, report.days, report.monthly)
    w.writerow(["permit limits", "", *map(column_limits, report.columns), ""])
    w.writerow(
        [
            "exceedances",
            "",
            *[str(found.count(c.key)) if c.limits else "" for c in report.columns],
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

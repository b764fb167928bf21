"""DMR values: one row per permit parameter, as CSV with a fixed column layout.

Columns, in order (documented in dashboards/exports/README.md):
permit, period_start, period_end, parameter_code, parameter, monitoring_location,
statistical_base, qualifier, value, unit, no_data_code, reason, limit_min,
limit_max, exceedance, month_to_date
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from dashboards.exports.mor import Monthly
from dashboards.exports.permit import Permit
from dashboards.exports.statistics import Missing, Stat, Value

COLUMNS = (
    "permit",
    "period_start",
    "period_end",
    "parameter_code",
    "parameter",
    "monitoring_location",
    "statistical_base",
    "qualifier",
    "value",
    "unit",
    "no_data_code",
    "reason",
    "limit_min",
    "limit_max",
    "exceedance",
    "month_to_date",
)


@dataclass(frozen=True)
class DmrRow:
    parameter_code: str
    parameter: str
    location: str
    statistical_base: str
    value: Value
    unit: str
    no_data_code: str
    limit_min: float | None
    limit_max: float | None

    @property
    def exceedance(self) -> bool:
        if not isinstance(self.value, Stat) or self.value.qualifier == "<":
            # A non-detect reported as "<DL" exceeds a maximum only if the DL does,
            # which the lab must resolve; it is not flagged here.
            return False
        v = self.value.value
        return (self.limit_max is not None and v > self.limit_max) or (
            self.limit_min is not None and v < self.limit_min
        )


def rows(permit: Permit, monthly: dict[str, dict[Monthly, Value]]) -> list[DmrRow]:
    out = []
    for p in permit.parameters:
        value = monthly.get(p.key, {}).get(p.monthly, Missing("NO_DATA"))
        out.append(
            DmrRow(
                p.code,
                p.name,
                p.location,
                p.statistical_base,
                value,
                p.unit,
                p.no_data_code,
                p.limit.min if p.limit else None,
                p.limit.max if p.limit else None,
            )
        )
    return out


def to_csv(
    permit: Permit, period: tuple[date, date], dmr_rows: list[DmrRow], month_to_date: bool = False
) -> bytes:
    """``month_to_date``: the period ends today, with the month still in progress; every row
    says so, since a value of a month to date is not the month's."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in dmr_rows:
        if isinstance(r.value, Missing):
            qualifier, value, no_data, reason = "", "", r.no_data_code, r.value.reason
        else:
            qualifier, value = r.value.qualifier or "=", f"{r.value.value:.6g}"
            no_data, reason = "", r.value.flag or ""
        w.writerow(
            [
                permit.number,
                period[0].isoformat(),
                period[1].isoformat(),
                r.parameter_code,
                r.parameter,
                r.location,
                r.statistical_base,
                qualifier,
                value,
                r.unit,
                no_data,
                reason,
                "" if r.limit_min is None else f"{r.limit_min:g}",
                "" if r.limit_max is None else f"{r.limit_max:g}",
                "yes" if r.exceedance else "no",
                "yes" if month_to_date else "no",
            ]
        )
    return out.getvalue().encode()

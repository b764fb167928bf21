"""The exports' download panel as pages show it: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.exports.plant_day import MonthNotBegun, MonthRefused, parse_month, report_period

KIND_LABELS: dict[str, str] = {
    "mor.pdf": "Monthly Operating Report (PDF)",
    "mor.csv": "Monthly Operating Report (CSV)",
    "dmr.csv": "DMR values (CSV)",
    "logbook.csv": "Logbook entries (CSV)",
    "lab.csv": "Samples and lab results (CSV)",
    "logbook.json": "Logbook and lab record (JSON)",
    "bundle.zip": "Signed bundle of all of these (ZIP)",
}


@dataclass(frozen=True)
class MonthStatus:
    """Whether a month can be exported now, and what the panel says about it."""

    ready: bool
    note: str


def month_status(text: str, today: date) -> MonthStatus:
    """``text`` (YYYY-MM) at a plant whose local date is ``today``: a month that is over, the
    month to date, or why it cannot be exported."""
    try:
        year, month = parse_month(text)
        period = report_period(year, month, today)
    except (MonthRefused, MonthNotBegun) as exc:
        return MonthStatus(False, f"Nothing to export: {exc}.")
    if period.month_to_date:
        return MonthStatus(
            True,
            f"{period.describe()}. Every file says that the month is not over.",
        )
    return MonthStatus(True, "")


def _zone(site: dict[str, Any] | None) -> tzinfo:
    name = site.get("timezone") if site else None
    return ZoneInfo(name) if name else UTC


def panel_context(
    sites: list[dict[str, Any]], site: str | None, month: str | None, now: datetime
) -> dict[str, Any]:
    """What ``_exports_panel.html`` needs: the facilities (``code``, ``name``, ``timezone``),
    the chosen one and month (default: the month in progress at the facility, to date), what
    the panel says about that month, and the kinds."""
    chosen = next((s for s in sites if s["code"] == site), sites[0] if sites else None)
    today = now.astimezone(_zone(chosen)).date()
    current = f"{today:%Y-%m}"
    text = month or current
    status = month_status(text, today)
    return {
        "exports_sites": sites,
        "exports_site": chosen,
        "exports_month": text,
        "exports_current": current,
        "exports_ready": status.ready,
        "exports_note": status.note,
        "exports_kinds": KIND_LABELS,
    }

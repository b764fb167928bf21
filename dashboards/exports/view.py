"""The exports' download panel as pages show it: pure, no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

KIND_LABELS: dict[str, str] = {
    "mor.pdf": "Monthly Operating Report (PDF)",
    "mor.csv": "Monthly Operating Report (CSV)",
    "dmr.csv": "DMR values (CSV)",
    "logbook.csv": "Logbook entries (CSV)",
    "lab.csv": "Samples and lab results (CSV)",
    "logbook.json": "Logbook and lab record (JSON)",
    "bundle.zip": "Signed bundle of all of these (ZIP)",
}


def previous_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"


def panel_context(
    sites: list[dict[str, Any]], site: str | None, month: str | None, today: date
) -> dict[str, Any]:
    """What ``_exports_panel.html`` needs: the facilities, the chosen one and month (default
    the month before ``today``'s), the kinds."""
    chosen = next((s for s in sites if s["code"] == site), sites[0] if sites else None)
    return {
        "exports_sites": sites,
        "exports_site": chosen,
        "exports_month": month or previous_month(today),
        "exports_kinds": KIND_LABELS,
    }

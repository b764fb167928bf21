"""The exports panel: the month it offers by default and what it says about a month."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboards.exports.view import month_status, panel_context

SITES = [{"code": "demo-wwtp", "name": "Clearwell Demo WWTP", "timezone": "America/Denver"}]


def test_the_panel_offers_the_month_in_progress_at_the_plant_by_default():
    # 03:00 UTC on January 1 is still December 31 in Denver: December, to date.
    context = panel_context(SITES, None, None, datetime(2027, 1, 1, 3, tzinfo=UTC))
    assert context["exports_month"] == context["exports_current"] == "2026-12"
    assert context["exports_ready"]
    assert context["exports_note"].startswith("December 2026, month to date: plant days 1 to 31")
    later = panel_context(SITES, None, None, datetime(2027, 1, 1, 8, tzinfo=UTC))
    assert later["exports_month"] == "2027-01"


def test_a_month_that_is_over_needs_no_note_and_one_that_cannot_be_says_why():
    today = datetime(2026, 12, 7, 18, tzinfo=UTC).date()
    assert month_status("2026-11", today).ready and month_status("2026-11", today).note == ""
    for text, why in (
        ("2027-01", "has not begun"),
        ("0000-01", "from 1900-01 on"),
        ("2026-13", "write it as YYYY-MM"),
    ):
        status = month_status(text, today)
        assert not status.ready and status.note.startswith("Nothing to export: ")
        assert why in status.note
    context = panel_context(SITES, "demo-wwtp", "2027-01", datetime(2026, 12, 7, tzinfo=UTC))
    assert not context["exports_ready"] and context["exports_current"] == "2026-12"

"""Rules every logbook write follows: a PIN session's site, an open shift, the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clearwell.web import Denied, conflict, invalid
from logbook.auth.sessions import Principal
from logbook.store import ShiftState

# Clocks on floor terminals drift: allow a little future on the times people give.
CLOCK_SKEW = timedelta(minutes=2)


def now() -> datetime:
    return datetime.now(UTC)


def check_not_future(field: str, at: datetime) -> None:
    if at > now() + CLOCK_SKEW:
        raise invalid(field, "is in the future")


def check_site(user: Principal, site_id: int) -> None:
    """A PIN session, opened on a floor terminal, writes only at that terminal's site."""
    if user.method == "pin" and user.site_id != site_id:
        raise Denied(
            "a PIN session writes only at the site it was opened at", "site", site_id, site_id
        )


def check_open(state: ShiftState) -> None:
    """A shift takes additions while it is open; a signed one is frozen."""
    if state.signed:
        raise conflict(
            f"shift {state.id} is signed and frozen; record a correction as an amendment"
        )
    if state.closed_at is not None:
        raise conflict(f"shift {state.id} is closed")

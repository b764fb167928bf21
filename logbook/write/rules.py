"""Rules every logbook write follows: an open shift, the clock. Who may do it where is
the access matrix's (``clearwell.authorize.require``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clearwell.web import conflict, invalid
from logbook.store import ShiftState

# Clocks on floor terminals drift: allow a little future on the times people give.
CLOCK_SKEW = timedelta(minutes=2)
# How far back a shift, its crew or a sample may be recorded (paper records typed in
# later): five years, as long as records are kept (40 CFR 122.41(j)(2) asks for three,
# 503.17 five). A year such as 1900 or 1970 is a typing error, not a record.
OLDEST_RECORD = timedelta(days=5 * 366)


def now() -> datetime:
    return datetime.now(UTC)


def check_not_future(field: str, at: datetime) -> None:
    if at > now() + CLOCK_SKEW:
        raise invalid(field, "is in the future")


def check_plausible(field: str, at: datetime, since: datetime | None = None) -> None:
    """A time a person gives for a shift or its crew: not in the future, and not more than
    ``OLDEST_RECORD`` before ``since`` (now; when the record was made, for an amendment)."""
    check_not_future(field, at)
    if at < (since or now()) - OLDEST_RECORD:
        raise invalid(field, f"is more than {OLDEST_RECORD.days // 366} years back")


def check_backdate(
    field: str, at: datetime, limit: timedelta, since: datetime | None = None
) -> None:
    """An entry's time: not in the future, and at most the site's backdate ``limit`` before
    ``since`` (now; when the entry was recorded, for an amendment)."""
    check_not_future(field, at)
    if at < (since or now()) - limit:
        hours = limit.total_seconds() / 3600
        back = "before it was recorded" if since else "before now"
        raise invalid(field, f"is more than {hours:g} h {back}, the limit this site sets")


def check_open(state: ShiftState) -> None:
    """A shift takes additions while it is open; a signed one is frozen."""
    if state.signed:
        raise conflict(
            f"shift {state.id} is signed and frozen; record a correction as an amendment"
        )
    if state.closed_at is not None:
        raise conflict(f"shift {state.id} is closed")

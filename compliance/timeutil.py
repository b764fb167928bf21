"""Instants, local days and their text form.

The engine works on UTC instants only. Dates (certificate issue and expiry, class and rule
changes) become instants at the facility's local midnight, so a certificate that expires
December 31 covers up to local midnight ending that day, whatever the UTC offset or DST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant of local 00:00 starting ``day`` in ``tz``."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def end_of_local_day(day: date, tz: tzinfo) -> datetime:
    """The UTC instant the local day ``day`` ends (the next local midnight)."""
    return local_midnight(day + timedelta(days=1), tz)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 timestamp that carries a UTC offset (``Z`` or ``±hh:mm``), as UTC.

    Raises ``ValueError`` for a timestamp without an offset: a local wall-clock time is
    ambiguous in the hour DST repeats.
    """
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset (write e.g. 2025-03-09T06:00:00-07:00)")
    return value.astimezone(UTC)


def iso_local(instant: datetime, tz: tzinfo) -> str:
    """An instant in the facility's local time with its offset, seconds precision."""
    return instant.astimezone(tz).isoformat(timespec="seconds")


def human_local(instant: datetime, tz: tzinfo) -> str:
    """How a chief operator reads a time: ``2025-03-09 01:30 MST``."""
    local = instant.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def human_span(start: datetime, end: datetime, tz: tzinfo) -> str:
    """``2025-03-09 01:30 MST to 03:30 MDT`` (the date repeated only when it changes)."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    tail = f"{b:%H:%M} {b.tzname()}" if a.date() == b.date() else human_local(end, tz)
    return f"{human_local(start, tz)} to {tail}"


def human_duration(delta: timedelta) -> str:
    """``45 min``, ``7 h``, ``4 h 30 min``; from a day on, days and hours: ``19 days``,
    ``1 day 2 h 30 min`` (a chief operator reads "19 days", not "456 h")."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'' if days == 1 else 's'}"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)

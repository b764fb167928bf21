"""JSON text as the API writes it: timestamps in UTC, as PostgreSQL writes them in JSON
when the session's time zone is UTC (microseconds only when there are any).

Compliance's API keeps its own two differences (non-ASCII text as is, Python's six-digit
fractions), asked for by keyword, so that one encoder writes every package's answers and
none of them changes by a byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any


def iso(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    if value.microsecond % 10 == 0 and value.microsecond:
        # PostgreSQL drops the fraction's trailing zeros (.80886, not .808860); an entry
        # must read the same from a listing (rendered by the database) as when written.
        whole, _, rest = text.partition(".")
        text = f"{whole}.{rest[:6].rstrip('0')}{rest[6:]}"
    return text


def _python_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _default_with(timestamp: Callable[[datetime], str]) -> Callable[[Any], Any]:
    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return timestamp(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, timedelta):
            return value.total_seconds()
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return default


_DEFAULTS = {True: _default_with(iso), False: _default_with(_python_iso)}


def dumps(value: Any, *, ensure_ascii: bool = True, trim_fractions: bool = True) -> str:
    """Compact JSON. ``ensure_ascii=False`` writes non-ASCII text as is; with
    ``trim_fractions=False`` a timestamp keeps Python's six-digit fraction (.808860)."""
    return json.dumps(
        value,
        default=_DEFAULTS[trim_fractions],
        separators=(",", ":"),
        ensure_ascii=ensure_ascii,
    )

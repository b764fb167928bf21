"""JSON text as the API writes it: timestamps in UTC, as PostgreSQL writes them in JSON
when the session's time zone is UTC (microseconds only when there are any), and text as
is (UTF-8: a citation reads "VT §3(a)", not "VT \\u00a73(a)"). One encoding for every
package's answers.
"""

from __future__ import annotations

import json
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


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON in the API's one encoding."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)

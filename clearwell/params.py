"""Request values every router shares, bounded as PostgreSQL and Python hold them: record
ids within PostgreSQL's ``integer`` range, decimal ids read from text, instants and days
that a year's arithmetic either side cannot overflow, and text and numbers a JSON answer
and the database can both hold (no NUL byte, no lone surrogate, no NaN or infinity).
Pure: the middleware in ``clearwell.inputs`` applies the last to every request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, AwareDatetime

# The ids of people, sites and tags are PostgreSQL integers; the bigint ids of records
# will not pass this in a plant's lifetime, and one bound for every id keeps a number
# beyond a column's range (a 500 from the database) out of every route.
ID_MAX = 2**31 - 1
Id = Annotated[int, annotated_types.Interval(ge=1, le=ID_MAX)]

# Python's dates end at years 1 and 9999: a time at 0001-01-01 +14:00 is in year 0 in
# UTC, and a window's day or year either side of 9999-12-31 raises OverflowError.
YEAR_MIN, YEAR_MAX = 2, 9998


def day_problem(day: date) -> str | None:
    """Why ``day`` is out of the range every computation on it can take, or None."""
    if YEAR_MIN <= day.year <= YEAR_MAX:
        return None
    return f"must be between the years {YEAR_MIN} and {YEAR_MAX}"


def instant_problem(value: datetime) -> str | None:
    """Why an aware time is out of range (in UTC, where it is stored), or None."""
    try:
        return day_problem(value.astimezone(UTC).date())
    except OverflowError:
        return f"must be between the years {YEAR_MIN} and {YEAR_MAX}"


def _instant(value: datetime) -> datetime:
    problem = instant_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A time with its zone, that converts to UTC and leaves room for a year's arithmetic.
Instant = Annotated[AwareDatetime, AfterValidator(_instant)]

_DECIMAL = re.compile(r"[0-9]{1,10}")
# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be written as UTF-8.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def decimal_id(text: str) -> int | None:
    """``text`` as an id if it is one written in ASCII digits within ``Id``'s range.

    Not ``str.isdigit``: it is true of "³" and "①", which ``int`` refuses.
    """
    if _DECIMAL.fullmatch(text) is None:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or answered, or None."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "text may not contain a NUL byte"
    return "text may not contain a lone surrogate (not a Unicode character)"


def value_problems(
    value: Any, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Where in a decoded JSON value a text or a number cannot be stored, and why."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield loc, problem
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield loc, "a number must be finite (not NaN or infinity)"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem:
                yield (*loc, key.encode("utf-8", "replace").decode()), f"a key: {problem}"
            else:
                yield from value_problems(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from value_problems(item, (*loc, index))


def finite(value: Any) -> Any:
    """``value`` with non-finite floats as their names, so that it can be JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value

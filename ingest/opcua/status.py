"""OPC UA status codes as they are stored, and the quality derived from them.

``readings.status`` keeps the server's whole 32-bit code (severity, sub-code and
info bits) as a two's-complement ``int4``; nothing is rounded to a coarser
quality. Good/Uncertain/Bad is derived from the top two bits, in Python here
and in SQL as ``CASE (status >> 30) & 3 WHEN 0 THEN 'good' WHEN 1 THEN
'uncertain' ELSE 'bad' END``.
"""

from __future__ import annotations

from typing import Literal

from ingest.status_codes import as_int32

Quality = Literal["good", "uncertain", "bad"]

# BadTypeMismatch: the variable holds something that is not a number (text, an array).
BAD_TYPE_MISMATCH = 0x80740000


def quality(code: int) -> Quality:
    """Good, Uncertain or Bad, from the severity bits (11, reserved, counts as Bad)."""
    severity = (code & 0xFFFFFFFF) >> 30
    if severity == 0:
        return "good"
    if severity == 1:
        return "uncertain"
    return "bad"


def stored(code: int) -> int:
    """The value kept in ``readings.status``: the same 32 bits, signed."""
    return as_int32(code)


def unsigned(status: int) -> int:
    """The status code a stored value came from."""
    return status & 0xFFFFFFFF


def name(code: int) -> str:
    """The code's symbolic name (e.g. ``BadSensorFailure``), else its hex form."""
    from asyncua.ua.status_codes import get_name_and_doc

    code &= 0xFFFFFFFF
    try:
        found, _doc = get_name_and_doc(code & 0xFFFF0000)
    except KeyError:
        return f"0x{code:08X}"
    return found if code & 0xFFFF == 0 else f"{found} (0x{code:08X})"


def reading_value(value: object, code: int) -> tuple[float | None, int]:
    """What a notification stores: the number and the status kept with it.

    A Bad value is stored without its number (the server says it is not to be
    used), never replaced by an earlier good one; an Uncertain one keeps its
    number. A value that is not a number is stored as BadTypeMismatch.
    """
    if quality(code) == "bad":
        return None, stored(code)
    if isinstance(value, bool):
        return (1.0 if value else 0.0), stored(code)
    if isinstance(value, int | float):
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            return None, stored(BAD_TYPE_MISMATCH)
        return number, stored(code)
    return None, stored(BAD_TYPE_MISMATCH)

"""Report by exception: which readings of a tag are worth storing.

A tag without a deadband stores every good reading. A tag with one stores a
reading when its value moved by more than the deadband since the last stored
value, or when ``max_interval_s`` passed since then (so a steady value still
shows up in the record). A change of quality is always stored; a bad quality
that persists is stored once, not once per poll.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.status_codes import GOOD


@dataclass(frozen=True)
class Stored:
    """What was last stored for a tag."""

    value: float | None
    status: int
    time: float  # seconds since the epoch


def should_store(
    last: Stored | None,
    value: float | None,
    status: int,
    time: float,
    deadband: float | None,
    max_interval_s: float | None,
) -> bool:
    if last is None or status != last.status:
        return True
    if status != GOOD:
        return False
    if deadband is None or value is None or last.value is None:
        return True
    if abs(value - last.value) > deadband:
        return True
    return max_interval_s is not None and time - last.time >= max_interval_s

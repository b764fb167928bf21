"""Report by exception: which readings of a tag are worth storing.

A tag without a deadband stores every good reading. A tag with one stores a
reading when its value moved by more than the deadband since the last stored
value, or when ``max_interval_s`` passed since then (so a steady value still
shows up in the record). A change of quality is always stored; a bad quality
that persists is stored once, not once per poll.

A polled tag without a deadband of its own gets a default one by its kind
(:func:`stored_deadband`): an on/off state is stored when it changes, an analog
value with an engineering range when it moves by ``default_deadband_percent`` of
that range (0.5 % by default, about a transmitter's stated accuracy, so what is
not stored is within the instrument's own error). The max interval then stores
it at least that often, the heartbeat that tells a steady value from a silent
source (``tags.expected_interval_s``, which the trends and the floor read).
A tag without a range (a totalizer, a count) has no default: give it a deadband
of the resolution wanted, or every poll is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.status_codes import GOOD
from sitefile.models import BIT_REGISTERS, Tag


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


def is_state(tag: Tag) -> bool:
    """An on/off tag: a coil, a discrete input or a register read as a bit."""
    m = tag.modbus
    return (
        tag.source == "modbus" and m is not None and (m.kind in BIT_REGISTERS or m.type == "bool")
    )


def stored_deadband(tag: Tag, default_percent: float | None) -> float | None:
    """The deadband Clearwell stores a polled tag by: its own (:attr:`Tag.applied_deadband`),
    else the default of its kind (see the module's docstring), else None (every reading)."""
    own = tag.applied_deadband
    if own is not None or default_percent is None:
        return own
    if tag.source == "opcua" and tag.opcua is not None and tag.opcua.mode == "subscribe":
        # The server reports changes; its data-change filter is the deadband there.
        return None
    if is_state(tag):
        return 0.0
    if tag.eng_range is not None:
        low, high = tag.eng_range
        return default_percent / 100 * (high - low)
    return None

"""Alarm limits: when a tag's value crosses one, and when the crossing is over.

Each of a tag's four limits (lo_lo, lo, hi, hi_hi) is tracked on its own, so a
value above hi_hi has both the hi and the hi_hi condition active. A condition
raises an event when it starts. When the value comes back inside, the event is
not closed at once: it stays open for ``hold_s`` and a return within that time
is a repeat of the same event (the events table counts it in ``occurrences``)
instead of a new row, so a value chattering around a limit makes one event,
not hundreds. The event's end is the time the value came back for good.
Readings without a value (bad quality) change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LIMIT_CODES: tuple[str, ...] = ("lo_lo", "lo", "hi", "hi_hi")
SEVERITY = {"lo_lo": "alarm", "lo": "warning", "hi": "warning", "hi_hi": "alarm"}


@dataclass(frozen=True)
class LimitState:
    active: bool = False
    # When the value came back inside while the event is held open.
    cleared_at: float | None = None


@dataclass(frozen=True)
class LimitChange:
    action: Literal["raise", "clear"]
    code: str
    time: float
    value: float
    threshold: float


def in_condition(code: str, value: float, threshold: float) -> bool:
    return value > threshold if code.startswith("hi") else value < threshold


def step(
    state: LimitState, code: str, threshold: float, value: float | None, time: float, hold_s: float
) -> tuple[LimitState, LimitChange | None]:
    """The next state of one limit after a reading, and the event change it causes."""
    if value is None:
        return state, None
    if in_condition(code, value, threshold):
        if not state.active or state.cleared_at is not None:
            return LimitState(active=True), LimitChange("raise", code, time, value, threshold)
        return state, None
    if not state.active:
        return state, None
    cleared_at = state.cleared_at if state.cleared_at is not None else time
    if time - cleared_at >= hold_s:
        return LimitState(), LimitChange("clear", code, cleared_at, value, threshold)
    return LimitState(active=True, cleared_at=cleared_at), None

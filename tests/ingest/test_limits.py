"""Limit crossings: raise, repeats held into one event, clear after the hold."""

from __future__ import annotations

import pytest

from ingest.limits import LimitState, step


def run(code: str, threshold: float, values: list[tuple[float, float | None]], hold: float):
    state = LimitState()
    out = []
    for t, v in values:
        state, change = step(state, code, threshold, v, t, hold)
        if change:
            out.append((change.action, change.time))
    return out, state


@pytest.mark.parametrize(
    ("code", "threshold", "series", "hold", "expected"),
    [
        # Never crosses.
        ("hi", 5.0, [(0, 1.0), (1, 4.9), (2, 5.0)], 10, []),
        # Crosses, stays, comes back and stays back past the hold: one raise, one clear
        # at the time it came back.
        (
            "hi",
            5.0,
            [(0, 1), (1, 6), (2, 7), (3, 4), (10, 4), (13, 4)],
            10,
            [("raise", 1), ("clear", 3)],
        ),
        # Chatter within the hold: repeats (raise again on the open event), one clear.
        (
            "hi",
            5.0,
            [(0, 6), (1, 4), (2, 6), (3, 4), (4, 6), (5, 4), (20, 4)],
            10,
            [("raise", 0), ("raise", 2), ("raise", 4), ("clear", 5)],
        ),
        # Low limits trip below.
        ("lo", 1.0, [(0, 5), (1, 0.5), (2, 5)], 0, [("raise", 1), ("clear", 2)]),
        ("lo_lo", 0.15, [(0, 0.1), (1, 0.12), (2, 0.2)], 0, [("raise", 0), ("clear", 2)]),
        # A reading without a value changes nothing, neither raises nor clears.
        ("hi", 5.0, [(0, 6), (1, None), (2, None), (30, 6)], 10, [("raise", 0)]),
    ],
)
def test_limit_sequences(code, threshold, series, hold, expected) -> None:
    out, _ = run(code, threshold, series, hold)
    assert out == expected


def test_pending_clear_is_kept_until_the_hold_passes() -> None:
    out, state = run("hi", 5.0, [(0, 6), (1, 4), (5, 4)], 10)
    assert out == [("raise", 0)]
    assert state.active and state.cleared_at == 1

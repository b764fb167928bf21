"""How long a login waits after failures (pure): a doubling wait, never a lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logbook.auth import throttle
from logbook.auth.throttle import Failures, backoff, wait

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NONE = (0, None)


def test_the_wait_doubles_from_30_s_to_15_min() -> None:
    waits = [backoff(n, 5).total_seconds() for n in range(4, 12)]
    assert waits == [0, 30, 60, 120, 240, 480, 900, 900]
    assert backoff(10_000, 5) == throttle.LONGEST_WAIT


def test_a_wait_runs_from_the_newest_failure_and_then_the_attempt_is_checked() -> None:
    pair = Failures((5, NOW - timedelta(seconds=10)), NONE, NONE, known=True)
    assert wait(pair, NOW) == timedelta(seconds=20)
    assert wait(pair, NOW + timedelta(seconds=20)) == timedelta(0)


def test_the_persons_own_address_is_not_held_by_guesses_from_elsewhere() -> None:
    elsewhere = (40, NOW)
    assert wait(Failures(NONE, elsewhere, NONE, known=True), NOW) == timedelta(0)
    assert wait(Failures(NONE, elsewhere, NONE, known=False), NOW) > timedelta(0)
    names = (throttle.FREE_NAMES_PER_ADDRESS, NOW)
    assert wait(Failures(NONE, NONE, names, known=True), NOW) == timedelta(0)
    assert wait(Failures(NONE, NONE, names, known=False), NOW) == throttle.FIRST_WAIT

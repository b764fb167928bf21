"""How long a login (or a password re-entered to sign, or a PIN at a floor terminal) must
wait after failures: pure, no I/O.

The limits slow whoever guesses without handing anyone a way to lock others out:

- per username AND address: a few free failures, then each further attempt waits twice
  as long as the one before (30 s, 1 min, 2 min, ... up to 15 min), counted since that
  username last succeeded from that address;
- per username from addresses where it has not logged in lately (guesses spread over
  many addresses): the same backoff after more failures. The person's own terminals are
  exempt, so guesses from elsewhere cannot keep them out;
- per address over distinct usernames (one password tried on many names): backoff after
  a few names, for names that have not logged in from there lately, so the trainee
  at a shared floor terminal is not kept out by someone else's typing.

Only attempts whose secret was checked and wrong count; an attempt refused for waiting
is not checked and does not count, so nobody can keep anyone waiting forever by trying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Failures counted within this window (and since the last success, per pair).
WINDOW = timedelta(hours=24)
# An address where a username logged in within this long is one of that person's own.
KNOWN_ADDRESS = timedelta(days=30)
FREE_PER_PAIR = 5
FREE_PER_USER = 20
FREE_NAMES_PER_ADDRESS = 10
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)


@dataclass(frozen=True)
class Failures:
    """The failures that judge one attempt: ``(count, newest)`` for the username from this
    address, for the username from addresses not its own, and the distinct usernames that
    failed from this address; ``known``: the username logged in from here lately."""

    pair: tuple[int, datetime | None]
    user: tuple[int, datetime | None]
    address_names: tuple[int, datetime | None]
    known: bool


def backoff(failures: int, free: int) -> timedelta:
    """The wait after the newest of ``failures`` failures when ``free`` are free."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 16)
    return min(FIRST_WAIT * 2**doublings, LONGEST_WAIT)


def _left(counted: tuple[int, datetime | None], free: int, now: datetime) -> timedelta:
    n, newest = counted
    if newest is None:
        return timedelta(0)
    return max(newest + backoff(n, free) - now, timedelta(0))


def wait(failures: Failures, now: datetime) -> timedelta:
    """How long this attempt must wait (zero: it is checked now)."""
    waits = [_left(failures.pair, FREE_PER_PAIR, now)]
    if not failures.known:
        waits.append(_left(failures.user, FREE_PER_USER, now))
        waits.append(_left(failures.address_names, FREE_NAMES_PER_ADDRESS, now))
    return max(waits)

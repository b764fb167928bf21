"""Deterministic pseudo-random signals: functions of (seed, channel, time) only.

Because they do not depend on how time was stepped, the driving signals of the
plant (influent, rain, drifts) are identical whatever the step size or speed.
"""

from __future__ import annotations

import math
from functools import lru_cache

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 chained), stable across processes."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) & _MASK
        h = (h + 0x9E3779B97F4A7C15) & _MASK
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        h = z ^ (z >> 31)
    return h


# A plant step asks for the same knots and event blocks again and again (a noise knot
# stays for its period, an event block for hours): caching them makes generating a
# month of history about four times faster.
@lru_cache(maxsize=1 << 13)
def uniform(*parts: int) -> float:
    """A number in [0, 1) determined by ``parts``."""
    return (mix(*parts) >> 11) / float(1 << 53)


def value_noise(seed: int, channel: int, t: float, period: float) -> float:
    """Smooth noise in [-1, 1]: random knots every ``period`` seconds, eased between."""
    x = t / period
    k = math.floor(x)
    f = x - k
    a = uniform(seed, channel, k) * 2.0 - 1.0
    b = uniform(seed, channel, k + 1) * 2.0 - 1.0
    ease = f * f * (3.0 - 2.0 * f)
    return a + (b - a) * ease


def events_at(
    seed: int,
    channel: int,
    t: float,
    block: float,
    probability: float,
    min_duration: float,
    max_duration: float,
) -> list[tuple[float, float, float]]:
    """Events active at ``t`` as (start, duration, size in [0, 1)).

    Each ``block`` seconds holds at most one event, starting somewhere inside
    the block; ``max_duration`` must not exceed two blocks.
    """
    found = []
    k = math.floor(t / block)
    for b in (k - 2, k - 1, k):
        if uniform(seed, channel, b, 0) >= probability:
            continue
        start = (b + uniform(seed, channel, b, 1)) * block
        duration = min_duration + (max_duration - min_duration) * uniform(seed, channel, b, 2)
        if start <= t < start + duration:
            found.append((start, duration, uniform(seed, channel, b, 3)))
    return found

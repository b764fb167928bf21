"""Daily and monthly values for operating reports: pure functions, no I/O.

Missing is never silently filled: a value that cannot be computed is a
``Missing`` with a reason code, and the report prints the code.

Reason codes:
  NO_DATA      no good sample in the period
  PARTIAL      good samples cover less of the period than the report requires
  BAD_QUALITY  samples exist but all carry a bad quality status
  NOT_SAMPLED  no lab result for a day the permit requires one
  METER_RESET  a totalizer went backwards; the day's total counts only forward steps
  NO_WEEK      no calendar week (Sunday to Saturday) ends in the period (a month to date)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class BelowDetection(StrEnum):
    """How results below the detection limit enter averages; the report states the choice."""

    ZERO = "zero"  # a non-detect counts as 0 (EPA's usual DMR convention)
    HALF_LIMIT = "half_limit"  # counts as half its detection limit
    LIMIT = "limit"  # counts as its detection limit (conservative)

    def describe(self) -> str:
        return {
            "zero": "results below detection counted as zero",
            "half_limit": "results below detection counted as half the detection limit",
            "limit": "results below detection counted at the detection limit",
        }[self.value]


@dataclass(frozen=True)
class Result:
    """A lab result or a daily value: ``qualifier`` '<' or 'ND' marks a non-detect."""

    value: float | None
    qualifier: str | None = None
    detection_limit: float | None = None

    @property
    def non_detect(self) -> bool:
        return self.qualifier in {"<", "ND"}


@dataclass(frozen=True)
class Missing:
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Stat:
    """A statistic; ``qualifier`` '<' when every contributing result was a non-detect."""

    value: float
    qualifier: str | None = None
    count: int = 0
    flag: str | None = None  # a reason code that qualifies a value still reported

    def __str__(self) -> str:
        text = f"{self.qualifier or ''}{self.value:g}"
        return f"{text} ({self.flag})" if self.flag else text


Value = Stat | Missing


def _contribution(r: Result, rule: BelowDetection) -> float:
    if not r.non_detect:
        assert r.value is not None
        return r.value
    limit = r.detection_limit if r.detection_limit is not None else (r.value or 0.0)
    return {
        BelowDetection.ZERO: 0.0,
        BelowDetection.HALF_LIMIT: limit / 2,
        BelowDetection.LIMIT: limit,
    }[rule]


def _usable(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if r.value is not None or r.non_detect]


def _all_below(results: list[Result]) -> Stat:
    limits = [r.detection_limit or r.value or 0.0 for r in results]
    return Stat(max(limits), "<", len(results))


def arithmetic_mean(results: Sequence[Result], rule: BelowDetection) -> Value:
    usable = _usable(results)
    if not usable:
        return Missing("NO_DATA")
    if all(r.non_detect for r in usable):
        return _all_below(usable)
    values = [_contribution(r, rule) for r in usable]
    return Stat(sum(values) / len(values), None, len(values))


def geometric_mean(results: Sequence[Result], rule: BelowDetection) -> Value:
    """For bacteria (E. coli, fecal coliform). A count of zero enters as 1, as state
    permits commonly direct, because the logarithm of zero is undefined."""
    usable = _usable(results)
    if not usable:
        return Missing("NO_DATA")
    if all(r.non_detect for r in usable):
        return _all_below(usable)
    logs = [math.log(max(_contribution(r, rule), 1.0)) for r in usable]
    return Stat(math.exp(sum(logs) / len(logs)), None, len(logs))


def maximum(results: Sequence[Result]) -> Value:
    usable = _usable(results)
    if not usable:
        return Missing("NO_DATA")
    detected = [r.value for r in usable if not r.non_detect and r.value is not None]
    if not detected:
        return _all_below(usable)
    return Stat(max(detected), None, len(usable))


def minimum(results: Sequence[Result]) -> Value:
    usable = _usable(results)
    if not usable:
        return Missing("NO_DATA")
    non_detects = [r for r in usable if r.non_detect]
    if non_detects:
        # The smallest result is "below detection"; its limit is what is known.
        return Stat(min(r.detection_limit or r.value or 0.0 for r in non_detects), "<", len(usable))
    return Stat(min(r.value for r in usable if r.value is not None), None, len(usable))


@dataclass(frozen=True)
class Sample:
    """One reading: seconds since the period's start, value, and whether its quality is good."""

    t: float
    value: float | None
    good: bool = True


def totalizer_total(samples: Sequence[Sample], period_s: float, min_coverage: float) -> Value:
    """Volume through a totalizer over a period: the sum of its forward steps.

    ``samples`` should include the last reading before the period (negative t)
    so the first step of the period is counted. A step backwards is a meter
    reset or rollover: it adds nothing and is reported. Coverage is the span of
    good samples over the period.
    """
    good = [s for s in samples if s.good and s.value is not None]
    if not samples:
        return Missing("NO_DATA")
    if not good:
        return Missing("BAD_QUALITY")
    if len(good) < 2:
        return Missing("PARTIAL")
    span = min(good[-1].t, period_s) - max(good[0].t, 0.0)
    if span < min_coverage * period_s:
        return Missing("PARTIAL")
    total, reset = 0.0, False
    for a, b in zip(good, good[1:], strict=False):
        assert a.value is not None and b.value is not None
        step = b.value - a.value
        if step < 0:
            reset = True
        else:
            total += step
    return Stat(total, None, len(good), "METER_RESET" if reset else None)

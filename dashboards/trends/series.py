"""A trend's buckets made into the arrays a chart draws, with gaps and bad spans marked.

Pure: the buckets come from a query (rollups or raw readings), and what is
missing stays missing. A bucket without good samples has no value (``None``,
which the chart draws as a break), with one exception that is not
interpolation: collectors store a value by exception (deadband) or a Bad
status once when it starts, so a silence shorter than the tag's gap threshold
after a good sample means "unchanged", and a bucket that ends within it shows
the held value.

Spans are [from, to] in seconds since the epoch:

* ``bad``: a bucket with any Uncertain or Bad sample, and the silence after a
  sample whose status was not Good (it stays bad until the next sample says
  otherwise);
* ``gaps``: a silence longer than the gap threshold after a good sample, or
  before the first sample of the window when nothing earlier is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dashboards.trends.quality import is_good
from dashboards.trends.resolution import grid

Span = tuple[float, float]


@dataclass(frozen=True)
class Bucket:
    start: int  # seconds since the epoch, a multiple of the bucket width
    n_good: int
    n_bad: int
    min: float | None
    max: float | None
    sum: float | None
    last: float | None  # the last good value
    first_time: float  # first sample of any status
    last_time: float  # last sample of any status
    last_status: int


@dataclass(frozen=True)
class Sample:
    """The last reading before the window: tells a gap from a held value at its start."""

    time: float
    value: float | None
    status: int


@dataclass(frozen=True)
class Summary:
    """A pen over its buckets: the lowest and highest good sample, the mean of every good
    sample (from the buckets' sums and counts, so exact), and how many samples there were."""

    min: float | None
    max: float | None
    avg: float | None
    n_good: int
    n_bad: int


@dataclass
class Series:
    t: list[int] = field(default_factory=list)
    min: list[float | None] = field(default_factory=list)
    max: list[float | None] = field(default_factory=list)
    avg: list[float | None] = field(default_factory=list)
    gaps: list[Span] = field(default_factory=list)
    bad: list[Span] = field(default_factory=list)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def merge_spans(spans: Iterable[Span], lo: float, hi: float) -> list[Span]:
    """Spans clipped to [lo, hi], sorted, with overlapping or touching ones joined."""
    out: list[list[float]] = []
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(round(a, 3), round(b, 3)) for a, b in out]


def shape(
    buckets: Sequence[Bucket],
    *,
    start_s: float,
    end_s: float,
    bucket_s: int,
    gap_after_s: float,
    before: Sample | None,
    now_s: float,
) -> Series:
    """The series over the bucket grid of [start_s, end_s).

    ``buckets`` are the non-empty buckets in time order; ``now_s`` stops the
    trailing silence of a window that reaches into the future from counting as a gap.
    """
    by_start = {b.start: b for b in buckets}
    horizon = min(end_s, now_s)
    last_time = before.time if before else None
    last_good = before is not None and is_good(before.status) and before.value is not None
    held = _finite(before.value) if before and last_good else None
    gaps: list[Span] = []
    bad: list[Span] = []

    def silence(until: float) -> None:
        since = start_s if last_time is None else max(last_time, start_s)
        if until <= since:
            return
        if last_time is not None and not last_good:
            bad.append((since, until))
        elif until - (since if last_time is None else last_time) > gap_after_s:
            gaps.append((since, until))

    series = Series()
    for t in grid(start_s, end_s, bucket_s):
        b = by_start.get(t)
        lo = hi = mean = None
        if b is None:
            if (
                last_good
                and held is not None
                and last_time is not None
                and t + bucket_s <= last_time + gap_after_s
                and t < horizon
            ):
                lo = hi = mean = held
        else:
            silence(b.first_time)
            if b.n_bad:
                bad.append((t, t + bucket_s))
            if b.n_good:
                lo, hi = _finite(b.min), _finite(b.max)
                mean = _finite(b.sum / b.n_good) if b.sum is not None else None
                if _finite(b.last) is not None:
                    held = b.last
            last_time = b.last_time
            last_good = is_good(b.last_status) and b.n_good > 0
        series.t.append(t)
        series.min.append(lo)
        series.max.append(hi)
        series.avg.append(mean)
    if horizon > start_s:
        silence(horizon)
    series.gaps = merge_spans(gaps, start_s, end_s)
    series.bad = merge_spans(bad, start_s, end_s)
    return series


def summarize(buckets: Sequence[Bucket]) -> Summary:
    """The summary of a pen's buckets (those the query found: the chart's, and no held values)."""
    lows = [v for b in buckets if b.n_good and (v := _finite(b.min)) is not None]
    highs = [v for b in buckets if b.n_good and (v := _finite(b.max)) is not None]
    sums = [(b.sum, b.n_good) for b in buckets if b.n_good and _finite(b.sum) is not None]
    n = sum(k for _, k in sums)
    return Summary(
        min=min(lows, default=None),
        max=max(highs, default=None),
        avg=_finite(sum(s for s, _ in sums if s is not None) / n) if n else None,
        n_good=sum(b.n_good for b in buckets),
        n_bad=sum(b.n_bad for b in buckets),
    )

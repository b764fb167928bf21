import math

import pytest

from dashboards.trends.series import Bucket, Sample, Summary, merge_spans, shape, summarize

BAD = -2147155968  # BadCommunicationError


def full(start: int, width: int, value: float, *, n_bad: int = 0, status: int = 0) -> Bucket:
    """A bucket of a 1 s tag with one good sample per second at ``value``."""
    n = width - n_bad
    return Bucket(start, n, n_bad, value, value, value * n, value if n else None,
                  float(start), float(start + width - 1), status)  # fmt: skip


def sparse(start: int, t: float, value: float | None, status: int = 0) -> Bucket:
    """A bucket holding one sample at time ``t``."""
    good = status == 0 and value is not None
    return Bucket(start, int(good), int(not good), value if good else None,
                  value if good else None, value if good else None, value if good else None,
                  t, t, status)  # fmt: skip


def run(buckets, *, start=0, end=600, width=60, gap_after=3.0, before=None, now=10**9):
    return shape(buckets, start_s=start, end_s=end, bucket_s=width, gap_after_s=gap_after,
                 before=before, now_s=now)  # fmt: skip


def test_complete_data_has_no_spans_and_exact_values():
    s = run([full(t, 60, 1.0 + t / 60) for t in range(0, 600, 60)],
            before=Sample(-1.0, 1.0, 0))  # fmt: skip
    assert s.t == list(range(0, 600, 60))
    assert s.avg == [1.0 + k for k in range(10)]
    assert s.min == s.max == s.avg
    assert s.gaps == [] and s.bad == []


def test_a_missing_minute_of_a_1s_tag_is_a_gap_and_not_filled():
    buckets = [full(t, 60, 7.0) for t in range(0, 600, 60) if t != 240]
    s = run(buckets, before=Sample(-1.0, 7.0, 0))
    assert s.avg[4] is None and s.min[4] is None and s.max[4] is None
    assert s.avg[3] == s.avg[5] == 7.0
    # From the last sample of minute 3 to the first of minute 5.
    assert s.gaps == [(239.0, 300.0)]
    assert s.bad == []


def test_a_tag_recorded_by_exception_holds_its_value_between_samples():
    # Deadband tag stored every 100 s while steady; 10 s buckets; gap after 3 x 60 s.
    buckets = [sparse(t, float(t), 4.0 + t / 100) for t in range(0, 600, 100)]
    s = run(buckets, width=10, gap_after=180.0, before=Sample(-50.0, 3.0, 0))
    assert None not in s.avg
    assert s.avg[0] == 4.0 and s.avg[5] == 4.0  # 50 s: held since the sample at 0 s
    assert s.avg[10] == 5.0
    assert s.gaps == []


def test_held_value_stops_at_the_gap_threshold():
    s = run([sparse(0, 0.0, 2.0)], width=10, end=600, gap_after=180.0, now=600)
    held = [v for v in s.avg if v is not None]
    assert len(held) == 18  # buckets starting at 0 .. 170 s
    assert s.gaps == [(0.0, 600.0)]


def test_a_bad_status_stays_bad_until_the_next_sample():
    # Link lost at 120 s (stored once), back at 360 s.
    buckets = [full(0, 60, 5.0), full(60, 60, 5.0), sparse(120, 120.0, None, BAD),
               full(360, 60, 6.0), full(420, 60, 6.0)]  # fmt: skip
    s = run(buckets, end=480, before=Sample(-1.0, 5.0, 0), now=480)
    assert s.avg == [5.0, 5.0, None, None, None, None, 6.0, 6.0]
    assert s.bad == [(120.0, 360.0)]  # its bucket, then the silence until the good sample
    assert s.gaps == []


def test_a_bucket_with_some_bad_samples_keeps_its_good_values_and_is_marked():
    s = run([full(0, 60, 5.0), full(60, 60, 5.0, n_bad=3)], end=120,
            before=Sample(-1.0, 5.0, 0), now=120)  # fmt: skip
    assert s.avg == [5.0, 5.0]
    assert s.bad == [(60.0, 120.0)]


def test_uncertain_last_status_counts_as_not_good():
    s = run([sparse(0, 10.0, None, 0x40000000)], end=120, now=120, gap_after=3.0,
            before=Sample(9.0, 1.0, 0))  # fmt: skip
    assert s.bad == [(0.0, 120.0)]


@pytest.mark.parametrize(
    ("before", "gaps", "bad"),
    [
        (None, [(0.0, 30.0)], []),  # nothing known before the first sample
        (Sample(-2.0, 9.0, 0), [(0.0, 30.0)], []),  # known, but too long ago for 1 s
        (Sample(-2.0, 9.0, BAD), [], [(0.0, 30.0)]),  # bad since before the window
    ],
)
def test_the_start_of_the_window(before, gaps, bad):
    first_half = Bucket(0, 30, 0, 1.0, 1.0, 30.0, 1.0, 30.0, 59.0, 0)  # samples 30..59 s
    s = run([first_half, full(60, 60, 1.0)], end=120, now=120, before=before)
    assert s.gaps == gaps
    assert s.bad == bad


def test_a_recent_good_sample_before_the_window_holds_into_it():
    s = run([sparse(60, 80.0, 1.0)], width=10, end=100, now=100, gap_after=180.0,
            before=Sample(-20.0, 9.0, 0))  # fmt: skip
    assert s.avg[:3] == [9.0, 9.0, 9.0]
    assert s.gaps == []


def test_no_gap_is_reported_in_the_future():
    # Window to 600 s, but "now" is 130 s: data up to 119 s, silence of 11 s only;
    # the current bucket holds the value, later ones are empty.
    s = run([full(0, 60, 1.0), full(60, 60, 1.0)], end=600, now=130, gap_after=180.0,
            before=Sample(-1.0, 1.0, 0))  # fmt: skip
    assert s.gaps == []
    assert s.avg[2:] == [1.0] + [None] * 7


def test_trailing_silence_up_to_now_is_a_gap():
    s = run([full(0, 60, 1.0)], end=600, now=600, before=Sample(-1.0, 1.0, 0))
    assert s.gaps == [(59.0, 600.0)]


def test_non_finite_values_are_not_drawn():
    b = Bucket(0, 60, 0, -math.inf, math.inf, math.nan, math.nan, 0.0, 59.0, 0)
    s = run([b], end=60, now=60, before=Sample(-1.0, 1.0, 0))
    assert s.min == [None] and s.max == [None] and s.avg == [None]


def test_merge_spans_clips_sorts_and_joins():
    spans = [(50, 70), (-10, 5), (5, 8), (60, 90), (95, 200), (30, 30)]
    assert merge_spans(spans, 0, 100) == [(0, 8), (50, 90), (95, 100)]


def test_a_pens_summary_over_its_buckets_is_exact():
    buckets = [
        full(0, 60, 2.0),
        full(60, 60, 5.0, n_bad=20),  # 40 good samples at 5.0, 20 bad
        sparse(120, 121.0, None, BAD),  # bad only: no value
        Bucket(180, 2, 0, -1.0, 9.0, 8.0, 9.0, 180.0, 181.0, 0),
    ]
    s = summarize(buckets)
    assert (s.min, s.max) == (-1.0, 9.0)
    # The mean of every good sample, not of the buckets' means: (120 + 200 + 8) / 102.
    assert s.avg == pytest.approx((2.0 * 60 + 5.0 * 40 + 8.0) / 102, rel=1e-12)
    assert (s.n_good, s.n_bad) == (102, 21)


def test_a_pen_without_good_samples_summarizes_to_nothing():
    assert summarize([sparse(0, 1.0, None, BAD)]) == Summary(None, None, None, 0, 1)
    assert summarize([]) == Summary(None, None, None, 0, 0)

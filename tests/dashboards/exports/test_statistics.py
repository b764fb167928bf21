import math

import pytest

from dashboards.exports.statistics import (
    BelowDetection,
    Missing,
    Result,
    Sample,
    Stat,
    arithmetic_mean,
    geometric_mean,
    maximum,
    minimum,
    totalizer_total,
)

R = Result
ND2 = R(2.0, "<", 2.0)  # below a detection limit of 2


@pytest.mark.parametrize(
    ("results", "rule", "expected"),
    [
        ([R(10), R(20), R(30)], BelowDetection.ZERO, Stat(20, None, 3)),
        ([R(10), ND2, R(20)], BelowDetection.ZERO, Stat(10, None, 3)),
        ([R(10), ND2, R(20)], BelowDetection.HALF_LIMIT, Stat(31 / 3, None, 3)),
        ([R(10), ND2, R(20)], BelowDetection.LIMIT, Stat(32 / 3, None, 3)),
        ([ND2, R(1.0, "ND", 5.0)], BelowDetection.ZERO, Stat(5.0, "<", 2)),
        ([], BelowDetection.ZERO, Missing("NO_DATA")),
        ([R(None)], BelowDetection.ZERO, Missing("NO_DATA")),
    ],
)
def test_arithmetic_mean(results, rule, expected):
    got = arithmetic_mean(results, rule)
    if isinstance(expected, Missing):
        assert got == expected
    else:
        assert isinstance(got, Stat)
        assert got.value == pytest.approx(expected.value)
        assert (got.qualifier, got.count) == (expected.qualifier, expected.count)


def test_geometric_mean_of_bacteria_counts_zero_as_one():
    got = geometric_mean([R(10), R(1000), R(0)], BelowDetection.ZERO)
    assert isinstance(got, Stat)
    assert got.value == pytest.approx(math.exp((math.log(10) + math.log(1000) + 0) / 3))
    assert geometric_mean([R(1, "<", 1), R(1, "<", 1)], BelowDetection.ZERO) == Stat(1, "<", 2)


def test_maximum_and_minimum_keep_non_detects_qualified():
    assert maximum([R(3), ND2, R(7)]) == Stat(7, None, 3)
    assert maximum([ND2, R(1, "<", 1)]) == Stat(2.0, "<", 2)
    assert minimum([R(3), ND2, R(7)]) == Stat(2.0, "<", 3)
    assert minimum([R(3), R(7)]) == Stat(3, None, 2)
    assert minimum([]) == Missing("NO_DATA")


DAY = 86400.0


def test_totalizer_counts_forward_steps_from_the_reading_before_the_day():
    samples = [Sample(-10, 1000), Sample(3600, 1100), Sample(DAY - 5, 3400)]
    assert totalizer_total(samples, DAY, 0.9) == Stat(2400, None, 3)


def test_totalizer_reset_counts_only_forward_steps_and_says_so():
    samples = [Sample(-10, 99_990), Sample(40_000, 99_999), Sample(50_000, 5), Sample(DAY, 105)]
    got = totalizer_total(samples, DAY, 0.9)
    assert got == Stat(9 + 100, None, 4, "METER_RESET")


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        ([], "NO_DATA"),
        ([Sample(0, 1, good=False), Sample(10, 2, good=False)], "BAD_QUALITY"),
        ([Sample(0, 1)], "PARTIAL"),
        ([Sample(0, 1), Sample(DAY / 2, 9)], "PARTIAL"),
    ],
)
def test_totalizer_missing_reasons(samples, reason):
    assert totalizer_total(samples, DAY, 0.9) == Missing(reason)

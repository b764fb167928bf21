import pytest

from dashboards.trends.quality import Quality, is_stale, quality_of

BAD_COMM = -2147155968  # 0x80050000


@pytest.mark.parametrize(
    ("status", "has_value", "expected"),
    [
        (0, True, Quality.GOOD),
        (0x00A80000, True, Quality.GOOD),  # a Good code with a sub-code
        (0, False, Quality.BAD),  # good status but nothing to show
        (0x40000000, True, Quality.UNCERTAIN),
        (0x408F0000, True, Quality.UNCERTAIN),
        (BAD_COMM, False, Quality.BAD),
        (-1, True, Quality.BAD),
        (None, False, Quality.NONE),
    ],
)
def test_quality_from_the_opc_ua_severity_bits(status, has_value, expected):
    assert quality_of(status, has_value) is expected


@pytest.mark.parametrize(
    ("age_s", "interval_s", "stale"),
    [(2.9, 1.0, False), (3.0, 1.0, False), (3.1, 1.0, True), (179, 60, False), (181, 60, True),
     (None, 1.0, True)],
)  # fmt: skip
def test_stale_after_three_expected_intervals(age_s, interval_s, stale):
    assert is_stale(age_s, interval_s) is stale

"""Quality and staleness of a reading, as the floor terminal shows them."""

from __future__ import annotations

from enum import StrEnum

# A reading older than this many expected intervals is stale.
STALE_AFTER_INTERVALS = 3
# Expected interval of a tag and site nobody configured.
DEFAULT_EXPECTED_INTERVAL_S = 60.0


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"
    NONE = "none"  # no reading at all


def quality_of(status: int | None, has_value: bool = True) -> Quality:
    """OPC UA severity (the top two bits of the 32-bit status): 00 good, 01 uncertain, 1x bad."""
    if status is None:
        return Quality.NONE
    severity = (status & 0xFFFF_FFFF) >> 30
    if severity == 0:
        return Quality.GOOD if has_value else Quality.BAD
    if severity == 1:
        return Quality.UNCERTAIN
    return Quality.BAD


def is_good(status: int) -> bool:
    return (status & 0xC000_0000) == 0


def gap_after_s(expected_interval_s: float) -> float:
    """A silence longer than this between two readings is missing data, not a pause."""
    return STALE_AFTER_INTERVALS * expected_interval_s


def is_stale(age_s: float | None, expected_interval_s: float) -> bool:
    """True when there is no reading, or the latest is older than three expected intervals."""
    return age_s is None or age_s > gap_after_s(expected_interval_s)

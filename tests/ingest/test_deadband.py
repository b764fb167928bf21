"""Report by exception: which readings are stored."""

from __future__ import annotations

import pytest

from ingest.deadband import Stored, should_store
from ingest.status_codes import BAD_COMMUNICATION_ERROR, BAD_DEVICE_FAILURE, GOOD

LAST = Stored(10.0, GOOD, 100.0)
LOST = Stored(None, BAD_COMMUNICATION_ERROR, 100.0)


@pytest.mark.parametrize(
    ("last", "value", "status", "t", "deadband", "max_interval", "store"),
    [
        (None, 10.0, GOOD, 100.0, 0.5, 60.0, True),  # first reading
        (LAST, 10.0, GOOD, 101.0, None, None, True),  # no deadband: every reading
        (LAST, 10.4, GOOD, 101.0, 0.5, 60.0, False),  # inside the deadband
        (LAST, 9.6, GOOD, 101.0, 0.5, 60.0, False),
        (LAST, 10.5, GOOD, 101.0, 0.5, 60.0, False),  # on the edge: not beyond it
        (LAST, 10.51, GOOD, 101.0, 0.5, 60.0, True),
        (LAST, 9.4, GOOD, 101.0, 0.5, 60.0, True),
        (LAST, 10.0, GOOD, 159.9, 0.5, 60.0, False),
        (LAST, 10.0, GOOD, 160.0, 0.5, 60.0, True),  # max interval reached
        (LAST, None, BAD_COMMUNICATION_ERROR, 101.0, 0.5, 60.0, True),  # quality change
        (LAST, None, BAD_COMMUNICATION_ERROR, 101.0, None, None, True),
        (LOST, None, BAD_COMMUNICATION_ERROR, 101.0, None, None, False),  # bad, once only
        (LOST, None, BAD_COMMUNICATION_ERROR, 999.0, 0.5, 60.0, False),
        (LOST, None, BAD_DEVICE_FAILURE, 101.0, None, None, True),  # another bad code
        (LOST, 10.0, GOOD, 101.0, 0.5, 60.0, True),  # back: stored whatever the deadband
    ],
)
def test_should_store(last, value, status, t, deadband, max_interval, store) -> None:
    assert should_store(last, value, status, t, deadband, max_interval) is store

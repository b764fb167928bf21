"""Report by exception: which readings are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.deadband import Stored, should_store, stored_deadband
from ingest.readings import Row
from ingest.status_codes import BAD_COMMUNICATION_ERROR, BAD_DEVICE_FAILURE, GOOD
from ingest.tagstate import TagState
from sitefile.models import Tag

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


def _tag(**fields: object) -> Tag:
    return Tag.model_validate({"name": "t", **fields})


HOLDING = {"device": "plc", "register": "holding", "address": 0, "type": "float32"}
COIL = {"device": "plc", "register": "coil", "address": 0, "type": "bool"}
SUBSCRIBED = {"server": "s", "node_id": "ns=2;s=A"}


@pytest.mark.parametrize(
    ("fields", "default_percent", "expected"),
    [
        # An analog value with a range: half a percent of it by default.
        ({"eng_range": [0, 200], "modbus": HOLDING}, 0.5, 1.0),
        ({"eng_range": [-10, 10], "modbus": HOLDING}, 2.0, 0.4),
        # The tag's own deadband wins, even 0.
        ({"eng_range": [0, 200], "deadband": 0.0, "modbus": HOLDING}, 0.5, 0.0),
        ({"deadband": 3.0, "modbus": HOLDING}, 0.5, 3.0),
        # No range (a totalizer, a count): every poll, unless it has a deadband.
        ({"modbus": HOLDING}, 0.5, None),
        # On/off: on change.
        ({"modbus": COIL}, 0.5, 0.0),
        ({"modbus": {**COIL, "register": "discrete"}}, 0.5, 0.0),
        ({"modbus": {**HOLDING, "type": "bool"}}, 0.5, 0.0),
        # Defaults off: today's behaviour, every poll.
        ({"eng_range": [0, 200], "modbus": HOLDING}, None, None),
        ({"modbus": COIL}, None, None),
        # A subscription: the server's data-change filter decides; a polled OPC UA tag is ours.
        ({"eng_range": [0, 200], "source": "opcua", "opcua": SUBSCRIBED}, 0.5, None),
        ({"eng_range": [0, 200], "source": "opcua", "opcua": {**SUBSCRIBED, "mode": "poll"}},
         0.5, 1.0),
    ],
)  # fmt: skip
def test_default_deadband_by_kind(
    fields: dict[str, object], default_percent: float | None, expected: float | None
) -> None:
    assert stored_deadband(_tag(**fields), default_percent) == expected


def test_a_state_is_stored_on_change_and_at_the_heartbeat() -> None:
    pump = _tag(modbus=COIL)
    state = TagState.of(pump, 1, 1, 60.0, 60.0, default_deadband_percent=0.5)
    rows: list[Row] = []
    for s, value in enumerate([1.0] * 70 + [0.0] * 5):
        when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
        state.observe(value, GOOD, when.timestamp(), when, rows, [])
    # The first reading, the heartbeat a minute later, the change.
    assert [(r[0].second, r[0].minute, r[2]) for r in rows] == [
        (0, 0, 1.0),
        (0, 1, 1.0),
        (10, 1, 0.0),
    ]

"""A tag's state, whichever protocol reads it: what it stores and the limits it tracks (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.events import EventChange
from ingest.readings import Row
from ingest.tagstate import TagState
from sitefile.load import parse_config

SITE = """\
site: {code: s, name: S}
modbus:
  devices: [{name: plc, host: h}]
opcua:
  servers: [{name: scada, endpoint: "opc.tcp://h:4840/"}]
tags:
  - {name: flow, deadband: 0.5, limits: {hi: 10, hi_hi: 20},
     modbus: {device: plc, register: holding, address: 0, type: float32}}
  - {name: label, modbus: {device: plc, register: holding, address: 2, type: string, length: 4}}
  - {name: level, eng_range: [0, 50], source: opcua,
     opcua: {server: scada, node_id: "ns=2;s=L", mode: poll, deadband_percent: 2}}
  - {name: pressure, deadband: 0.1, source: opcua, opcua: {server: scada, node_id: "ns=2;s=P"}}
  - {name: temperature, source: opcua,
     opcua: {server: scada, node_id: "ns=2;s=T", deadband: 0.3}}
"""
AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def states() -> dict[str, TagState]:
    config = parse_config(SITE)
    return {
        t.name: TagState.of(t, i, 1, 60.0, 0.0, {"hi"} if t.name == "flow" else set())
        for i, t in enumerate(config.tags)
    }


def test_the_deadband_and_interval_applied_are_clearwells_own(states) -> None:
    assert (states["flow"].deadband, states["flow"].max_interval_s) == (0.5, 60.0)
    # Polled OPC UA: the server filters no Read, so the percent of EURange is applied here.
    assert states["level"].deadband == pytest.approx(1.0)
    # Subscribed: Clearwell applies the tag's own deadband, the server the one under opcua:.
    assert (states["pressure"].deadband, states["pressure"].max_interval_s) == (0.1, 60.0)
    assert (states["temperature"].deadband, states["temperature"].max_interval_s) == (None, None)


def test_a_modbus_string_is_read_but_not_stored(states) -> None:
    rows: list[Row] = []
    states["label"].observe(None, 0, 0.0, AT, rows, [])
    assert rows == [] and not states["label"].stores
    assert all(s.stores for name, s in states.items() if name != "label")


def test_an_open_limit_resumes_and_is_closed_by_the_next_value_within_it(states) -> None:
    flow = states["flow"]
    assert flow.limits == [("hi", 10.0), ("hi_hi", 20.0)]
    rows: list[Row] = []
    events: list[EventChange] = []
    flow.observe(5.0, 0, 0.0, AT, rows, events)
    assert [(e.action, e.code) for e in events] == [("clear", "hi")]
    assert rows == [(AT, 0, 5.0, 0, None)]


def test_limits_left_open_learnt_after_the_start_resume_too() -> None:
    # Started without the database: the open events are known only once it answers.
    (flow,) = [TagState.of(t, 7, 0, 60.0, 0.0) for t in parse_config(SITE).tags if t.name == "flow"]
    flow.resume({"hi", "lo"})  # lo is not a limit of the tag: nothing to resume
    events: list[EventChange] = []
    flow.observe(5.0, 0, 0.0, AT, [], events)
    assert [(e.action, e.code) for e in events] == [("clear", "hi")]
    # A limit already tracked is left as it is.
    flow.resume({"hi"})
    events.clear()
    flow.observe(6.0, 0, 1.0, AT, [], events)
    assert events == []

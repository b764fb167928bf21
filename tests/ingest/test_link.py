"""What both collectors share about a link: health snapshots, backoff, down and up (pure)."""

from __future__ import annotations

import logging
from datetime import datetime
from itertools import islice

from ingest.events import EventChange
from ingest.link import Link, LinkHealth, backoff_delays
from ingest.modbus.poller import DeviceHealth
from ingest.opcua.collector import ServerHealth
from ingest.readings import Row

COMMON = {"device", "endpoint", "state", "connected", "since", "last_good_read", "last_error",
          "errors", "connects", "failing_tags"}  # fmt: skip


def test_both_protocols_report_the_common_keys_and_their_own_errors() -> None:
    modbus = DeviceHealth("clarifier", "10.0.0.5:502", connect_failures=2, timeouts=3)
    modbus.cycle_ms.extend([4.0, 2.0, 3.0])
    opcua = ServerHealth("contact", "opc.tcp://10.0.0.9:4840", sessions_lost=1)
    m, o = modbus.snapshot(), opcua.snapshot()
    assert COMMON <= m.keys() and COMMON <= o.keys()
    assert m["endpoint"] == "10.0.0.5:502" and m["cycle_ms_p50"] == 3.0
    assert m["errors"] == {"connect_failures": 2, "links_lost": 0, "timeouts": 3,
                           "exception_answers": 0, "overruns": 0, "refused_tags": 0}  # fmt: skip
    assert o["errors"] == {"connect_failures": 0, "sessions_lost": 1, "bad_items": 0}
    assert o["protocol"] == "opcua" and "protocol" not in m


def test_times_are_iso_in_utc_and_connected_means_up() -> None:
    h = LinkHealth("x", "h:1", state="up", since=0.0, last_good_read=3600.5)
    s = h.snapshot()
    assert s["connected"] is True
    assert s["since"] == "1970-01-01T00:00:00+00:00"
    assert s["last_good_read"] == "1970-01-01T01:00:00.500000+00:00"
    assert LinkHealth("x", "h:1", state="down").snapshot()["connected"] is False


def test_a_link_up_with_failing_tags_is_degraded_and_says_why() -> None:
    class Failing(LinkHealth):
        def failing(self) -> list[str]:
            return ["tag 'b' (holding 98): illegal data address (exception 2)", "tag 'x' (…)"]

    s = Failing("plc", "h:502", state="up").snapshot()
    assert (s["state"], s["connected"]) == ("degraded", True)
    assert s["last_error"] == "tag 'b' (holding 98): illegal data address (exception 2) and 1 more"
    assert len(s["failing_tags"]) == 2
    # Down, the link is what failed: the tags' own trouble waits until it is back.
    down = Failing("plc", "h:502", state="down", last_error="no answer").snapshot()
    assert (down["state"], down["last_error"], down["failing_tags"]) == ("down", "no answer", [])


def test_backoff_doubles_up_to_its_cap() -> None:
    assert list(islice(backoff_delays(), 8)) == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert list(islice(backoff_delays(cap=3), 4)) == [0.5, 1, 2, 3]


def test_a_lost_link_is_reported_once_and_its_return_clears_the_event() -> None:
    rows: list[Row] = []
    events: list[EventChange] = []

    def mark_bad(when: float, at: datetime, out: list[Row], _: list[EventChange]) -> None:
        out.append((at, 7, None, -1, None))

    health = LinkHealth("plc", "h:502")
    link = Link(
        health,
        1,
        "modbus:plc",
        "Modbus device plc",
        rows.extend,
        events.extend,
        mark_bad,
        logging.getLogger("test"),
    )
    link.up(10.0)
    assert (health.state, health.since, events) == ("up", 10.0, [])
    assert link.down(20.0, "no answer") is True
    assert link.down(21.0, "still no answer") is False
    assert len(rows) == 1 and rows[0][0].timestamp() == 20.0
    assert (health.state, health.since, health.last_error) == ("down", 20.0, "still no answer")
    link.up(25.0)
    assert [(e.action, e.source, e.time.timestamp()) for e in events] == [
        ("raise", "modbus:plc", 20.0),
        ("clear", "modbus:plc", 25.0),
    ]
    assert events[0].message == "Modbus device plc not answering: no answer"
    assert (health.state, health.since) == ("up", 25.0)

"""The health snapshots every collector gives the status endpoint (pure)."""

from __future__ import annotations

from ingest.health import LinkHealth
from ingest.opcua.collector import ServerHealth
from ingest.poller import DeviceHealth

COMMON = {"device", "endpoint", "state", "connected", "since", "last_good_read", "last_error",
          "errors", "connects"}  # fmt: skip


def test_both_protocols_report_the_common_keys_and_their_own_errors() -> None:
    modbus = DeviceHealth("clarifier", "10.0.0.5:502", connect_failures=2, timeouts=3)
    modbus.cycle_ms.extend([4.0, 2.0, 3.0])
    opcua = ServerHealth("contact", "opc.tcp://10.0.0.9:4840", sessions_lost=1)
    m, o = modbus.snapshot(), opcua.snapshot()
    assert COMMON <= m.keys() and COMMON <= o.keys()
    assert m["endpoint"] == "10.0.0.5:502" and m["cycle_ms_p50"] == 3.0
    assert m["errors"] == {"connect_failures": 2, "links_lost": 0, "timeouts": 3,
                           "exception_answers": 0, "overruns": 0}  # fmt: skip
    assert o["errors"] == {"connect_failures": 0, "sessions_lost": 1, "bad_items": 0}
    assert o["protocol"] == "opcua" and "protocol" not in m


def test_times_are_iso_in_utc_and_connected_means_up() -> None:
    h = LinkHealth("x", "h:1", state="up", since=0.0, last_good_read=3600.5)
    s = h.snapshot()
    assert s["connected"] is True
    assert s["since"] == "1970-01-01T00:00:00+00:00"
    assert s["last_good_read"] == "1970-01-01T01:00:00.500000+00:00"
    assert LinkHealth("x", "h:1", state="down").snapshot()["connected"] is False

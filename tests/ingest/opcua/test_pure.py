"""OPC UA pure parts: status codes, subscription and read planning, browse output."""

from __future__ import annotations

import pytest
from asyncua import ua

from ingest.opcua.browse import BrowsedVariable, site_document, tag_entries, tag_name
from ingest.opcua.collector import resolve_node_id
from ingest.opcua.plan import Item, OperationLimits, plan_reads, plan_subscriptions, queue_size_for
from ingest.opcua.status import BAD_TYPE_MISMATCH, quality, reading_value, stored, unsigned
from sitefile.load import parse_config
from sitefile.models import OpcuaServer


@pytest.mark.parametrize(
    ("code", "expected_quality", "expected_stored"),
    [
        (0x00000000, "good", 0),
        (0x00960000, "good", 0x00960000),  # GoodLocalOverride keeps its sub-code
        (0x40000000, "uncertain", 0x40000000),
        (0x408F0000, "uncertain", 0x408F0000),  # UncertainNoCommunicationLastUsableValue
        (0x80000000, "bad", -0x80000000),
        (0x808C0000, "bad", 0x808C0000 - 0x1_0000_0000),  # BadSensorFailure
        (0x80050400, "bad", 0x80050400 - 0x1_0000_0000),  # info bits kept
        (0xC0000000, "bad", 0xC0000000 - 0x1_0000_0000),  # reserved severity
    ],
)
def test_status_codes_kept_whole(code: int, expected_quality: str, expected_stored: int) -> None:
    assert quality(code) == expected_quality
    assert stored(code) == expected_stored
    assert unsigned(stored(code)) == code


@pytest.mark.parametrize(
    ("value", "code", "expected"),
    [
        (1.5, 0, (1.5, 0)),
        (7, 0, (7.0, 0)),
        (True, 0, (1.0, 0)),
        (False, 0, (0.0, 0)),
        (2.5, 0x40000000, (2.5, 0x40000000)),  # Uncertain keeps its number
        (2.5, 0x80000000, (None, -0x80000000)),  # Bad: stored, without the number
        (None, 0x808C0000, (None, 0x808C0000 - 0x1_0000_0000)),
        ("text", 0, (None, stored(BAD_TYPE_MISMATCH))),
        (float("nan"), 0, (None, stored(BAD_TYPE_MISMATCH))),
        ([1, 2], 0, (None, stored(BAD_TYPE_MISMATCH))),
    ],
)
def test_reading_value(value: object, code: int, expected: tuple[float | None, int]) -> None:
    assert reading_value(value, code) == expected


def items(n: int, sampling: float = 1.0, queue: int = 1) -> list[Item]:
    return [Item(h, f"ns=2;i={h}", sampling, queue) for h in range(n)]


@pytest.mark.parametrize(
    ("n", "per_sub", "per_call", "expected"),
    [
        # (items, max per subscription, server MaxMonitoredItemsPerCall) -> batch sizes per sub
        (5, 2000, 0, [[5]]),
        (5000, 2000, 0, [[1000, 1000], [1000, 1000], [1000]]),
        (5000, 2000, 300, [[300] * 6 + [200], [300] * 6 + [200], [300] * 3 + [100]]),
        (5000, 5000, 10000, [[1000] * 5]),  # a server allowing more is still capped at 1000
        (3, 1, 2, [[1], [1], [1]]),
        (0, 2000, 0, []),
    ],
)
def test_subscription_plan(n: int, per_sub: int, per_call: int, expected: list[list[int]]) -> None:
    plans = plan_subscriptions(items(n), 1.0, per_sub, OperationLimits(per_call, 0, 0))
    assert [[len(b) for b in p.batches] for p in plans] == expected
    handles = [i.handle for p in plans for b in p.batches for i in b]
    assert handles == list(range(n))  # every item once, in order


@pytest.mark.parametrize(
    ("sampling", "queue", "publishing", "expected"),
    [(1.0, 1, 1.0, 1), (0.1, 1, 1.0, 10), (0.25, 2, 1.0, 4), (0.1, 50, 1.0, 50), (0, 3, 1.0, 3)],
)
def test_queue_holds_one_publishing_interval(
    sampling: float, queue: int, publishing: float, expected: int
) -> None:
    assert queue_size_for(Item(0, "i=1", sampling, queue), publishing) == expected


def test_read_plan_groups_by_interval_under_the_limit() -> None:
    its = [Item(h, f"i={h}", 5.0 if h % 2 else 1.0, 1) for h in range(7)]
    plans = plan_reads(its, OperationLimits(0, 2, 0))
    assert [p.interval_s for p in plans] == [1.0, 5.0]
    assert [[len(b) for b in p.batches] for p in plans] == [[2, 2], [2, 1]]
    assert [h for h, _ in plans[0].batches[0]] == [0, 2]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("Influent", "Flow"), "Influent.Flow"),
        (("Plant 1", "Pump #2", "Speed"), "Plant_1.Pump_2.Speed"),
        (("_x",), "x"),
        (("ü",), "tag"),  # nothing usable left
    ],
)
def test_tag_names_from_browse_paths(path: tuple[str, ...], expected: str) -> None:
    assert tag_name(path) == expected


def test_browse_document_is_a_valid_configuration() -> None:
    variables = [
        BrowsedVariable("ns=2;s=A.Flow", ("Plant", "A", "Flow"), "Flow", 11, "m3/h", (0, 100)),
        BrowsedVariable("ns=2;s=A.Name", ("Plant", "A", "Name"), "", 12),  # a String: skipped
        BrowsedVariable("ns=2;s=A.Run", ("Plant", "A", "Run"), "", 1),
        BrowsedVariable("ns=2;i=7", ("Plant", "A", "Run"), "", 6, "", (5, 5)),  # same path
        BrowsedVariable("ns=2;s=B.Level", ("Plant", "B", "Level"), "", 10),
    ]
    entries = tag_entries("scada", variables)
    assert [e["name"] for e in entries] == ["A.Flow", "A.Run", "A.Run-2", "B.Level"]
    assert entries[0]["eng_range"] == [0, 100] and entries[0]["unit"] == "m3/h"
    assert "eng_range" not in entries[2]  # an empty range is left out
    server = OpcuaServer(name="scada", endpoint="opc.tcp://h:4840/")
    config = parse_config(site_document(server, "s1", "Site", variables), "browsed.yaml")
    assert [t.source for t in config.tags] == ["opcua"] * 4
    assert config.tags[0].opcua is not None and config.tags[0].opcua.node_id == "ns=2;s=A.Flow"


def test_browse_writes_node_ids_by_namespace_uri_given_the_servers_namespaces() -> None:
    variables = [
        BrowsedVariable("ns=2;s=A.Flow", ("A", "Flow"), "", 11),
        BrowsedVariable("ns=3;i=7", ("A", "Level"), "", 11),
        BrowsedVariable("i=2258", ("A", "Clock"), "", 11),
    ]
    namespaces = ["http://opcfoundation.org/UA/", "urn:server", "urn:plant", "urn:units"]
    entries = tag_entries("scada", variables, namespaces)
    assert [e["opcua"]["node_id"] for e in entries] == [
        "nsu=urn:plant;s=A.Flow",
        "nsu=urn:units;i=7",
        "i=2258",  # namespace 0 is OPC UA's own, the same everywhere
    ]
    # Without the namespaces (--namespace-index), as browsed.
    assert [e["opcua"]["node_id"] for e in tag_entries("scada", variables)] == [
        "ns=2;s=A.Flow",
        "ns=3;i=7",
        "i=2258",
    ]
    server = OpcuaServer(name="scada", endpoint="opc.tcp://h:4840/")
    text = site_document(server, "s1", "Site", variables, namespaces)
    assert [t.opcua.node_id for t in parse_config(text).tags if t.opcua][0] == (
        "nsu=urn:plant;s=A.Flow"
    )


def test_a_node_id_by_namespace_uri_is_looked_up_in_the_servers_namespaces() -> None:
    namespaces = ["http://opcfoundation.org/UA/", "urn:server", "urn:plant"]
    assert resolve_node_id("nsu=urn:plant;s=A.B", namespaces) == ua.NodeId("A.B", 2)
    assert resolve_node_id("ns=3;i=7", namespaces) == ua.NodeId(7, 3)
    with pytest.raises(ValueError, match="'urn:elsewhere' is not on the server"):
        resolve_node_id("nsu=urn:elsewhere;s=A.B", namespaces)

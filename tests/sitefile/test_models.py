"""The site file's models: defaults, the identity of a tag, node ids, name limits."""

from __future__ import annotations

import pytest

from sitefile.load import parse_config
from sitefile.nodeid import NodeId
from tests.sitefile.texts import HEAD


def test_defaults_and_keys() -> None:
    config = parse_config(HEAD)
    device = config.modbus.devices[0]
    assert (device.unit_id, device.timeout_s, device.gap_fill) == (1, 1.0, 10)
    tag = config.tags[0]
    assert tag.modbus is not None and tag.modbus.word_order == "ABCD" and tag.modbus.count == 2
    assert tag.key == "modbus:plc/holding/10"
    assert tag.address_text == "plc;holding;10"
    with_id = parse_config(HEAD + "    id: flow-1\n")
    assert with_id.tags[0].key == "id:flow-1"


GUID = "72962B91-FA75-4AE6-8D28-B404DC7DAF63"


@pytest.mark.parametrize(
    ("text", "namespace", "kind", "identifier"),
    [
        ("ns=2;s=Influent.Flow", 2, "s", "Influent.Flow"),
        ("i=2258", 0, "i", "2258"),
        ("nsu=urn:clearwell:simulator:plant;s=A.B", "urn:clearwell:simulator:plant", "s", "A.B"),
        (f"ns=3;g={GUID}", 3, "g", GUID),
        ("ns=1;b=M/RbKBsRVkePCePcx24oRA==", 1, "b", "M/RbKBsRVkePCePcx24oRA=="),
    ],
)  # fmt: skip
def test_node_id_parts(text: str, namespace: int | str, kind: str, identifier: str) -> None:
    node = NodeId.parse(text)
    assert (node.namespace, node.kind, node.identifier) == (namespace, kind, identifier)
    assert node.at_index(4) == f"ns=4;{kind}={identifier}"


def test_a_node_id_is_written_by_its_namespace_uri() -> None:
    namespaces = ["http://opcfoundation.org/UA/", "urn:server", "urn:plant"]
    assert NodeId.parse("ns=2;s=A.B").by_uri(namespaces) == "nsu=urn:plant;s=A.B"
    assert NodeId.parse("i=2258").by_uri(namespaces) == "i=2258"
    assert NodeId.parse("nsu=urn:x;i=1").by_uri(namespaces) == "nsu=urn:x;i=1"
    with pytest.raises(ValueError, match="namespace 5"):
        NodeId.parse("ns=5;i=1").by_uri(namespaces)


def test_a_node_id_by_namespace_uri_is_a_valid_tag() -> None:
    tag = "  - {name: x, source: opcua, opcua: {server: scada, node_id: 'nsu=urn:a:b;s=X'}}\n"
    x = parse_config(HEAD + tag).tags[1]
    assert x.opcua is not None and x.opcua.node == NodeId("urn:a:b", "s", "X")
    assert x.key == "opcua:scada/nsu=urn:a:b;s=X"


def test_names_up_to_the_databases_limit_are_valid() -> None:
    name = "x" * 128
    tag = (
        f"  - {{name: {name}, id: {name}, modbus: {{device: plc, register: input, address: 0}}}}\n"
    )
    x = parse_config(HEAD + tag).tags[1]
    assert x.name == name and x.key == f"id:{name}"

"""``clearwell ingest browse``: a tag configuration from what an OPC UA server offers.

The address space is walked from the Objects folder along hierarchical
references (the standard Server object left out), in Browse calls of at most
the server's ``MaxNodesPerBrowse``. Every variable with a numeric or Boolean
data type becomes a tag named after its browse path, with the unit
(``EngineeringUnits``) and range (``EURange``) where the server has them, and its
node id by namespace URI (``nsu=``), which survives a change of the server's
namespace array, unless asked for indexes.
Turning the browsed nodes into configuration (:func:`tag_entries`,
:func:`site_document`) is pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from asyncua import Client, ua

from ingest.opcua.plan import OperationLimits
from ingest.opcua.session import read_operation_limits
from sitefile.models import OpcuaServer
from sitefile.nodeid import NodeId

# Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double.
NUMERIC_TYPES = frozenset(range(1, 12))
_HAS_PROPERTY = ua.NodeId(46)  # type: ignore[arg-type]
_SERVER_OBJECT = ua.NodeId(2253)  # type: ignore[arg-type]
MAX_NODES = 100_000


@dataclass(frozen=True)
class BrowsedVariable:
    node_id: str
    path: tuple[str, ...]  # browse names from below the Objects folder
    description: str
    data_type: int  # numeric id of a namespace-0 data type, else -1
    unit: str = ""
    eu_range: tuple[float, float] | None = None


_NAME_BAD = re.compile(r"[^A-Za-z0-9_.:/-]+")


def tag_name(path: Sequence[str]) -> str:
    """A valid tag name from a browse path: parts joined with dots, odd characters as _."""
    text = ".".join(_NAME_BAD.sub("_", p).strip("_.") or "_" for p in path)
    text = text.lstrip("_.:/-") or "tag"
    return text[:128]


def tag_entries(
    server_name: str,
    variables: Sequence[BrowsedVariable],
    namespaces: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Configuration tags for the numeric variables, in browse order, names made unique;
    with the server's ``namespaces``, node ids name their namespace by URI (``nsu=``)."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    numeric = [v for v in variables if v.data_type in NUMERIC_TYPES]
    # Folders every tag is under (often one named after the plant) say nothing: left out.
    common = 0
    if numeric:
        shortest = min(len(v.path) for v in numeric) - 1
        while common < shortest and len({v.path[common] for v in numeric}) == 1:
            common += 1
    for v in numeric:
        base = name = tag_name(v.path[common:])
        n = 2
        while name in used:
            suffix = f"-{n}"
            name = base[: 128 - len(suffix)] + suffix
            n += 1
        used.add(name)
        entry: dict[str, Any] = {"name": name}
        if v.description:
            entry["description"] = v.description
        entry["unit"] = v.unit
        if v.eu_range is not None and v.eu_range[0] < v.eu_range[1]:
            entry["eng_range"] = [v.eu_range[0], v.eu_range[1]]
        entry["source"] = "opcua"
        node_id = v.node_id if namespaces is None else NodeId.parse(v.node_id).by_uri(namespaces)
        entry["opcua"] = {"server": server_name, "node_id": node_id}
        out.append(entry)
    return out


def server_entry(server: OpcuaServer) -> dict[str, Any]:
    """The server block as given (defaults left out; never a password)."""
    fields = server.model_dump(exclude_defaults=True, exclude={"password"})
    return {"name": server.name, "endpoint": server.endpoint, **fields}


def site_document(
    server: OpcuaServer,
    site_code: str,
    site_name: str,
    variables: Sequence[BrowsedVariable],
    namespaces: Sequence[str] | None = None,
) -> str:
    """The site file of the browsed variables; node ids by namespace URI if the server's
    ``namespaces`` are given, else by index as browsed."""
    doc = {
        "site": {"code": site_code, "name": site_name},
        "opcua": {"servers": [server_entry(server)]},
        "tags": tag_entries(server.name, variables, namespaces),
    }
    header = f"# Tags browsed from {server.endpoint} by `clearwell ingest browse`.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


# --- the walk (I/O) ---


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _browse_all(
    client: Client, nodes: list[ua.NodeId], per_call: int
) -> list[list[ua.ReferenceDescription]]:
    out: list[list[ua.ReferenceDescription]] = []
    for chunk in _chunks(nodes, per_call):
        params = ua.BrowseParameters()
        params.NodesToBrowse = [
            ua.BrowseDescription(
                NodeId=n,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=ua.NodeId(ua.ObjectIds.HierarchicalReferences),  # type: ignore[arg-type]
                IncludeSubtypes=True,
                NodeClassMask=ua.NodeClass.Object | ua.NodeClass.Variable,
                ResultMask=ua.BrowseResultMask.All,
            )
            for n in chunk
        ]
        for result in await client.uaclient.browse(params):
            refs = list(result.References or [])
            cont = result.ContinuationPoint
            while cont:
                nxt = ua.BrowseNextParameters(ContinuationPoints=[cont])
                (more,) = await client.uaclient.browse_next(nxt)
                refs += list(more.References or [])
                cont = more.ContinuationPoint
            out.append(refs)
    return out


async def _read(
    client: Client, nodes: list[ua.NodeId], attr: ua.AttributeIds, per_call: int
) -> list[ua.DataValue]:
    out: list[ua.DataValue] = []
    for chunk in _chunks(nodes, per_call):
        out += await client.uaclient.read_attributes(chunk, attr)
    return out


def _good(dv: ua.DataValue) -> Any:
    if dv.StatusCode is not None and not dv.StatusCode.is_good():
        return None
    return dv.Value.Value if dv.Value is not None else None


async def browse_variables(client: Client) -> list[BrowsedVariable]:
    limits: OperationLimits = await read_operation_limits(client)
    per_browse = limits.per_call(limits.max_nodes_per_browse)
    per_read = limits.per_call(limits.max_nodes_per_read)
    objects = ua.NodeId(ua.ObjectIds.ObjectsFolder)  # type: ignore[arg-type]
    seen: set[ua.NodeId] = {objects}
    level: list[tuple[ua.NodeId, tuple[str, ...]]] = [(objects, ())]
    found: list[tuple[ua.NodeId, tuple[str, ...]]] = []
    props: dict[ua.NodeId, dict[str, ua.NodeId]] = {}
    while level and len(seen) < MAX_NODES:
        results = await _browse_all(client, [n for n, _ in level], per_browse)
        nxt: list[tuple[ua.NodeId, tuple[str, ...]]] = []
        for (parent, path), refs in zip(level, results, strict=True):
            for ref in refs:
                node = ref.NodeId
                if node in seen or node == _SERVER_OBJECT:
                    continue
                browse_name = ref.BrowseName.Name or ""
                is_property = ref.ReferenceTypeId == _HAS_PROPERTY
                if is_property:
                    props.setdefault(parent, {})[browse_name] = node
                    continue
                seen.add(node)
                child = (node, (*path, browse_name))
                nxt.append(child)
                if ref.NodeClass == ua.NodeClass.Variable:
                    found.append(child)
        level = nxt
    nodes = [n for n, _ in found]
    types = await _read(client, nodes, ua.AttributeIds.DataType, per_read)
    descriptions = await _read(client, nodes, ua.AttributeIds.Description, per_read)
    prop_nodes: list[ua.NodeId] = []
    for n in nodes:
        for key in ("EURange", "EngineeringUnits"):
            if key in props.get(n, {}):
                prop_nodes.append(props[n][key])
    prop_values = dict(
        zip(
            prop_nodes,
            await _read(client, prop_nodes, ua.AttributeIds.Value, per_read),
            strict=True,
        )
    )
    out = []
    for (node, path), dt, desc in zip(found, types, descriptions, strict=True):
        dtype = _good(dt)
        type_id = (
            dtype.Identifier
            if isinstance(dtype, ua.NodeId)
            and dtype.NamespaceIndex == 0
            and isinstance(dtype.Identifier, int)
            else -1
        )
        text = _good(desc)
        unit, rng = "", None
        mine = props.get(node, {})
        if "EngineeringUnits" in mine:
            eu = _good(prop_values[mine["EngineeringUnits"]])
            if isinstance(eu, ua.EUInformation) and eu.DisplayName is not None:
                unit = eu.DisplayName.Text or ""
        if "EURange" in mine:
            r = _good(prop_values[mine["EURange"]])
            if isinstance(r, ua.Range):
                rng = (float(r.Low), float(r.High))
        out.append(
            BrowsedVariable(
                node.to_string(),
                path,
                text.Text if isinstance(text, ua.LocalizedText) and text.Text else "",
                type_id,
                unit,
                rng,
            )
        )
    return out


async def server_certificate_of(endpoint: str, timeout_s: float, policy: str, mode: str) -> bytes:
    """The certificate the server presents on its endpoint with this security (discovery)."""
    from asyncua.crypto import security_policies

    from clearwell.errors import ConfigError
    from ingest.opcua.security import first_certificate
    from ingest.opcua.session import OpcuaConnectError

    if mode not in ("Sign", "SignAndEncrypt"):
        raise ConfigError(
            f"security mode {mode!r}: a server certificate needs Sign or SignAndEncrypt"
        )
    uri = security_policies.SecurityPolicyBasic256Sha256.URI
    client = Client(endpoint, timeout=timeout_s)
    try:
        endpoints = await client.connect_and_get_server_endpoints()
    except (OSError, TimeoutError) as exc:
        raise OpcuaConnectError(f"{endpoint}: cannot connect: {exc}") from None
    want = getattr(ua.MessageSecurityMode, mode)
    for e in endpoints:
        if e.SecurityPolicyUri == uri and e.SecurityMode == want and e.ServerCertificate:
            return first_certificate(e.ServerCertificate)
    raise OpcuaConnectError(f"{endpoint} offers no {policy} {mode} endpoint")

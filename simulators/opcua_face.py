"""The OPC UA face: an asyncua server with a folder per process area and one variable per tag.

Variables carry EURange and EngineeringUnits properties (analog ones are
AnalogItemType), and every value is written with the model's time as its
source timestamp and the status the faults give it. Endpoints: None, and
Basic256Sha256 Sign and SignAndEncrypt with a self-signed certificate; users
log in with a username and password (anonymous too unless disabled).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

from clearwell.errors import ClearwellError
from simulators.address_map import PlantMap
from simulators.certs import APPLICATION_URI, ensure_server_certificate
from simulators.model.base import Value, Variable
from simulators.ports import listen_error, probe_port
from sitefile.models import Tag
from sitefile.nodeid import NodeId

log = logging.getLogger("clearwell.simulators.opcua")

NAMESPACE_URI = "urn:clearwell:simulator:plant"
PATH = "/clearwell/"
UNITS_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"

# UNECE Recommendation 20 codes for the units the plant uses; others get UnitId -1.
UNECE_CODES: dict[str, str] = {
    "m3/h": "MQH",
    "m3": "MTQ",
    "m": "MTR",
    "mg/L": "M1",
    "degC": "CEL",
    "h": "HUR",
    "min": "MIN",
    "kg/h": "E93",
    "%": "P1",
    "s": "SEC",
    "kPa": "KPA",
    "bar": "BAR",
    "kW": "KWT",
    "A": "AMP",
    "V": "VLT",
    "L/s": "G51",
}


def unit_id(code: str) -> int:
    """OPC UA's integer form of a UNECE code: its ASCII bytes, big-endian."""
    value = 0
    for ch in code:
        value = (value << 8) | ord(ch)
    return value


def eu_information(unit: str) -> ua.EUInformation:
    code = UNECE_CODES.get(unit)
    return ua.EUInformation(
        NamespaceUri=UNITS_NAMESPACE,
        UnitId=unit_id(code) if code else -1,
        DisplayName=ua.LocalizedText(unit),
        Description=ua.LocalizedText(unit),
    )


class PasswordUsers(UserManager):
    """Username/password login from a fixed table; anonymous sessions optional."""

    def __init__(self, users: Mapping[str, str], allow_anonymous: bool) -> None:
        self._users = dict(users)
        self._anonymous = allow_anonymous

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None:
            return User(role=UserRole.User) if self._anonymous else None
        expected = self._users.get(username)
        if expected is None or not hmac.compare_digest(
            expected.encode(), (password or "").encode()
        ):
            log.warning("OPC UA login refused for user %r", username)
            return None
        return User(role=UserRole.User, name=username)


@dataclass(frozen=True)
class Published:
    """One tag's value as both faces show it."""

    value: Value
    status: int
    source_time: datetime


class OpcuaFace:
    """Builds, serves, restarts and updates the OPC UA address space."""

    def __init__(
        self,
        plant_map: PlantMap,
        variables: Mapping[str, Variable],
        host: str,
        port: int,
        cert_dir: Path,
        users: Mapping[str, str],
        allow_anonymous: bool = True,
    ) -> None:
        self.plant_map = plant_map
        self.variables = variables
        self.host = host
        self.port = port
        self.cert_dir = cert_dir
        self.users = dict(users)
        self.allow_anonymous = allow_anonymous
        self.tags = [t for t in plant_map.tags if t.opcua is not None]
        self._server: Server | None = None
        self._node_ids: dict[str, ua.NodeId] = {}
        self._last: dict[str, Published] = {}
        self._lock = asyncio.Lock()

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}{PATH}"

    async def start(self, current: Mapping[str, Published] | None = None) -> None:
        async with self._lock:
            await self._start(current or {})

    async def _start(self, current: Mapping[str, Published]) -> None:
        # Fail before asyncua spends seconds building its address space.
        if (busy := probe_port(self.host, self.port)) is not None:
            raise listen_error("OPC UA", self.host, self.port, busy)
        cert, key = ensure_server_certificate(self.cert_dir)
        server = Server(user_manager=PasswordUsers(self.users, self.allow_anonymous))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"Clearwell simulator: {self.plant_map.site.name}")
        await server.set_application_uri(APPLICATION_URI)
        server.product_uri = "urn:clearwell:simulator"
        server.manufacturer_name = "Clearwell"
        server.set_security_policy(
            [
                ua.SecurityPolicyType.NoSecurity,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
            ]
        )
        tokens: list[type] = [ua.UserNameIdentityToken]
        if self.allow_anonymous:
            tokens.insert(0, ua.AnonymousIdentityToken)
        server.set_identity_tokens(tokens)
        # Bytes, not paths: asyncua reads paths on a worker thread that outlives the server.
        await server.load_certificate(cert.read_bytes(), format="der")
        await server.load_private_key(key.read_bytes(), format="pem")
        idx = await server.register_namespace(NAMESPACE_URI)
        self._node_ids = await _build_address_space(
            server, idx, self.plant_map, self.tags, self.variables
        )
        try:
            await server.start()
        except OSError as exc:
            await _quiet_stop(server)
            raise listen_error("OPC UA", self.host, self.port, exc) from None
        self._server = server
        self._last = {}
        await self._write(current)

    async def stop(self) -> None:
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            await _quiet_stop(server)

    async def restart(self, current: Mapping[str, Published]) -> None:
        """Stop and start again on the same port: every client session is lost."""
        async with self._lock:
            await self._stop()
            await self._start(current)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def publish(self, values: Mapping[str, Published]) -> None:
        """Write the values that changed since the last publish."""
        if self._server is None or self._lock.locked():
            return
        await self._write(values)

    async def _write(self, values: Mapping[str, Published]) -> None:
        server = self._server
        if server is None:
            return
        last = self._last
        now: Any = datetime.now(UTC)
        for name, pub in values.items():
            node_id = self._node_ids.get(name)
            if node_id is None or last.get(name) == pub:
                continue
            last[name] = pub
            await server.write_attribute_value(node_id, _data_value(pub, now))


def _nid(identifier: str | int, namespace: int = 0) -> ua.NodeId:
    # asyncua annotates NodeId with its NewType aliases; plain str/int is what it takes.
    return ua.NodeId(identifier, namespace)  # type: ignore[arg-type]


def _variant(value: Value) -> ua.Variant:
    if isinstance(value, bool):
        return ua.Variant(value, ua.VariantType.Boolean)
    if isinstance(value, str):
        return ua.Variant(value, ua.VariantType.String)
    return ua.Variant(float(value), ua.VariantType.Double)


def _data_value(pub: Published, server: Any) -> ua.DataValue:
    status: Any = ua.StatusCode(pub.status)  # type: ignore[arg-type]
    source: Any = pub.source_time
    return ua.DataValue(
        Value=_variant(pub.value), StatusCode=status, SourceTimestamp=source, ServerTimestamp=server
    )


async def _quiet_stop(server: Server) -> None:
    try:
        await server.stop()
    except Exception:  # a half-started server may fail to stop parts it never began
        log.debug("OPC UA server stop raised", exc_info=True)


def _initial_value(tag: Tag, variables: Mapping[str, Variable]) -> Value:
    var = variables.get(tag.name)
    if var is not None and var.kind == "bool":
        return False
    if var is not None and var.kind == "text":
        return ""
    return 0.0


async def _build_address_space(
    server: Server,
    idx: int,
    plant_map: PlantMap,
    tags: list[Tag],
    variables: Mapping[str, Variable],
) -> dict[str, ua.NodeId]:
    """Add folders, variables and properties in one batch (far faster than node by node)."""
    nodes: dict[str, NodeId] = {}
    problems = []
    for tag in tags:
        assert tag.opcua is not None
        node = nodes[tag.name] = tag.opcua.node
        if node.namespace not in (idx, NAMESPACE_URI):
            written = (
                f"nsu={node.namespace}"
                if isinstance(node.namespace, str)
                else f"ns={node.namespace}"
            )
            problems.append(
                plant_map.tag_problem(
                    tag.name,
                    f"namespace {written} is not served; the simulator's namespace is"
                    f" ns={idx} (nsu={NAMESPACE_URI})",
                    "opcua",
                    "node_id",
                )
            )
    if problems:
        raise plant_map.error(problems)
    items: list[ua.AddNodesItem] = []
    root = _nid("folder:", idx)
    items.append(_folder(root, _nid(ua.ObjectIds.ObjectsFolder), plant_map.site.name, idx))
    folders: dict[str, ua.NodeId] = {"": root}
    node_ids: dict[str, ua.NodeId] = {}
    property_values: list[tuple[ua.NodeId, ua.Variant]] = []
    for tag in tags:
        ident = nodes[tag.name].identifier
        path, _, leaf = ident.rpartition(".") if "." in ident else ("", "", ident)
        parent = _ensure_folders(path, folders, items, idx)
        node_id = ua.NodeId.from_string(nodes[tag.name].at_index(idx))
        var = variables.get(tag.name)
        analog = var is not None and var.kind in ("analog", "counter") or var is None
        value = _initial_value(tag, variables)
        items.append(_variable(node_id, parent, leaf, tag, _variant(value), idx, analog))
        node_ids[tag.name] = node_id
        if analog:
            lo, hi = tag.eng_range or ((var.lo, var.hi) if var else (0.0, 0.0))
            eu_range = _nid(f"{ident}#EURange", idx)
            items.append(_property(eu_range, node_id, "EURange", ua.ObjectIds.Range))
            property_values.append(
                (eu_range, ua.Variant(ua.Range(Low=lo, High=hi), ua.VariantType.ExtensionObject))
            )
            units = _nid(f"{ident}#EngineeringUnits", idx)
            items.append(_property(units, node_id, "EngineeringUnits", ua.ObjectIds.EUInformation))
            property_values.append(
                (units, ua.Variant(eu_information(tag.unit), ua.VariantType.ExtensionObject))
            )
    results = await server.iserver.isession.add_nodes(items)
    for item, result in zip(items, results, strict=True):
        if not result.StatusCode.is_good():
            raise ClearwellError(
                f"{plant_map.path}: OPC UA node {item.RequestedNewNodeId.to_string()} "
                f"({item.BrowseName.Name}) could not be created: {result.StatusCode.name}"
            )
    for node_id, variant in property_values:
        await server.write_attribute_value(node_id, ua.DataValue(variant))
    return node_ids


def _ensure_folders(
    path: str, folders: dict[str, ua.NodeId], items: list[ua.AddNodesItem], idx: int
) -> ua.NodeId:
    if path in folders:
        return folders[path]
    head, _, name = path.rpartition(".")
    parent = _ensure_folders(head, folders, items, idx)
    node_id = _nid(f"folder:{path}", idx)
    items.append(_folder(node_id, parent, name, idx))
    folders[path] = node_id
    return node_id


def _folder(node_id: ua.NodeId, parent: ua.NodeId, name: str, idx: int) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = node_id
    item.BrowseName = ua.QualifiedName(name, idx)
    item.NodeClass = ua.NodeClass.Object
    item.ParentNodeId = parent
    item.ReferenceTypeId = _nid(ua.ObjectIds.Organizes)
    item.TypeDefinition = _nid(ua.ObjectIds.FolderType)
    attrs = ua.ObjectAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(name)
    attrs.EventNotifier = 0
    item.NodeAttributes = attrs
    return item


def _variable(
    node_id: ua.NodeId,
    parent: ua.NodeId,
    name: str,
    tag: Tag,
    value: ua.Variant,
    idx: int,
    analog: bool,
) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = node_id
    item.BrowseName = ua.QualifiedName(name, idx)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = _nid(ua.ObjectIds.Organizes)
    item.TypeDefinition = _nid(
        ua.ObjectIds.AnalogItemType if analog else ua.ObjectIds.BaseDataVariableType
    )
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(tag.description or tag.name)
    attrs.DataType = _nid(
        {
            ua.VariantType.Boolean: ua.ObjectIds.Boolean,
            ua.VariantType.String: ua.ObjectIds.String,
        }.get(value.VariantType, ua.ObjectIds.Double)
    )
    attrs.Value = value
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.MinimumSamplingInterval = 100.0
    attrs.Historizing = False
    item.NodeAttributes = attrs
    return item


def _property(node_id: ua.NodeId, parent: ua.NodeId, name: str, datatype: int) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = node_id
    item.BrowseName = ua.QualifiedName(name, 0)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = _nid(ua.ObjectIds.HasProperty)
    item.TypeDefinition = _nid(ua.ObjectIds.PropertyType)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.DataType = _nid(datatype)
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.AccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    item.NodeAttributes = attrs
    return item

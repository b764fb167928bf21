"""The plant address map: one YAML file naming every tag and where it lives on each protocol face.

The same file is the example site configuration the collectors read, so it is
validated strictly: unknown keys, duplicate names, dangling device/server
references, overlapping Modbus registers and, when a model is given, tags the
model does not compute are all errors naming the file, line and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from clearwell.errors import ClearwellError
from simulators.registers import REGISTER_TYPES, WORD_ORDERS, register_count

DEFAULT_MAP: Final = Path(__file__).with_name("plant_map.yaml")

NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*\Z")
NODE_ID_RE: Final = re.compile(r"ns=(\d+);([sigb])=(.+)\Z", re.DOTALL)
REGISTER_KINDS: Final = ("coil", "discrete", "input", "holding")
SECURITY_POLICIES: Final = ("None", "Basic256Sha256")
SECURITY_MODES: Final = ("None", "Sign", "SignAndEncrypt")
SOURCES: Final = ("modbus", "opcua")
MAX_ERRORS_SHOWN: Final = 20
# libyaml when present: the same nodes and line marks, several times faster on large maps.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MapError(ClearwellError):
    """The address map is invalid; ``problems`` lists each as ``file:line: field: what``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n  ".join(shown) + (f"\n  … and {more} more" if more else "")
        super().__init__(text)


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    timezone: str


@dataclass(frozen=True)
class ModbusDevice:
    name: str
    host: str
    port: int
    unit_id: int
    timeout_s: float = 1.0
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class OpcuaServer:
    name: str
    endpoint: str
    security_policy: str = "None"
    security_mode: str = "None"
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class ModbusPoint:
    device: str
    register: str
    address: int
    type: str
    word_order: str = "ABCD"
    scale: float = 1.0
    offset: float = 0.0
    length: int | None = None

    @property
    def count(self) -> int:
        """Registers (or bits) the point occupies."""
        if self.register in ("coil", "discrete"):
            return 1
        return register_count(self.type, self.length)


@dataclass(frozen=True)
class OpcuaPoint:
    server: str
    node_id: str

    @property
    def namespace(self) -> int:
        m = NODE_ID_RE.match(self.node_id)
        return int(m.group(1)) if m else 0

    @property
    def identifier(self) -> str:
        m = NODE_ID_RE.match(self.node_id)
        return m.group(3) if m else self.node_id


@dataclass(frozen=True)
class Limits:
    lo_lo: float | None = None
    lo: float | None = None
    hi: float | None = None
    hi_hi: float | None = None


@dataclass(frozen=True)
class Tag:
    name: str
    description: str
    unit: str
    eng_range: tuple[float, float] | None
    limits: Limits
    deadband: float | None
    source: str
    modbus: ModbusPoint | None
    opcua: OpcuaPoint | None
    line: int = 0


@dataclass(frozen=True)
class PlantMap:
    path: str
    site: Site
    devices: tuple[ModbusDevice, ...]
    servers: tuple[OpcuaServer, ...]
    tags: tuple[Tag, ...]
    _by_name: dict[str, Tag] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({t.name: t for t in self.tags})

    def tag(self, name: str) -> Tag:
        return self._by_name[name]

    def device(self, name: str) -> ModbusDevice:
        return next(d for d in self.devices if d.name == name)

    def server(self, name: str) -> OpcuaServer:
        return next(s for s in self.servers if s.name == name)

    def modbus_tags(self, device: str | None = None) -> list[Tag]:
        return [t for t in self.tags if t.modbus and (device is None or t.modbus.device == device)]

    def opcua_tags(self, server: str | None = None) -> list[Tag]:
        return [t for t in self.tags if t.opcua and (server is None or t.opcua.server == server)]


T = TypeVar("T")


class _Reader:
    """Walks composed YAML nodes, recording problems with their line instead of stopping."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []
        self._loader = yaml.SafeLoader("")

    def error(self, node: Node | None, where: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.path}:{line}: {where}: {message}")

    def mapping(
        self, node: Node, where: str, allowed: Collection[str], required: Collection[str] = ()
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.error(node, where, "expected a mapping")
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.error(key_node, where, "keys must be plain names")
                continue
            if key in out:
                self.error(key_node, f"{where}.{key}", "given twice")
                continue
            if key not in allowed:
                self.error(
                    key_node, f"{where}.{key}", f"unknown field (allowed: {', '.join(allowed)})"
                )
                continue
            out[key] = value_node
        for key in required:
            if key not in out:
                self.error(node, f"{where}.{key}", "required field missing")
        return out

    def get(
        self,
        m: dict[str, Node],
        where: str,
        key: str,
        convert: Callable[[Any], T],
        kind: str,
        default: T | None = None,
    ) -> T | None:
        """Field ``key`` of mapping ``m`` converted, or ``default`` when absent."""
        if key not in m:
            return default
        return self.scalar(m[key], f"{where}.{key}", convert, kind)

    def sequence(self, node: Node, where: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, SequenceNode):
            self.error(node, where, "expected a list")
            return []
        return list(node.value)

    def scalar(self, node: Node, where: str, convert: Callable[[Any], T], kind: str) -> T | None:
        if not isinstance(node, ScalarNode):
            self.error(node, where, f"expected {kind}")
            return None
        value = self._loader.construct_object(node, deep=True)
        try:
            return convert(value)
        except (TypeError, ValueError) as exc:
            detail = f": {exc}" if str(exc) else ""
            self.error(node, where, f"expected {kind}, got {node.value!r}{detail}")
            return None


def _as_str(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("")
    return value


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("")
    return value


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("")
    return float(value)


def _as_optional_float(value: Any) -> float | None:
    return None if value is None else _as_float(value)


def _one_of(options: Collection[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value is None:
            value = "None"  # YAML reads a bare None as the string "None"; null means the same
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return str(value)

    return check


def _name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValueError("names start with a letter or digit and use A-Z a-z 0-9 _ . : / -")
    return value


def _in_range(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        v = _as_int(value)
        if not lo <= v <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return v

    return check


def _positive(value: Any) -> float:
    v = _as_float(value)
    if v <= 0:
        raise ValueError("must be greater than zero")
    return v


def _nonzero(value: Any) -> float:
    v = _as_float(value)
    if v == 0:
        raise ValueError("must not be zero")
    return v


def _node_id(value: Any) -> str:
    if not isinstance(value, str) or not NODE_ID_RE.match(value):
        raise ValueError('use the form "ns=2;s=Area.Name" (or i=, g=, b=)')
    return value


def parse_map(
    text: str, path: str = "<map>", known_tags: Collection[str] | None = None
) -> PlantMap:
    """Parse and validate a map held in ``text``; ``path`` names it in errors."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise MapError([f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if root is None:
        raise MapError([f"{path}:1: the map is empty"])
    r = _Reader(path)
    # permit: is the exports' (dashboards/exports/permit.py); the simulator has no use for it.
    top = r.mapping(root, "map", ("site", "modbus", "opcua", "tags", "permit"), ("site", "tags"))
    if top is None:
        raise MapError(r.problems)

    site = _site(r, top.get("site"))
    devices = _devices(r, top.get("modbus"))
    servers = _servers(r, top.get("opcua"))
    tags = _tags(r, top.get("tags"), {d.name for d in devices}, {s.name for s in servers})
    _check_overlaps(r, tags, top.get("tags"))
    if known_tags is not None:
        known = set(known_tags)
        for tag in tags:
            if tag.name not in known:
                r.problems.append(
                    f"{path}:{tag.line}: tags.{tag.name}: unknown tag: the simulator's model "
                    "has no variable of that name"
                )
    if r.problems:
        raise MapError(r.problems)
    assert site is not None
    return PlantMap(
        path=path, site=site, devices=tuple(devices), servers=tuple(servers), tags=tuple(tags)
    )


def load_map(path: str | Path = DEFAULT_MAP, known_tags: Collection[str] | None = None) -> PlantMap:
    """Read and validate the map file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError([f"{path}: cannot read the address map: {exc.strerror}"]) from None
    return parse_map(text, str(path), known_tags)


def _site(r: _Reader, node: Node | None) -> Site | None:
    if node is None:
        return None
    m = r.mapping(node, "site", ("code", "name", "timezone"), ("code", "name"))
    if m is None:
        return None
    code = r.scalar(m["code"], "site.code", _name, "a name") if "code" in m else None
    name = r.scalar(m["name"], "site.name", _as_str, "text") if "name" in m else None
    tz = "UTC"
    if "timezone" in m:
        tz = r.scalar(m["timezone"], "site.timezone", _timezone, "an IANA time zone") or "UTC"
    if code is None or name is None:
        return None
    return Site(code=code, name=name, timezone=tz)


def _timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(_as_str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a known time zone, e.g. America/Denver") from None
    return str(value)


def _items(r: _Reader, node: Node | None, where: str, key: str) -> Iterator[tuple[str, Node]]:
    if node is None:
        return
    m = r.mapping(node, where, (key,), (key,))
    if m is None or key not in m:
        return
    for i, item in enumerate(r.sequence(m[key], f"{where}.{key}")):
        yield f"{where}.{key}[{i}]", item


def _devices(r: _Reader, node: Node | None) -> list[ModbusDevice]:
    out: list[ModbusDevice] = []
    seen: dict[str, int] = {}
    endpoints: set[tuple[str, int, int]] = set()
    fields = ("name", "host", "port", "unit_id", "timeout_s", "poll_interval_s")
    for where, item in _items(r, node, "modbus", "devices"):
        m = r.mapping(item, where, fields, ("name", "host", "port", "unit_id"))
        if m is None:
            continue
        name = r.get(m, where, "name", _name, "a name")
        host = r.get(m, where, "host", _as_str, "a host")
        port = r.get(m, where, "port", _in_range(0, 65535), "a port")
        unit = (
            r.scalar(m["unit_id"], f"{where}.unit_id", _in_range(0, 255), "a unit id")
            if "unit_id" in m
            else None
        )
        timeout = r.get(m, where, "timeout_s", _positive, "seconds", 1.0)
        poll = (
            r.scalar(m["poll_interval_s"], f"{where}.poll_interval_s", _positive, "seconds")
            if "poll_interval_s" in m
            else 1.0
        )
        if name is not None:
            if name in seen:
                r.error(
                    m["name"],
                    f"{where}.name",
                    f"duplicate device name {name!r} (first on line {seen[name]})",
                )
                continue
            seen[name] = m["name"].start_mark.line + 1
        if None in (name, host, port, unit, timeout, poll):
            continue
        assert name and host and port is not None and unit is not None and timeout and poll
        if (host, port, unit) in endpoints:
            r.error(
                item, f"{where}.unit_id", f"another device already is {host}:{port} unit {unit}"
            )
            continue
        endpoints.add((host, port, unit))
        out.append(ModbusDevice(name, host, port, unit, timeout, poll))
    return out


def _servers(r: _Reader, node: Node | None) -> list[OpcuaServer]:
    out: list[OpcuaServer] = []
    seen: set[str] = set()
    fields = ("name", "endpoint", "security_policy", "security_mode", "username", "password")
    for where, item in _items(r, node, "opcua", "servers"):
        m = r.mapping(item, where, fields, ("name", "endpoint"))
        if m is None:
            continue
        name = r.get(m, where, "name", _name, "a name")
        endpoint = r.get(m, where, "endpoint", _endpoint, "an endpoint")
        policy = "None"
        if "security_policy" in m:
            policy = (
                r.scalar(
                    m["security_policy"],
                    f"{where}.security_policy",
                    _one_of(SECURITY_POLICIES),
                    "a policy",
                )
                or "None"
            )
        mode = "None" if policy == "None" else "SignAndEncrypt"
        if "security_mode" in m:
            mode = (
                r.scalar(
                    m["security_mode"], f"{where}.security_mode", _one_of(SECURITY_MODES), "a mode"
                )
                or mode
            )
        user = r.get(m, where, "username", _as_str, "text")
        password = r.get(m, where, "password", _as_str, "text")
        if (policy == "None") != (mode == "None"):
            r.error(item, f"{where}.security_mode", f"mode {mode} does not go with policy {policy}")
        if name is not None and name in seen:
            r.error(m["name"], f"{where}.name", f"duplicate server name {name!r}")
            continue
        if name is None or endpoint is None:
            continue
        seen.add(name)
        out.append(OpcuaServer(name, endpoint, policy, mode, user, password))
    return out


def _endpoint(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"opc\.tcp://[^/:]+:\d+(/.*)?\Z", value):
        raise ValueError('use the form "opc.tcp://host:port/path/"')
    return value


_TAG_FIELDS = (
    "name",
    "description",
    "unit",
    "eng_range",
    "limits",
    "deadband",
    "source",
    "modbus",
    "opcua",
)
_MODBUS_FIELDS = (
    "device",
    "register",
    "address",
    "type",
    "word_order",
    "scale",
    "offset",
    "length",
)


def _tags(r: _Reader, node: Node | None, devices: set[str], servers: set[str]) -> list[Tag]:
    out: list[Tag] = []
    names: dict[str, int] = {}
    node_ids: dict[tuple[str, str], int] = {}
    for i, item in enumerate(r.sequence(node, "tags") if node is not None else []):
        where = f"tags[{i}]"
        peeked = _peek_name(item)
        if peeked is not None:
            where = f"tags.{peeked}"  # errors then name the tag, not its position
        m = r.mapping(item, where, _TAG_FIELDS, ("name", "unit", "source"))
        if m is None:
            continue
        name = r.get(m, f"tags[{i}]", "name", _name, "a tag name")
        if name is not None:
            if name in names:
                r.error(
                    m["name"], f"{where}.name", f"duplicate tag name (first on line {names[name]})"
                )
                continue
            names[name] = item.start_mark.line + 1
        description = ""
        if "description" in m:
            description = r.scalar(m["description"], f"{where}.description", str, "text") or ""
        unit = r.get(m, where, "unit", _unit, "a unit")
        eng_range = (
            _eng_range(r, m["eng_range"], f"{where}.eng_range") if "eng_range" in m else None
        )
        limits = _limits(r, m["limits"], f"{where}.limits") if "limits" in m else Limits()
        deadband = None
        if "deadband" in m:
            deadband = r.scalar(m["deadband"], f"{where}.deadband", _non_negative, "a number")
        source = r.get(m, where, "source", _one_of(SOURCES), "a source")
        modbus = (
            _modbus_point(r, m["modbus"], f"{where}.modbus", devices) if "modbus" in m else None
        )
        opcua = _opcua_point(r, m["opcua"], f"{where}.opcua", servers) if "opcua" in m else None
        if source is not None and source not in m:
            r.error(
                m["source"],
                f"{where}.source",
                f"source is {source} but the tag has no {source} point",
            )
        if opcua is not None:
            key = (opcua.server, opcua.node_id)
            if key in node_ids:
                r.error(
                    m["opcua"],
                    f"{where}.opcua.node_id",
                    f"node id {opcua.node_id} already used on line {node_ids[key]}",
                )
            node_ids[key] = m["opcua"].start_mark.line + 1
        if name is None or unit is None or source is None:
            continue
        if source == "modbus" and modbus is None or source == "opcua" and opcua is None:
            continue
        out.append(
            Tag(
                name,
                description,
                unit,
                eng_range,
                limits,
                deadband,
                source,
                modbus,
                opcua,
                item.start_mark.line + 1,
            )
        )
    return out


def _peek_name(node: Node) -> str | None:
    if not isinstance(node, MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "name" and isinstance(value, ScalarNode):
            return value.value if NAME_RE.match(value.value) else None
    return None


def _unit(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("")
    return value


def _non_negative(value: Any) -> float:
    v = _as_float(value)
    if v < 0:
        raise ValueError("must not be negative")
    return v


def _eng_range(r: _Reader, node: Node, where: str) -> tuple[float, float] | None:
    items = r.sequence(node, where)
    if len(items) != 2:
        r.error(node, where, "expected [low, high]")
        return None
    lo = r.scalar(items[0], f"{where}[0]", _as_float, "a number")
    hi = r.scalar(items[1], f"{where}[1]", _as_float, "a number")
    if lo is None or hi is None:
        return None
    if lo >= hi:
        r.error(node, where, f"low {lo:g} must be below high {hi:g}")
        return None
    return (lo, hi)


def _limits(r: _Reader, node: Node, where: str) -> Limits:
    m = r.mapping(node, where, ("lo_lo", "lo", "hi", "hi_hi"))
    if m is None:
        return Limits()
    values = {
        k: r.scalar(v, f"{where}.{k}", _as_optional_float, "a number or null") for k, v in m.items()
    }
    limits = Limits(**values)
    ordered = [v for v in (limits.lo_lo, limits.lo, limits.hi, limits.hi_hi) if v is not None]
    if ordered != sorted(ordered):
        r.error(node, where, "limits must be ordered lo_lo <= lo <= hi <= hi_hi")
    return limits


def _modbus_point(r: _Reader, node: Node, where: str, devices: set[str]) -> ModbusPoint | None:
    m = r.mapping(node, where, _MODBUS_FIELDS, ("device", "register", "address", "type"))
    if m is None:
        return None
    device = r.get(m, where, "device", _as_str, "a device name")
    if device is not None and device not in devices:
        r.error(
            m["device"],
            f"{where}.device",
            f"no Modbus device named {device!r} under modbus.devices",
        )
        device = None
    register = (
        r.scalar(m["register"], f"{where}.register", _one_of(REGISTER_KINDS), "a register kind")
        if "register" in m
        else None
    )
    address = (
        r.scalar(m["address"], f"{where}.address", _in_range(0, 65535), "an address")
        if "address" in m
        else None
    )
    type_ = r.get(m, where, "type", _one_of(REGISTER_TYPES), "a type")
    order = "ABCD"
    if "word_order" in m:
        order = (
            r.scalar(m["word_order"], f"{where}.word_order", _one_of(WORD_ORDERS), "a word order")
            or order
        )
    scale = r.get(m, where, "scale", _nonzero, "a number", 1.0)
    offset = r.get(m, where, "offset", _as_float, "a number", 0.0)
    length = r.get(m, where, "length", _in_range(1, 123), "a register count")
    if type_ == "string" and length is None and "length" not in m:
        r.error(node, f"{where}.length", "a string point needs length (in registers)")
        return None
    if type_ is not None and type_ != "string" and "length" in m:
        r.error(m["length"], f"{where}.length", "only string points take a length")
    if register in ("coil", "discrete") and type_ not in (None, "bool"):
        r.error(m["type"], f"{where}.type", f"a {register} holds one bit: type must be bool")
        return None
    if None in (device, register, address, type_, scale, offset):
        return None
    assert (
        device
        and register
        and address is not None
        and type_
        and scale is not None
        and offset is not None
    )
    point = ModbusPoint(device, register, address, type_, order, scale, offset, length)
    if address + point.count > 65536:
        r.error(
            m["address"],
            f"{where}.address",
            f"{point.count} registers from {address} run past 65535",
        )
        return None
    return point


def _opcua_point(r: _Reader, node: Node, where: str, servers: set[str]) -> OpcuaPoint | None:
    m = r.mapping(node, where, ("server", "node_id"), ("server", "node_id"))
    if m is None:
        return None
    server = r.get(m, where, "server", _as_str, "a server name")
    if server is not None and server not in servers:
        r.error(
            m["server"], f"{where}.server", f"no OPC UA server named {server!r} under opcua.servers"
        )
        server = None
    node_id = r.get(m, where, "node_id", _node_id, "a node id")
    if server is None or node_id is None:
        return None
    return OpcuaPoint(server, node_id)


def _check_overlaps(r: _Reader, tags: list[Tag], node: Node | None) -> None:
    """Two tags may not share a register (or bit) on the same device and register kind."""
    spans: dict[tuple[str, str], list[tuple[int, int, Tag]]] = {}
    for tag in tags:
        if tag.modbus is None:
            continue
        p = tag.modbus
        spans.setdefault((p.device, p.register), []).append((p.address, p.address + p.count, tag))
    for (device, register), items in spans.items():
        items.sort(key=lambda s: (s[0], s[2].line))
        end, owner = -1, None
        for start, stop, tag in items:
            if owner is not None and start < end:
                r.problems.append(
                    f"{r.path}:{tag.line}: tags.{tag.name}.modbus.address: {register} "
                    f"{start}..{stop - 1} on {device} overlaps {owner.name} (line {owner.line})"
                )
            if stop > end:
                end, owner = stop, tag

"""Checks across fields and tags that a single model cannot make.

Each names what is at fault by its place in the file (``loc``, as pydantic's errors
do), so that the loader can give the line. A consumer of the site file adds its own
checks of the same shape (the simulator: that its model computes every tag).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sitefile.models import BIT_REGISTERS, SiteConfig
from sitefile.ranges import ENTRY_FIELD_PATTERN, analyte_key

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    # Where the thing it repeats is, for a duplicate: the loader names its line.
    first: Loc | None = None


Check = Callable[[SiteConfig], list[Problem]]


def check_config(
    config: SiteConfig,
    unchecked_devices: frozenset[str] = frozenset(),
    unchecked_servers: frozenset[str] = frozenset(),
) -> list[Problem]:
    """The problems across the configuration's parts.

    ``unchecked_devices`` and ``unchecked_servers`` are named in the file but not in
    ``config`` (their own fields are wrong, :mod:`sitefile.partial`): a tag naming one
    is not reported as naming nothing, and is not checked against the device's limits.
    """
    problems: list[Problem] = []
    problems += _unique([d.name for d in config.modbus.devices], ("modbus", "devices"), "device")
    problems += _unique([s.name for s in config.opcua.servers], ("opcua", "servers"), "server")
    problems += _unique([t.name for t in config.tags], ("tags",), "tag")
    ids: dict[str, int] = {}
    nodes: dict[tuple[str, str], int] = {}
    for i, tag in enumerate(config.tags):
        # Without an id a tag is known by where it is read: its node, or its registers,
        # which the overlap check below keeps apart.
        if tag.id is not None:
            if tag.id in ids:
                first = ids[tag.id]
                problems.append(
                    Problem(
                        ("tags", i, "id"),
                        f"same id as tag {config.tags[first].name!r}",
                        ("tags", first, "id"),
                    )
                )
            ids.setdefault(tag.id, i)
        if tag.opcua is not None:
            node = (tag.opcua.server, tag.opcua.node_id)
            if node in nodes:
                first = nodes[node]
                problems.append(
                    Problem(
                        ("tags", i, "opcua", "node_id"),
                        f"same node as tag {config.tags[first].name!r} ({node[0]} {node[1]})",
                        ("tags", first, "opcua", "node_id"),
                    )
                )
            nodes.setdefault(node, i)
    devices = {d.name: d for d in config.modbus.devices}
    servers = {s.name for s in config.opcua.servers}
    # (device, register) -> [(start, end, tag index)]
    spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for i, tag in enumerate(config.tags):
        if (
            tag.opcua is not None
            and tag.opcua.server not in servers
            and tag.opcua.server not in unchecked_servers
        ):
            problems.append(
                Problem(
                    ("tags", i, "opcua", "server"), f"no OPC UA server named {tag.opcua.server!r}"
                )
            )
        m = tag.modbus
        if m is None:
            continue
        device = devices.get(m.device)
        if device is None and m.device in unchecked_devices:
            if m.end <= 65536:
                spans.setdefault((m.device, m.kind), []).append((m.address, m.end, i))
            continue
        if device is None:
            problems.append(
                Problem(("tags", i, "modbus", "device"), f"no Modbus device named {m.device!r}")
            )
            continue
        if m.end > 65536:
            problems.append(
                Problem(
                    ("tags", i, "modbus", "address"),
                    f"{m.type} at {m.address} needs {m.count} registers and runs past 65535",
                )
            )
            continue
        limit = (
            device.max_bits_per_request
            if m.kind in BIT_REGISTERS
            else device.max_registers_per_request
        )
        if m.count > limit:
            problems.append(
                Problem(
                    ("tags", i, "modbus", "length" if m.type == "string" else "type"),
                    f"needs {m.count} registers, more than one request to {m.device} may read"
                    f" (max_registers_per_request {limit})",
                )
            )
        spans.setdefault((m.device, m.kind), []).append((m.address, m.end, i))
    for (device_name, register), items in spans.items():
        items.sort()
        # Against the tag reaching furthest so far, not only the one before: a long
        # string may cover several tags that follow it.
        start, end, owner = -1, -1, -1
        for s, e, i in items:
            if s < end:
                other = config.tags[owner].name
                problems.append(
                    Problem(
                        ("tags", i, "modbus", "address"),
                        f"overlaps tag {other!r} ({device_name} {register} {start}-{end - 1})",
                    )
                )
            if e > end:
                start, end, owner = s, e, i
    return problems + _range_keys(config)


def _range_keys(config: SiteConfig) -> list[Problem]:
    """``entry_ranges:`` keys are ``kind.field``; ``analytes:`` keys are one analyte each,
    whatever their spelling (``E. coli`` and ``ecoli`` are one)."""
    problems = []
    for key in config.entry_ranges:
        if not re.match(ENTRY_FIELD_PATTERN, key):
            problems.append(
                Problem(
                    ("entry_ranges", key),
                    f"{key!r}: name an entry kind and its number field, e.g."
                    " chemical_addition.amount",
                )
            )
    seen: dict[str, str] = {}
    for key in config.analytes:
        same = analyte_key(key)
        if not same:
            problems.append(
                Problem(("analytes", key), f"{key!r}: an analyte needs a letter or digit")
            )
        elif same in seen:
            problems.append(
                Problem(
                    ("analytes", key),
                    f"same analyte as {seen[same]!r} (spelling and case aside)",
                    ("analytes", seen[same]),
                )
            )
        seen.setdefault(same, key)
    return problems


def _unique(names: list[str], where: Loc, what: str) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        if name in seen:
            out.append(
                Problem((*where, i, "name"), f"duplicate {what} {name!r}", (*where, seen[name]))
            )
        else:
            seen[name] = i
    return out

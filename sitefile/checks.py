"""Checks across fields and tags that a single model cannot make."""

from __future__ import annotations

from dataclasses import dataclass

from sitefile.models import BIT_REGISTERS, SiteConfig


@dataclass(frozen=True)
class Problem:
    loc: tuple[str | int, ...]
    message: str


def check_config(config: SiteConfig) -> list[Problem]:
    problems: list[Problem] = []
    problems += _unique([d.name for d in config.modbus.devices], ("modbus", "devices"), "device")
    problems += _unique([s.name for s in config.opcua.servers], ("opcua", "servers"), "server")
    problems += _unique([t.name for t in config.tags], ("tags",), "tag", field="name")
    keys: dict[str, int] = {}
    for i, tag in enumerate(config.tags):
        # Two Modbus tags at one address are reported as an overlap below.
        if tag.key in keys and not tag.key.startswith("modbus:"):
            problems.append(
                Problem(
                    ("tags", i, "id" if tag.id else "opcua"),
                    f"same identity {tag.key!r} as tag {config.tags[keys[tag.key]].name!r}",
                )
            )
        keys.setdefault(tag.key, i)
    devices = {d.name: d for d in config.modbus.devices}
    servers = {s.name for s in config.opcua.servers}
    # (device, register) -> [(start, end, tag index)]
    spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for i, tag in enumerate(config.tags):
        if tag.opcua is not None and tag.opcua.server not in servers:
            problems.append(
                Problem(
                    ("tags", i, "opcua", "server"), f"no OPC UA server named {tag.opcua.server!r}"
                )
            )
        m = tag.modbus
        if m is None:
            continue
        device = devices.get(m.device)
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
        for (s1, e1, i1), (s2, _e2, i2) in zip(items, items[1:], strict=False):
            if s2 < e1:
                first = config.tags[i1]
                problems.append(
                    Problem(
                        ("tags", i2, "modbus", "address"),
                        f"overlaps tag {first.name!r} ({device_name} {register} {s1}-{e1 - 1})",
                    )
                )
    problems.sort(key=lambda p: tuple(str(x).zfill(8) for x in p.loc))
    return problems


def _unique(
    names: list[str], where: tuple[str | int, ...], what: str, field: str = "name"
) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        if name in seen:
            out.append(
                Problem(
                    (*where, i, field), f"duplicate {what} {name!r} (first at item {seen[name]})"
                )
            )
        else:
            seen[name] = i
    return out

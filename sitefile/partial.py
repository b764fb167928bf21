"""The entries of a site file that are valid on their own, for the checks across tags.

When some fields are wrong the whole configuration cannot be built, yet the checks
across tags (overlaps, duplicate names, unknown devices) can still judge the devices,
servers and tags that are valid each by itself, so that one run lists every problem
of the file. :func:`valid_parts` builds that partial configuration and
:meth:`Partial.problems` runs the checks on it, naming each entry by its place in
the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sitefile.checks import Loc, Problem, check_config
from sitefile.models import (
    ModbusDevice,
    ModbusSection,
    OpcuaSection,
    OpcuaServer,
    Site,
    SiteConfig,
    Tag,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Partial:
    config: SiteConfig
    # Where each list's entries of ``config`` are in the file's lists, by list.
    places: dict[Loc, list[int]]
    # Devices and servers the file names but could not validate: a tag naming one is
    # not "naming no device", and its checks against the device are left out.
    unchecked_devices: frozenset[str]
    unchecked_servers: frozenset[str]

    def problems(self) -> list[Problem]:
        found = check_config(self.config, self.unchecked_devices, self.unchecked_servers)
        return [
            Problem(self._in_file(p.loc), p.message, self._in_file(p.first) if p.first else None)
            for p in found
        ]

    def _in_file(self, loc: Loc) -> Loc:
        for where, places in self.places.items():
            n = len(where)
            index = loc[n] if loc[:n] == where and len(loc) > n else None
            if isinstance(index, int):
                return (*where, places[index], *loc[n + 1 :])
        return loc


def _entries(data: Any, *path: str) -> list[Any]:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, list) else []


def _valid(entries: list[Any], model: type[M]) -> tuple[list[M], list[int], set[str]]:
    """The entries that validate, their places, and the names of those that do not."""
    good: list[M] = []
    places: list[int] = []
    failed: set[str] = set()
    for i, entry in enumerate(entries):
        try:
            item = model.model_validate(entry)
        except ValidationError:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                failed.add(entry["name"])
            continue
        good.append(item)
        places.append(i)
    return good, places, failed


def valid_parts(data: dict[str, Any]) -> Partial:
    """The devices, servers and tags of a file's data that validate each by itself."""
    devices, device_places, bad_devices = _valid(_entries(data, "modbus", "devices"), ModbusDevice)
    servers, server_places, bad_servers = _valid(_entries(data, "opcua", "servers"), OpcuaServer)
    tags, tag_places, _ = _valid(_entries(data, "tags"), Tag)
    # Built without validation: the parts are valid, the whole (its site, say) may not be.
    config = SiteConfig.model_construct(
        site=Site.model_construct(code="", name=""),
        modbus=ModbusSection.model_construct(devices=devices),
        opcua=OpcuaSection.model_construct(servers=servers),
        tags=tags,
    )
    valid_names = {d.name for d in devices}, {s.name for s in servers}
    return Partial(
        config,
        {
            ("modbus", "devices"): device_places,
            ("opcua", "servers"): server_places,
            ("tags",): tag_places,
        },
        frozenset(bad_devices - valid_names[0]),
        frozenset(bad_servers - valid_names[1]),
    )

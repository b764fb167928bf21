"""The plant address map: a site file (:mod:`sitefile`) as the simulator serves it.

The same file is the example site configuration the collectors read, so it is read
by the same loader, with the same errors (``file:line: field: what``). What is the
simulator's own is checked in the same form: here, that each unit id is one device
(one port answers for them all) and, given the model, that it computes every tag the
map names; in :mod:`simulators.opcua_face`, that every node is in the simulator's
namespace. The simulator serves every point a tag has, whichever of them its
collectors read (``source``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Final

from sitefile.checks import Check, Problem
from sitefile.load import SiteConfigError, SiteFile, load_site_file, parse_site_file
from sitefile.models import ModbusDevice, OpcuaServer, Site, SiteConfig, Tag

DEFAULT_MAP: Final = Path(__file__).with_name("plant_map.yaml")


@dataclass(frozen=True)
class PlantMap:
    file: SiteFile

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def config(self) -> SiteConfig:
        return self.file.config

    @property
    def site(self) -> Site:
        return self.config.site

    @property
    def devices(self) -> list[ModbusDevice]:
        return self.config.modbus.devices

    @property
    def servers(self) -> list[OpcuaServer]:
        return self.config.opcua.servers

    @property
    def tags(self) -> list[Tag]:
        return self.config.tags

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {t.name: i for i, t in enumerate(self.tags)}

    def tag(self, name: str) -> Tag:
        return self.tags[self._positions[name]]

    def device(self, name: str) -> ModbusDevice:
        return self.config.device(name)

    def modbus_tags(self, device: str | None = None) -> list[Tag]:
        """The tags with a Modbus point (on ``device``)."""
        return [t for t in self.tags if t.modbus and (device is None or t.modbus.device == device)]

    def opcua_tags(self, server: str | None = None) -> list[Tag]:
        """The tags with an OPC UA node (on ``server``)."""
        return [t for t in self.tags if t.opcua and (server is None or t.opcua.server == server)]

    def tag_problem(self, name: str, message: str, *field: str) -> Problem:
        """A problem with the tag named ``name`` (its ``field``), for :meth:`error`."""
        return Problem(("tags", self._positions[name], *field), message)

    def error(self, problems: Iterable[Problem]) -> SiteConfigError:
        return self.file.error(problems)


def simulator_checks(known_tags: Collection[str] | None = None) -> list[Check]:
    """The simulator's checks of a map; with the model's variables, that it has each tag."""
    if known_tags is None:
        return [one_device_per_unit]
    known = frozenset(known_tags)

    def computed(config: SiteConfig) -> list[Problem]:
        return [
            Problem(
                ("tags", i, "name"),
                f"unknown tag {t.name!r}: the simulator's model has no variable of that name",
            )
            for i, t in enumerate(config.tags)
            if t.name not in known
        ]

    return [one_device_per_unit, computed]


def one_device_per_unit(config: SiteConfig) -> list[Problem]:
    seen: dict[int, str] = {}
    problems = []
    for i, d in enumerate(config.modbus.devices):
        if d.unit_id in seen:
            problems.append(
                Problem(
                    ("modbus", "devices", i, "unit_id"),
                    f"unit id {d.unit_id} is device {seen[d.unit_id]!r} already: the simulator"
                    " answers for every unit id on one port",
                )
            )
        seen.setdefault(d.unit_id, d.name)
    return problems


def check_map(plant_map: PlantMap, known_tags: Collection[str]) -> None:
    """Raise the map's error if the simulator cannot serve it with this model."""
    problems = [p for check in simulator_checks(known_tags) for p in check(plant_map.config)]
    if problems:
        raise plant_map.error(problems)


def parse_map(
    text: str, path: str = "<map>", known_tags: Collection[str] | None = None
) -> PlantMap:
    """Parse and validate a map held in ``text``; ``path`` names it in errors."""
    return PlantMap(parse_site_file(text, path, simulator_checks(known_tags)))


def load_map(path: str | Path = DEFAULT_MAP, known_tags: Collection[str] | None = None) -> PlantMap:
    """Read and validate the map file at ``path``."""
    return PlantMap(load_site_file(path, simulator_checks(known_tags)))

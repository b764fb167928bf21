"""Large synthetic plants for collector benchmarks: N devices x M tags, all changing every second.

``synthetic_plant(10, 200)`` gives 2,000 Modbus tags on unit ids 1..10 of one
server (issue 4's load); ``synthetic_plant(10, 500)`` gives 5,000 OPC UA
variables (issue 5's). Every tag is on both faces. Types rotate through
float32 ABCD, float32 CDAB, int16 x0.1 and uint32 counters, packed from
holding register 0 of each device. ``dump_map`` writes the map as YAML so a
collector can be pointed at it like at a real site.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from types import MappingProxyType

import yaml

from clearwell.errors import ClearwellError
from simulators.address_map import PlantMap
from simulators.model.base import Value, Variable
from simulators.model.signals import uniform
from sitefile.load import SiteFile
from sitefile.models import SiteConfig

# (type, word order, scale, registers, kind)
_PATTERN = (
    ("float32", "ABCD", 1.0, 2, "analog"),
    ("float32", "CDAB", 1.0, 2, "analog"),
    ("int16", "ABCD", 0.1, 1, "analog"),
    ("uint32", "ABCD", 1.0, 2, "counter"),
)


def _variable(name: str, kind: str) -> Variable:
    if kind == "counter":
        return Variable(name, "counter", "1", 0.0, 4e9, name)
    return Variable(name, "analog", "%", 0.0, 100.0, name)


def tag_name(device: int, index: int) -> str:
    return f"syn.d{device:02d}.t{index:04d}"


class SyntheticModel:
    """Values that depend only on (seed, tag, whole plant second): a sine plus a step per second."""

    def __init__(
        self, names: list[str], kinds: list[str], seed: int = 1, start: datetime | None = None
    ) -> None:
        self.seed = seed
        self._t = (start or datetime(2026, 1, 1, tzinfo=UTC)).timestamp()
        self._names = names
        self._cache: tuple[int, dict[str, Value]] | None = None
        self._kinds = kinds
        self._phase = [uniform(seed, i, 0) * 2 * math.pi for i in range(len(names))]
        self._period = [600.0 + 3000.0 * uniform(seed, i, 1) for i in range(len(names))]
        self._variables = MappingProxyType(
            {n: _variable(n, k) for n, k in zip(names, kinds, strict=True)}
        )

    @property
    def variables(self) -> MappingProxyType[str, Variable]:
        return self._variables

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def step(self, dt: float) -> None:
        if dt < 0 or not math.isfinite(dt):
            raise ValueError(f"dt must be a finite number of seconds >= 0, got {dt}")
        self._t += dt

    def values(self) -> dict[str, Value]:
        second = math.floor(self._t)
        if self._cache is not None and self._cache[0] == second:
            return dict(self._cache[1])
        out: dict[str, Value] = {}
        for i, name in enumerate(self._names):
            if self._kinds[i] == "counter":
                out[name] = float(second % 4_000_000_000)
            else:
                # The wave moves at most 0.32 a second and the saw-tooth 0.5 or -4.5, so
                # every value differs from the last by more than the 0.1 resolution.
                wave = math.sin(2 * math.pi * second / self._period[i] + self._phase[i])
                out[name] = round(50.0 + 30.0 * wave + (second % 10) * 0.5, 1)
        self._cache = (second, out)
        return dict(out)


def synthetic_plant(
    devices: int = 10,
    tags_per_device: int = 200,
    *,
    seed: int = 1,
    start: datetime | None = None,
    host: str = "127.0.0.1",
    modbus_port: int = 5020,
    opcua_port: int = 4840,
) -> tuple[PlantMap, SyntheticModel]:
    if not 1 <= devices <= 247 or tags_per_device < 1:
        raise ClearwellError("a synthetic plant needs 1..247 devices and at least one tag each")
    devices_doc = [
        {
            "name": f"dev{d:02d}",
            "host": host,
            "port": modbus_port,
            "unit_id": d,
            "timeout_s": 1.0,
            "poll_interval_s": 1.0,
        }
        for d in range(1, devices + 1)
    ]
    server = {
        "name": "synthetic",
        "endpoint": f"opc.tcp://{host}:{opcua_port}/clearwell/",
        "security_policy": "None",
    }
    tags: list[dict[str, object]] = []
    kinds: list[str] = []
    for d in range(1, devices + 1):
        address = 0
        for i in range(tags_per_device):
            type_, order, scale, count, kind = _PATTERN[i % len(_PATTERN)]
            if address + count > 65536:
                raise ClearwellError(f"{tags_per_device} tags do not fit one device's registers")
            tag: dict[str, object] = {
                "name": tag_name(d, i),
                "description": f"Synthetic signal {i} of device {d}",
                "unit": "1" if kind == "counter" else "%",
                "source": "modbus",
                "modbus": {
                    "device": f"dev{d:02d}",
                    "register": "holding",
                    "address": address,
                    "type": type_,
                    "word_order": order,
                    "scale": scale,
                    "offset": 0.0,
                },
                "opcua": {"server": "synthetic", "node_id": f"ns=2;s=Synthetic.D{d:02d}.T{i:04d}"},
            }
            if kind != "counter":
                tag["eng_range"] = (0.0, 100.0)
            tags.append(tag)
            kinds.append(kind)
            address += count
    name = f"Synthetic plant {devices}x{tags_per_device}"
    # Validated as a site file's data is, and dumped (dump_map) with just these fields.
    config = SiteConfig.model_validate(
        {
            "site": {"code": "synthetic", "name": name, "timezone": "UTC"},
            "modbus": {"devices": devices_doc},
            "opcua": {"servers": [server]},
            "tags": tags,
        }
    )
    plant_map = PlantMap(SiteFile(f"<synthetic {devices}x{tags_per_device}>", config))
    model = SyntheticModel([t.name for t in config.tags], kinds, seed=seed, start=start)
    return plant_map, model


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m:
        raise ClearwellError(f"--synthetic {text!r}: expected DEVICESxTAGS, e.g. 10x200")
    return int(m.group(1)), int(m.group(2))


def dump_map(plant_map: PlantMap) -> str:
    """The map as YAML: a site file, with the fields the map was given."""
    doc = plant_map.config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, width=120)

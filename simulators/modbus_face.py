"""The Modbus TCP face: one pymodbus server answering for every device (unit id) in the map.

Each device has four memory areas (coils, discrete inputs, input and holding
registers) sized to the highest mapped address; unmapped addresses inside read
zero and reads past the end answer ILLEGAL ADDRESS, as a PLC does. The face is
read-only: writes answer ILLEGAL FUNCTION.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer

from simulators.address_map import PlantMap
from simulators.faults import FaultSet
from simulators.model.base import Value
from simulators.ports import listen_error
from simulators.registers import decode, encode
from sitefile.models import BIT_REGISTERS, ModbusDevice, Tag

log = logging.getLogger("clearwell.simulators.modbus")

# Function code -> memory area.
_AREAS: dict[int, str] = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}


@dataclass
class DeviceImage:
    """The memory of one device as a client would read it."""

    device: ModbusDevice
    areas: dict[str, list[int]] = field(default_factory=dict)


def build_images(plant_map: PlantMap) -> dict[int, DeviceImage]:
    """Zeroed memory for each unit id, sized to the points the map puts there."""
    images: dict[int, DeviceImage] = {}
    for device in plant_map.devices:
        # The map has one device per unit id (simulators.address_map.one_device_per_unit).
        sizes = {"coil": 0, "discrete": 0, "input": 0, "holding": 0}
        for tag in plant_map.modbus_tags(device.name):
            assert tag.modbus is not None
            end = tag.modbus.address + tag.modbus.count
            sizes[tag.modbus.kind] = max(sizes[tag.modbus.kind], end)
        images[device.unit_id] = DeviceImage(device, {k: [0] * n for k, n in sizes.items()})
    return images


def write_point(image: DeviceImage, tag: Tag, value: Value) -> Value:
    """Store ``value`` into the image; returns the value a client decoding it would read."""
    p = tag.modbus
    assert p is not None
    area = image.areas[p.kind]
    if p.kind in BIT_REGISTERS:
        bit = bool(value)
        area[p.address] = int(bit)
        return bit
    words = encode(value, p.type, p.word_order, p.scale, p.offset, p.length)
    area[p.address : p.address + len(words)] = words
    return decode(words, p.type, p.word_order, p.scale, p.offset)


class _SimulatorContext(ModbusServerContext):
    """Answers reads from the device images, applying the faults in force.

    pymodbus hands an object flagged ``old_simulator`` every request unchanged
    (protocol addresses, no +1 offset), which is what this needs.
    """

    def __init__(self, images: dict[int, DeviceImage], faults: FaultSet) -> None:
        # The base initializer only builds pymodbus' own datastore and warns; skip it.
        self.old_simulator = True
        self.simdevices = []
        self._images = images
        self._faults = faults

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        image = self._images.get(device_id)
        if image is None:
            raise NoSuchIdException(f"no device with unit id {device_id}")
        name = image.device.name
        stall = self._faults.stall_for(name)
        if stall:
            await asyncio.sleep(stall)
        code = self._faults.exception_for(name)
        if code is not None:
            return (
                ExcCodes(code) if code in ExcCodes._value2member_map_ else ExcCodes.DEVICE_FAILURE
            )
        area = _AREAS.get(func_code)
        if area is None:
            return ExcCodes.ILLEGAL_FUNCTION
        memory = image.areas[area]
        if address < 0 or count < 1 or address + count > len(memory):
            return ExcCodes.ILLEGAL_ADDRESS
        values = memory[address : address + count]
        if area in ("coil", "discrete"):
            return [bool(v) for v in values]
        return values

    async def async_setValues(
        self,
        device_id: int,
        func_code: int,
        address: int,
        values: Sequence[int] | Sequence[bool],
    ) -> ExcCodes | None:
        if device_id not in self._images:
            raise NoSuchIdException(f"no device with unit id {device_id}")
        return ExcCodes.ILLEGAL_FUNCTION

    def device_ids(self) -> list[int]:
        return list(self._images)


class ModbusFace:
    """A running Modbus TCP server over the device images."""

    def __init__(
        self, images: dict[int, DeviceImage], faults: FaultSet, host: str, port: int
    ) -> None:
        self.images = images
        self.host = host
        self.requested_port = port
        self.port = port
        self._context = _SimulatorContext(images, faults)
        self._server: ModbusTcpServer | None = None

    async def start(self) -> None:
        server = ModbusTcpServer(self._context, address=(self.host, self.requested_port))
        failure: list[OSError] = []
        create: Callable[[], Any] = server.call_create

        async def create_and_keep_error() -> Any:
            try:
                return await create()
            except OSError as exc:
                failure.append(exc)
                raise

        server.call_create = create_and_keep_error
        if not await server.listen():
            error = failure[0] if failure else None
            raise listen_error("Modbus", self.host, self.requested_port, error)
        self._server = server
        sockets = server.transport.sockets  # type: ignore[attr-defined]
        self.port = sockets[0].getsockname()[1]

    def drop_connections(self) -> int:
        """Close every client connection, as a PLC reboot or a flaky switch would."""
        if self._server is None:
            return 0
        connections = list(self._server.active_connections.values())
        for conn in connections:
            conn.close()
        return len(connections)

    @property
    def connection_count(self) -> int:
        return len(self._server.active_connections) if self._server else 0

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            await server.shutdown()

"""pymodbus's own Modbus TCP server with a register layout the test defines."""

from __future__ import annotations

from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

# Function codes pymodbus's datastore files each memory area under.
_FC = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


class LayoutServer:
    """``layout`` is {unit id: {"holding"/"input": [words], "coil"/"discrete": [bools]}}.

    Addresses are protocol addresses: index 0 of a list is address 0 on the wire.
    """

    def __init__(self, layout: dict[int, dict[str, list[Any]]]) -> None:
        self.layout = layout
        self.port = 0
        self._server: ModbusTcpServer | None = None

    def _devices(self) -> list[SimDevice]:
        devices = []
        for unit, areas in self.layout.items():

            def block(name: str, bits: bool, areas: dict[str, list[Any]] = areas) -> list[SimData]:
                values = list(areas.get(name) or ([False] if bits else [0]))
                if bits:
                    # Whole registers' worth of bits, as the datastore keeps them.
                    values += [False] * (-len(values) % 16)
                dtype = DataType.BITS if bits else DataType.REGISTERS
                return [SimData(0, values=values, datatype=dtype)]

            simdata = (
                block("coil", True),
                block("discrete", True),
                block("holding", False),
                block("input", False),
            )
            devices.append(SimDevice(unit, simdata=simdata))
        return devices

    async def start(self, port: int = 0) -> int:
        server = ModbusTcpServer(self._devices(), address=("127.0.0.1", port or self.port))
        await server.serve_forever(background=True)
        self._server = server
        self.port = server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self.port

    async def set(self, unit: int, area: str, address: int, values: list[Any]) -> None:
        assert self._server is not None
        await self._server.context.async_setValues(unit, _FC[area], address, values)

    def drop_connections(self) -> int:
        assert self._server is not None
        conns = list(self._server.active_connections.values())
        for c in conns:
            c.close()
        return len(conns)

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            self.drop_connections_of(server)
            await server.shutdown()

    @staticmethod
    def drop_connections_of(server: ModbusTcpServer) -> None:
        for c in list(server.active_connections.values()):
            c.close()

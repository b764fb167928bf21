"""The running simulator: a model, its clock, and the Modbus, OPC UA and admin faces.

Use from tests of other packages::

    async with PlantSimulator(seed=1, speed=60, modbus_port=0, opcua_port=0) as sim:
        sim.modbus_port, sim.opcua_endpoint      # where it listens
        sim.value("influent.flow")               # what both faces show now
        sim.faults.add("exception:plc-liftstation=busy")
        await sim.restart_opcua()

``speed=0`` stops the clock; ``sim.advance(seconds)`` then moves the plant by hand.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from clearwell.errors import ClearwellError
from simulators.address_map import DEFAULT_MAP, PlantMap, check_map, load_map
from simulators.faults import Fault, FaultError, FaultSet, override_value, parse_fault
from simulators.modbus_face import DeviceImage, ModbusFace, build_images, write_point
from simulators.model.base import ProcessModel, Value
from simulators.model.plant import PlantModel
from simulators.opcua_face import OpcuaFace, Published
from simulators.ports import free_port
from simulators.registers import quantize
from sitefile.models import BIT_REGISTERS, Tag

log = logging.getLogger("clearwell.simulators")

DEFAULT_USERS = {"operator": "operator"}
USERS_ENV = "CLEARWELL_SIMULATOR_USERS"


def users_from_env(default: Mapping[str, str] = DEFAULT_USERS) -> dict[str, str]:
    """``CLEARWELL_SIMULATOR_USERS="alice:secret,bob:pw"`` or the demo default operator/operator."""
    raw = os.environ.get(USERS_ENV)
    return parse_users(raw.split(",")) if raw else dict(default)


def parse_users(specs: Iterable[str]) -> dict[str, str]:
    users: dict[str, str] = {}
    for spec in specs:
        name, sep, password = spec.strip().partition(":")
        if not sep or not name or not password:
            raise ClearwellError(f"OPC UA user {spec!r}: expected NAME:PASSWORD")
        users[name] = password
    return users


def default_data_dir() -> Path:
    return Path(os.environ.get("CLEARWELL_DATA_DIR", "var")) / "simulator"


class FaultController:
    """Faults in force on a running simulator; checked against its map."""

    def __init__(self, sim: PlantSimulator) -> None:
        self._sim = sim
        self.active = FaultSet()
        self._frozen: dict[str, Value] = {}

    def add(self, spec: str | Fault) -> Fault:
        """Put a fault in force (``"stall:plc-process=3"``), or perform a one-off action."""
        fault = (
            spec
            if isinstance(spec, Fault)
            else parse_fault(spec, self._sim.device_names, self._sim.tag_names)
        )
        if fault.kind == "out_of_range":
            self._sim.out_of_range_value(fault.target, fault.value or "high")  # checks the tag
        if fault.kind == "override":
            override_value(fault.value or "")
        if fault.is_action:
            self._sim.request_action(fault.kind)
            return fault
        if fault.kind == "freeze":
            self._frozen[fault.target] = self._sim.value(fault.target)
        self.active.add(fault)
        self._sim.schedule_periodic()
        self._sim.republish()
        return fault

    def clear(self, kind: str | None = None, target: str | None = None) -> list[Fault]:
        """Remove the faults matching ``kind``/``target`` (all when both are None)."""
        gone = self.active.remove(kind, target)
        for f in gone:
            if f.kind == "freeze":
                self._frozen.pop(f.target, None)
        self._sim.schedule_periodic()
        self._sim.republish()
        return gone

    # Convenience spellings for tests.
    def exception(self, device: str, code: str = "busy") -> Fault:
        return self.add(f"exception:{device}={code}")

    def stall(self, device: str, seconds: float) -> Fault:
        return self.add(f"stall:{device}={seconds}")

    def freeze(self, tag: str) -> Fault:
        return self.add(f"freeze:{tag}")

    def override(self, tag: str, value: float | bool) -> Fault:
        return self.add(f"override:{tag}={str(value).lower()}")

    def out_of_range(self, tag: str, side: str = "high") -> Fault:
        return self.add(f"out_of_range:{tag}={side}")

    def status(self, tag: str, status: str) -> Fault:
        return self.add(f"status:{tag}={status}")

    def describe(self) -> list[str]:
        return self.active.describe()

    def apply(self, name: str, value: Value) -> Value:
        """The value a tag shows once freeze/override/out-of-range faults are applied."""
        if not len(self.active):
            return value
        if (f := self.active.get("override", name)) is not None:
            return override_value(f.value or "")
        if (f := self.active.get("out_of_range", name)) is not None:
            return self._sim.out_of_range_value(name, f.value or "high")
        if self.active.get("freeze", name) is not None:
            return self._frozen.get(name, value)
        return value


class PlantSimulator:
    """The plant model served over Modbus TCP and OPC UA, with faults on demand."""

    def __init__(
        self,
        *,
        seed: int = 1,
        speed: float = 1.0,
        start: datetime | None = None,
        map_path: str | Path = DEFAULT_MAP,
        plant_map: PlantMap | None = None,
        model: ProcessModel | None = None,
        host: str = "127.0.0.1",
        modbus: bool = True,
        opcua: bool = True,
        modbus_port: int | None = None,
        opcua_port: int | None = None,
        admin_port: int | None = None,
        faults: Iterable[str] = (),
        data_dir: Path | None = None,
        users: Mapping[str, str] | None = None,
        allow_anonymous: bool = True,
        tick_s: float = 0.2,
    ) -> None:
        if speed < 0 or not math.isfinite(speed):
            raise ClearwellError(f"speed must be a number >= 0, got {speed}")
        if plant_map is None:
            plant_map = load_map(map_path)
        if model is None:
            # Far faster than real time, one-second substeps would cost more CPU than a
            # core has; coarser ones keep the clock up (stable up to a minute).
            substep = min(60.0, max(1.0, speed / 1000.0))
            model = PlantModel(
                seed=seed, start=start, timezone=plant_map.site.timezone, max_substep_s=substep
            )
        check_map(plant_map, model.variables.keys())
        self.model = model
        self.plant_map = plant_map
        self.speed = speed
        self.host = host
        self.tick_s = tick_s
        self.device_names = [d.name for d in plant_map.devices]
        self.tag_names = [t.name for t in plant_map.tags]
        self.faults = FaultController(self)
        self._initial_faults = list(faults)
        self._published: dict[str, Published] = {}
        self._last_raw: dict[str, Value] = {}
        self._images: dict[int, DeviceImage] = build_images(plant_map) if modbus else {}
        self._image_by_device = {img.device.name: img for img in self._images.values()}
        self._modbus: ModbusFace | None = None
        self._opcua: OpcuaFace | None = None
        self._admin: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._periodic: dict[str, float] = {}
        self._next_due: dict[str, float] = {}
        self._actions: asyncio.Queue[str] = asyncio.Queue()
        self._wake: asyncio.Future[None] | None = None
        self._want_modbus, self._want_opcua = modbus, opcua
        first_device = plant_map.devices[0] if plant_map.devices else None
        self._modbus_port = (
            modbus_port
            if modbus_port is not None
            else (first_device.port if first_device else 5020)
        )
        self._opcua_port = opcua_port if opcua_port is not None else _map_opcua_port(plant_map)
        self._admin_port = admin_port
        self._data_dir = data_dir or default_data_dir()
        self._users = dict(users) if users is not None else users_from_env()
        self._allow_anonymous = allow_anonymous
        self.admin_port: int | None = None
        self._publish_all()

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> PlantSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        for spec in self._initial_faults:
            self.faults.add(spec)
        self.schedule_periodic()
        try:
            if self._want_modbus:
                self._modbus = ModbusFace(
                    self._images, self.faults.active, self.host, self._modbus_port
                )
                await self._modbus.start()
                units = ", ".join(str(u) for u in self._images)
                log.info(
                    "Modbus TCP listening on %s:%d (unit ids %s)",
                    self.host,
                    self._modbus.port,
                    units,
                )
            if self._want_opcua and self.plant_map.opcua_tags():
                port = self._opcua_port or free_port(self.host)
                self._opcua = OpcuaFace(
                    self.plant_map,
                    self.model.variables,
                    self.host,
                    port,
                    self._data_dir,
                    self._users,
                    self._allow_anonymous,
                )
                await self._opcua.start(self._published)
                log.info(
                    "OPC UA listening on %s (security None, Basic256Sha256 Sign and "
                    "SignAndEncrypt; users: %s%s)",
                    self._opcua.endpoint,
                    ", ".join(sorted(self._users)) or "none",
                    ", anonymous" if self._allow_anonymous else "",
                )
            if self._admin_port is not None:
                from simulators.admin import start_admin

                self._admin = await start_admin(self, self.host, self._admin_port)
                self.admin_port = self._admin.sockets[0].getsockname()[1]
                log.info("admin API on http://%s:%d/", self.host, self.admin_port)
        except BaseException:
            await self.stop()
            raise
        self._tasks.append(asyncio.create_task(self._clock(), name="simulator-clock"))
        self._tasks.append(asyncio.create_task(self._run_actions(), name="simulator-actions"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._admin is not None:
            self._admin.close()
            await self._admin.wait_closed()
            self._admin = None
        if self._modbus is not None:
            await self._modbus.stop()
            self._modbus = None
        if self._opcua is not None:
            await self._opcua.stop()
            self._opcua = None

    async def run_forever(self) -> None:
        async with self:
            await asyncio.Event().wait()

    # -- where it listens -------------------------------------------------------------

    @property
    def modbus_port(self) -> int | None:
        return self._modbus.port if self._modbus else None

    @property
    def opcua_port(self) -> int | None:
        return self._opcua.port if self._opcua else None

    @property
    def opcua_endpoint(self) -> str | None:
        return self._opcua.endpoint if self._opcua else None

    @property
    def modbus_connections(self) -> int:
        return self._modbus.connection_count if self._modbus else 0

    # -- values -------------------------------------------------------------------------

    @property
    def time(self) -> datetime:
        """The plant clock (model time)."""
        return self.model.time

    def value(self, tag: str) -> Value:
        """What both faces show for ``tag`` now (after faults and Modbus resolution)."""
        return self._published[tag].value

    def published(self, tag: str) -> Published:
        return self._published[tag]

    def snapshot(self) -> dict[str, Published]:
        return dict(self._published)

    def model_value(self, tag: str) -> Value:
        """The model's own value, before faults and register encoding."""
        return self.model.values()[tag]

    def advance(self, seconds: float) -> None:
        """Move the plant clock by ``seconds`` now (for tests with ``speed=0``)."""
        self.model.step(seconds)
        self.republish()

    def out_of_range_value(self, tag: str, side: str) -> float:
        var = self.model.variables.get(tag)
        t = self.plant_map.tag(tag)
        if var is None or var.kind not in ("analog", "counter"):
            raise FaultError(f"out_of_range:{tag}: only analog tags have a range to leave")
        lo, hi = t.eng_range or (var.lo, var.hi)
        span = hi - lo
        return hi + 0.25 * span if side == "high" else lo - 0.25 * span

    def republish(self) -> None:
        """Recompute what the faces show now; OPC UA follows within one tick."""
        self._publish_all()
        if self._wake is not None:
            _resolve(self._wake)

    async def sync(self) -> None:
        """Recompute and write to OPC UA before returning (tests use it after a fault)."""
        self._publish_all()
        if self._opcua is not None:
            await self._opcua.publish(self._published)

    def _publish_all(self) -> None:
        values = self.model.values()
        when = self.model.time
        statuses = self.faults.active
        last_raw = self._last_raw
        for tag in self.plant_map.tags:
            name = tag.name
            value = self.faults.apply(name, values[name])
            status = statuses.status_for(name) if len(statuses) else 0
            old = self._published.get(name)
            # Most values of a large plant are unchanged between ticks: skip encoding them.
            if old is not None and old.status == status and last_raw.get(name) == value:
                continue
            last_raw[name] = value
            shown = self._to_registers(tag, value)
            if old is not None and old.value == shown and old.status == status:
                continue
            self._published[name] = Published(shown, status, when)

    def _to_registers(self, tag: Tag, value: Value) -> Value:
        if tag.modbus is None:
            return value
        image = self._image_by_device.get(tag.modbus.device)
        if image is None:  # Modbus face off: still show the value a register would hold
            p = tag.modbus
            if p.kind in BIT_REGISTERS:
                return bool(value)
            return quantize(value, p.type, p.word_order, p.scale, p.offset, p.length)
        return write_point(image, tag, value)

    # -- clock and actions ------------------------------------------------------------

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            # A bare future rather than wait_for(event.wait()): on Python 3.11
            # wait_for can swallow a cancel that races with the event, and
            # stop() would then wait for this loop forever.
            self._wake = loop.create_future()
            timer = loop.call_later(self.tick_s, _resolve, self._wake)
            try:
                await self._wake
            finally:
                timer.cancel()
            now = loop.time()
            elapsed, last = now - last, now
            if self.speed > 0:
                self.model.step(elapsed * self.speed)
            self._publish_all()
            if self._opcua is not None:
                await self._opcua.publish(self._published)
            for kind, every in self._periodic.items():
                if now >= self._next_due.get(kind, now + every):
                    self._next_due[kind] = now + every
                    self.request_action(kind)

    def schedule_periodic(self) -> None:
        periodic = {
            f.kind: float(f.value)
            for f in self.faults.active
            if f.kind in ("drop", "restart") and f.value
        }
        try:
            now = asyncio.get_running_loop().time()
        except RuntimeError:  # faults given before the simulator runs; start() comes back here
            now = 0.0
            periodic = {}
        for kind, every in periodic.items():
            if self._periodic.get(kind) != every:
                self._next_due[kind] = now + every
        self._periodic = periodic

    def request_action(self, kind: str) -> None:
        self._actions.put_nowait(kind)

    async def _run_actions(self) -> None:
        while True:
            kind = await self._actions.get()
            try:
                if kind == "drop":
                    self.drop_modbus_connections()
                elif kind == "restart":
                    await self.restart_opcua()
            except Exception:
                log.exception("fault action %s failed", kind)

    def drop_modbus_connections(self) -> int:
        """Close every Modbus client connection now; returns how many were open."""
        n = self._modbus.drop_connections() if self._modbus else 0
        log.info("fault: dropped %d Modbus connection(s)", n)
        return n

    async def restart_opcua(self) -> None:
        """Stop and restart the OPC UA server on the same port."""
        if self._opcua is None:
            return
        log.info("fault: restarting the OPC UA server")
        self._publish_all()
        await self._opcua.restart(self._published)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _map_opcua_port(plant_map: PlantMap) -> int:
    from urllib.parse import urlparse

    for server in plant_map.servers:
        port = urlparse(server.endpoint).port
        if port:
            return port
    return 4840


def utc_now_seconds() -> datetime:
    """Wall-clock start for the command line (whole seconds, UTC)."""
    return datetime.now(UTC).replace(microsecond=0)

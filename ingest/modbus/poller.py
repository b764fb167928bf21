"""One Modbus TCP device, polled by its own asyncio task on its own schedule.

The link is the unit of failure: a request that gets no answer within the
device's timeout is resent ``retries`` times (by pymodbus, on the same
connection), and then the link is declared lost, the connection closed, and
reconnection attempted with capped exponential backoff (0.5 s doubling to 30 s).
Losing the link is logged once and stored once: every tag of the device gets a
reading with no value and ``BadCommunicationError`` at the time of the first
request that went unanswered (or the time the socket closed); nothing more is
written for the device until it answers again. A Modbus exception answer
(illegal address, device busy) leaves the link up and marks only the tags of
that request ``BadDeviceFailure``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from ingest.events import EventChange
from ingest.link import EventSink, Link, LinkHealth, RowSink, backoff_delays
from ingest.modbus.decode import Decoder, decoder_for, engineering, registers_to_bytes
from ingest.modbus.plan import ReadRequest
from ingest.readings import Row
from ingest.status_codes import BAD_COMMUNICATION_ERROR, BAD_DEVICE_FAILURE, GOOD
from ingest.tagstate import TagState
from sitefile.models import BIT_REGISTERS, ModbusDevice

log = logging.getLogger(__name__)

# Recent poll-cycle durations kept for the status page's percentiles.
CYCLE_WINDOW = 300


@dataclass
class DeviceHealth(LinkHealth):
    links_lost: int = 0
    timeouts: int = 0
    exception_answers: int = 0
    cycles: int = 0
    overruns: int = 0
    cycle_ms: list[float] = field(default_factory=list)

    def errors(self) -> dict[str, int]:
        return {
            "links_lost": self.links_lost,
            "timeouts": self.timeouts,
            "exception_answers": self.exception_answers,
            "overruns": self.overruns,
        }

    def details(self) -> dict[str, Any]:
        recent = sorted(self.cycle_ms)

        def pct(p: float) -> float | None:
            return round(recent[min(len(recent) - 1, int(p * len(recent)))], 2) if recent else None

        return {"cycles": self.cycles, "cycle_ms_p50": pct(0.5), "cycle_ms_p99": pct(0.99)}


class _Slot(NamedTuple):
    """A tag in a request's answer: where it is, and how its registers become its value."""

    state: TagState
    place: int  # registers (or bits) from the request's first address
    decode: Decoder
    scale: float
    offset: float

    @classmethod
    def of(cls, state: TagState, place: int) -> _Slot:
        m = state.tag.modbus
        assert m is not None
        return cls(state, place, decoder_for(m.type, m.word_order, m.length), m.scale, m.offset)


class ModbusPoller:
    def __init__(
        self,
        device: ModbusDevice,
        requests: Sequence[ReadRequest],
        tags: dict[str, TagState],
        site_id: int,
        submit_rows: RowSink,
        submit_events: EventSink,
        phase_s: float = 0.0,
    ) -> None:
        self.device = device
        # Where in the poll interval this device's cycles start. Devices sharing a
        # gateway (or a simulator) are spread over the interval rather than all asking
        # at the same instant.
        self.phase_s = phase_s
        # Each request with its tags, where each is in the answer and how it decodes.
        self._work = [
            (req, [_Slot.of(tags[s.tag], s.offset) for s in req.slots if s.tag in tags])
            for req in requests
        ]
        self._tags = [slot.state for _, slots in self._work for slot in slots]
        self.health = DeviceHealth(device.name, f"{device.host}:{device.port}")
        self.link = Link(
            self.health,
            site_id,
            f"modbus:{device.name}",
            f"Modbus device {device.name}",
            submit_rows,
            submit_events,
            self._mark_bad,
            log,
        )
        self._client: AsyncModbusTcpClient | None = None
        self._closed_at: float | None = None
        # Requests currently answered with an exception, so each is logged once.
        self._excepting: set[int] = set()
        self._answers = 0

    async def run(self) -> None:
        delays = backoff_delays()
        try:
            while True:
                # The backoff starts over only once the device has answered: one that
                # accepts connections and then stalls is backed off like one that refuses.
                try:
                    if await self._connect() and await self._poll_until_lost():
                        delays = backoff_delays()
                except Exception as exc:
                    # A bug here or in pymodbus must not end this device's collection
                    # silently: log it, count the link as lost, and start over.
                    log.exception("modbus device %s: unexpected error", self.device.name)
                    self._lost(time.time(), f"unexpected error: {exc!r}")
                await asyncio.sleep(next(delays))
        finally:
            self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _on_connect_change(self, connected: bool) -> None:
        if not connected and self._closed_at is None:
            self._closed_at = time.time()

    async def _connect(self) -> bool:
        d = self.device
        self._close()
        self._closed_at = None
        # pymodbus's own reconnection is off (reconnect_delay=0): this task owns the
        # schedule, so that a lost link is noticed, stored and backed off in one place.
        client = AsyncModbusTcpClient(
            d.host,
            port=d.port,
            name=d.name,
            timeout=d.timeout_s,
            retries=d.retries,
            reconnect_delay=0,
            trace_connect=self._on_connect_change,
        )
        client.set_max_no_responses(1_000_000)
        self._client = client
        attempt = time.time()
        try:
            ok = await client.connect()
        except (OSError, ModbusException) as exc:  # pragma: no cover - pymodbus catches these
            ok, self.health.last_error = False, str(exc)
        if not ok:
            self.health.connect_failures += 1
            self._lost(attempt, f"cannot connect to {d.host}:{d.port}")
            self._close()
            return False
        self.health.connects += 1
        self._closed_at = None
        if d.delay_after_connect_s:
            await asyncio.sleep(d.delay_after_connect_s)
        return True

    def _lost(self, when: float, why: str) -> None:
        """The link is down: report it, once."""
        was_up = self.health.state == "up"
        if self.link.down(when, why) and was_up:
            self.health.links_lost += 1

    def _mark_bad(
        self, when: float, at: datetime, rows: list[Row], events: list[EventChange]
    ) -> None:
        for st in self._tags:
            st.observe(None, BAD_COMMUNICATION_ERROR, when, at, rows, events)

    async def _poll_until_lost(self) -> bool:
        """Poll on schedule until the link is lost; whether any request was answered."""
        d = self.device
        answers_before = self._answers
        period = d.poll_interval_s
        next_due = time.monotonic() + self.phase_s
        if self.phase_s:
            await asyncio.sleep(self.phase_s)
        while True:
            started = time.monotonic()
            rows: list[Row] = []
            events: list[EventChange] = []
            ok = await self._poll_once(rows, events)
            self.link.submit(rows, events)
            if not ok:
                return self._answers > answers_before
            h = self.health
            h.cycles += 1
            h.cycle_ms.append((time.monotonic() - started) * 1000)
            if len(h.cycle_ms) > CYCLE_WINDOW:
                del h.cycle_ms[: len(h.cycle_ms) - CYCLE_WINDOW]
            next_due += period
            now = time.monotonic()
            if next_due < now:
                # Overran: skip the missed polls rather than bunching them up.
                h.overruns += 1
                next_due = now + period - ((now - next_due) % period)
            await asyncio.sleep(next_due - now)

    async def _poll_once(self, rows: list[Row], events: list[EventChange]) -> bool:
        client = self._client
        d = self.device
        for i, (req, slots) in enumerate(self._work):
            if client is None or not client.connected:
                self._lost(self._closed_at or time.time(), "the device closed the connection")
                return False
            sent = time.time()
            try:
                resp = await self._read(client, req)
            except (ModbusException, OSError, TimeoutError) as exc:
                self.health.timeouts += 1
                closed = self._closed_at
                why = "connection closed" if closed else f"no answer within {d.timeout_s} s"
                self._lost(min(sent, closed) if closed else sent, f"{why} ({exc})")
                return False
            got = time.time()
            self._answers += 1
            self.link.up(got)
            at = datetime.fromtimestamp(got, UTC)
            if resp.isError():
                self.health.exception_answers += 1
                if i not in self._excepting:
                    self._excepting.add(i)
                    log.warning(
                        "modbus device %s answered %s %d+%d with exception code %s",
                        d.name,
                        req.kind,
                        req.address,
                        req.count,
                        getattr(resp, "exception_code", "?"),
                    )
                for st, *_ in slots:
                    st.observe(None, BAD_DEVICE_FAILURE, got, at, rows, events)
            else:
                self._excepting.discard(i)
                self.health.last_good_read = got
                if req.kind in BIT_REGISTERS:
                    bits = resp.bits
                    for st, place, *_ in slots:
                        st.observe(1.0 if bits[place] else 0.0, GOOD, got, at, rows, events)
                else:
                    buf = registers_to_bytes(resp.registers)
                    for st, place, decode, scale, offset in slots:
                        value, status = engineering(decode(buf, 2 * place), scale, offset)
                        st.observe(value, status, got, at, rows, events)
            if d.pause_between_requests_s:
                await asyncio.sleep(d.pause_between_requests_s)
        return True

    async def _read(self, client: AsyncModbusTcpClient, req: ReadRequest) -> Any:
        unit = self.device.unit_id
        if req.kind == "holding":
            return await client.read_holding_registers(req.address, count=req.count, device_id=unit)
        if req.kind == "input":
            return await client.read_input_registers(req.address, count=req.count, device_id=unit)
        if req.kind == "coil":
            return await client.read_coils(req.address, count=req.count, device_id=unit)
        return await client.read_discrete_inputs(req.address, count=req.count, device_id=unit)

    @property
    def tag_states(self) -> list[TagState]:
        return self._tags

"""One Modbus TCP device, polled by its own asyncio task on its own schedule.

The link is the unit of failure: a request that gets no answer within the
device's timeout is resent ``retries`` times (by pymodbus, on the same
connection), and then the link is declared lost, the connection closed, and
reconnection attempted with capped exponential backoff (0.5 s doubling to 30 s).
Losing the link is logged once and stored once: every tag of the device gets a
reading with no value and ``BadCommunicationError`` at the time of the first
request that went unanswered (or the time the socket closed); nothing more is
written for the device until it answers again.

A Modbus exception answer leaves the link up (:mod:`ingest.modbus.exceptions`).
One that may pass (busy, device failure) marks the tags of that request
``BadDeviceFailure``, and the request is asked again at the next poll. A refusal
(illegal data address, data value or function) is narrowed down in the same poll:
the request is split in halves (:func:`~ingest.modbus.plan.halves`), each half
read alone and split again while it is refused, so the tags the device answers
for are read (in that poll already) and the ones it refuses are found. Those are
stored ``BadConfigurationError`` once, named in the log and the health, left out
of the merged requests from then on, and read alone every
``bad_address_retry_s``; when one answers it is merged with its neighbours again.
Addresses between tags that the device refuses, or a boundary it will not read
across, are planned around for the rest of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from ingest.events import EventChange
from ingest.link import EventSink, Link, LinkHealth, RowSink, backoff_delays, epoch_iso
from ingest.lognoise import lower_expected_noise
from ingest.modbus.decode import Decoder, decoder_for, engineering, registers_to_bytes
from ingest.modbus.exceptions import ILLEGAL_FUNCTION, REFUSALS, code_of, describe, status_for
from ingest.modbus.plan import ReadRequest, Span, between, covering, halves, plan_device
from ingest.readings import Row
from ingest.status_codes import BAD_COMMUNICATION_ERROR, GOOD
from ingest.tagstate import TagState
from sitefile.models import BIT_REGISTERS, ModbusDevice

log = logging.getLogger(__name__)

# Recent poll-cycle durations kept for the status page's percentiles.
CYCLE_WINDOW = 300
# Refusals named in one log line; the health lists them all.
_SHOWN = 5


@dataclass
class Refusal:
    """What the device refuses to read: a span of addresses, with the tags in it."""

    span: Span
    code: int
    tags: tuple[str, ...]
    since: float
    # When it is read again to see whether the device answers now; None: never (what
    # lies between tags is planned around for the rest of the run).
    retry_at: float | None

    def text(self) -> str:
        if self.tags:
            names = ", ".join(repr(t) for t in self.tags)
            return f"tag {names} ({self.span.text()}): {describe(self.code)}"
        if self.span.start == self.span.end:
            return f"reading across {self.span.text()}: {describe(self.code)}"
        return f"reading over {self.span.text()} (no tag there): {describe(self.code)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tags": list(self.tags),
            "register": self.span.kind,
            "address": self.span.start,
            "count": self.span.end - self.span.start,
            "error": describe(self.code),
            "since": epoch_iso(self.since),
            "next_retry": epoch_iso(self.retry_at),
        }


@dataclass
class DeviceHealth(LinkHealth):
    links_lost: int = 0
    timeouts: int = 0
    exception_answers: int = 0
    cycles: int = 0
    overruns: int = 0
    cycle_ms: list[float] = field(default_factory=list)
    refusals: dict[Span, Refusal] = field(default_factory=dict)

    def errors(self) -> dict[str, int]:
        return {
            "links_lost": self.links_lost,
            "timeouts": self.timeouts,
            "exception_answers": self.exception_answers,
            "overruns": self.overruns,
            "refused_tags": sum(len(r.tags) for r in self.refusals.values()),
        }

    def details(self) -> dict[str, Any]:
        recent = sorted(self.cycle_ms)

        def pct(p: float) -> float | None:
            return round(recent[min(len(recent) - 1, int(p * len(recent)))], 2) if recent else None

        return {
            "cycles": self.cycles,
            "cycle_ms_p50": pct(0.5),
            "cycle_ms_p99": pct(0.99),
            "refused": [r.as_dict() for r in sorted(self.refusals.values(), key=lambda r: r.span)],
        }

    def failing(self) -> list[str]:
        return [r.text() for r in sorted(self.refusals.values(), key=lambda r: r.span) if r.tags]


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
        lower_expected_noise()
        self.device = device
        # Where in the poll interval this device's cycles start. Devices sharing a
        # gateway (or a simulator) are spread over the interval rather than all asking
        # at the same instant.
        self.phase_s = phase_s
        self._states = tags
        # Each request with its tags, where each is in the answer and how it decodes.
        self._work = [(req, self._bind(req)) for req in requests]
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
        # Requests currently answered with an exception that may pass, so each is logged once.
        self._excepting: set[Span] = set()
        self._answers = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the poll in flight, then end :meth:`run` (rather than a cancellation,
        which would lose that poll's readings)."""
        self._stopping.set()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, unless asked to stop; whether to go on."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max(seconds, 0.0))
        return not self._stopping.is_set()

    async def run(self) -> None:
        delays = backoff_delays()
        try:
            while not self._stopping.is_set():
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
                if not await self._sleep(next(delays)):
                    break
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
        """Poll on schedule until the link is lost or a stop is asked; whether any
        request was answered."""
        d = self.device
        answers_before = self._answers
        period = d.poll_interval_s
        next_due = time.monotonic() + self.phase_s
        if self.phase_s and not await self._sleep(self.phase_s):
            return True
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
            if not await self._sleep(next_due - now):
                return True

    async def _poll_once(self, rows: list[Row], events: list[EventChange]) -> bool:
        """One poll of every request; False if the link was lost."""
        found: list[Refusal] = []
        for req, slots in self._work:
            answer = await self._ask(req)
            if answer is None:
                return False
            resp, got = answer
            if not resp.isError():
                self._excepting.discard(req.span)
                self._take(req, slots, resp, got, rows, events)
            elif (code := code_of(resp)) in REFUSALS:
                self.health.exception_answers += 1
                if not await self._narrow(req, code, got, found, rows, events):
                    return False
            else:
                self._exception(req, slots, code, got, rows, events)
            await self._pause()
        if found:
            self._refuse(found)
        return await self._retry_refused(rows, events)

    async def _ask(self, req: ReadRequest) -> tuple[Any, float] | None:
        """Send one request: its answer and when it arrived, or None if the link is lost."""
        client = self._client
        if client is None or not client.connected:
            self._lost(self._closed_at or time.time(), "the device closed the connection")
            return None
        sent = time.time()
        try:
            resp = await self._read(client, req)
        except (ModbusException, OSError, TimeoutError) as exc:
            self.health.timeouts += 1
            closed = self._closed_at
            why = "connection closed" if closed else f"no answer within {self.device.timeout_s} s"
            self._lost(min(sent, closed) if closed else sent, f"{why} ({exc})")
            return None
        got = time.time()
        self._answers += 1
        self.link.up(got)
        return resp, got

    async def _pause(self) -> None:
        if self.device.pause_between_requests_s:
            await asyncio.sleep(self.device.pause_between_requests_s)

    def _bind(self, req: ReadRequest) -> list[_Slot]:
        return [_Slot.of(self._states[s.tag], s.offset) for s in req.slots if s.tag in self._states]

    def _take(
        self,
        req: ReadRequest,
        slots: list[_Slot],
        resp: Any,
        got: float,
        rows: list[Row],
        events: list[EventChange],
    ) -> None:
        """Store the values of a request's answer."""
        self.health.last_good_read = got
        at = datetime.fromtimestamp(got, UTC)
        if req.kind in BIT_REGISTERS:
            bits = resp.bits
            for st, place, *_ in slots:
                st.observe(1.0 if bits[place] else 0.0, GOOD, got, at, rows, events)
        else:
            buf = registers_to_bytes(resp.registers)
            for st, place, decode, scale, offset in slots:
                value, status = engineering(decode(buf, 2 * place), scale, offset)
                st.observe(value, status, got, at, rows, events)

    def _mark(
        self,
        slots: list[_Slot],
        code: int,
        got: float,
        rows: list[Row],
        events: list[EventChange],
    ) -> None:
        at = datetime.fromtimestamp(got, UTC)
        status = status_for(code)
        for st, *_ in slots:
            st.observe(None, status, got, at, rows, events)

    def _exception(
        self,
        req: ReadRequest,
        slots: list[_Slot],
        code: int,
        got: float,
        rows: list[Row],
        events: list[EventChange],
    ) -> None:
        """An exception that may pass: the request's tags are Bad until it is answered."""
        self.health.exception_answers += 1
        self.health.last_error = f"{req.kind} {req.address}+{req.count}: {describe(code)}"
        if req.span not in self._excepting:
            self._excepting.add(req.span)
            log.warning(
                "Modbus device %s answered %s %d+%d with %s: its %d tags stored as"
                " BadDeviceFailure until it answers (asked again every poll)",
                self.device.name,
                req.kind,
                req.address,
                req.count,
                describe(code),
                len(slots),
            )
        self._mark(slots, code, got, rows, events)

    async def _narrow(
        self,
        req: ReadRequest,
        code: int,
        got: float,
        found: list[Refusal],
        rows: list[Row],
        events: list[EventChange],
    ) -> bool:
        """Find what the device refuses in a refused request, reading the rest; appends
        the refusals to ``found``. False if the link was lost meanwhile."""
        retry_at = got + self.device.bad_address_retry_s
        if code == ILLEGAL_FUNCTION or len(req.slots) == 1:
            # The tag itself (or, for a function the device lacks, every tag of the request).
            found.append(Refusal(req.span, code, tuple(s.tag for s in req.slots), got, retry_at))
            self._mark(self._bind(req), code, got, rows, events)
            return True
        left, right = halves(req)
        blamed = False
        for part in (left, right):
            await self._pause()
            answer = await self._ask(part)
            if answer is None:
                return False
            resp, t = answer
            slots = self._bind(part)
            if not resp.isError():
                self._take(part, slots, resp, t, rows, events)
            elif (c := code_of(resp)) in REFUSALS:
                blamed = True
                if not await self._narrow(part, c, t, found, rows, events):
                    return False
            else:
                blamed = True  # busy meanwhile: nothing learnt, asked again next poll
                self._exception(part, slots, c, t, rows, events)
        if not blamed:
            # Each half is answered alone: the device refuses what lies between them.
            found.append(Refusal(between(left, right), code, (), got, None))
        return True

    def _replan(self) -> None:
        tags = [st.tag for st in self._tags]
        refused = self.health.refusals.keys()
        self._work = [(r, self._bind(r)) for r in plan_device(self.device, tags, refused)]

    def _refuse(self, found: list[Refusal]) -> None:
        """Plan around what the device refuses, and say so once."""
        for r in found:
            self.health.refusals[r.span] = r
        self._replan()
        texts = [r.text() for r in found]
        more = f"; and {len(texts) - _SHOWN} more" if len(texts) > _SHOWN else ""
        if any(r.tags for r in found):
            every = self.device.bad_address_retry_s
            then = (
                "the other tags are read without them; the refused ones are stored as"
                f" BadConfigurationError and tried alone every {every:g} s"
            )
        else:
            then = "requests no longer read there"
        log.warning(
            "Modbus device %s refuses %s%s: %s",
            self.device.name,
            "; ".join(texts[:_SHOWN]),
            more,
            then,
        )

    async def _retry_refused(self, rows: list[Row], events: list[EventChange]) -> bool:
        """Read the refused tags that are due, alone; merge those that answer again."""
        now = time.time()
        due = [r for r in self.health.refusals.values() if r.retry_at and r.retry_at <= now]
        if not due:
            return True
        back: list[Refusal] = []
        tags = [st.tag for st in self._tags]
        for r in due:
            req = covering(r.span, tags)
            answer = await self._ask(req)
            if answer is None:
                return False
            resp, got = answer
            slots = self._bind(req)
            if resp.isError():
                r.retry_at = got + self.device.bad_address_retry_s
                # Stored again only if a loss of the link marked them otherwise meanwhile.
                self._mark(slots, code_of(resp), got, rows, events)
            else:
                del self.health.refusals[r.span]
                self._take(req, slots, resp, got, rows, events)
                back.append(r)
            await self._pause()
        if back:
            self._replan()
            log.warning(
                "Modbus device %s answers again for %s: read with the other tags again",
                self.device.name,
                "; ".join(f"tag {', '.join(map(repr, r.tags))} ({r.span.text()})" for r in back),
            )
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

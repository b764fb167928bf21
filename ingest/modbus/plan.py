"""Request planning: which reads cover a device's tags in as few requests as its limits allow.

Tags of one device and one register kind are sorted by address and coalesced
greedily: the next tag joins the current request when the request would stay
within the device's maximum (``max_registers_per_request``, at most 125, or
``max_bits_per_request``, at most 2000, for coils and discrete inputs) and the
unused gap before it is at most ``gap_fill`` registers (``gap_fill * 16`` bits
for coils and discrete inputs). Reading a few unused registers costs far less
than another round trip, but a gap can hold addresses the device refuses, so
the threshold is configurable per device (0 reads only strictly contiguous runs:
tags that follow each other with no address between them).

What a device turned out to refuse is planned around (``avoid``): a tag at an
address the device refuses is left out of the merged requests (the poller reads it
alone, rarely), and no request reads over a refused span or across a boundary the
device will not read across. :func:`halves` and :func:`between` are how the poller
narrows a refused request down to what the device refuses.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sitefile.models import BIT_REGISTERS, ModbusDevice, Tag

# Order requests are issued in within one poll cycle.
KIND_ORDER = ("coil", "discrete", "input", "holding")


@dataclass(frozen=True, order=True)
class Span:
    """Addresses ``start`` to ``end - 1`` of one register kind that the device refuses
    to read. An empty span (``start == end``) is a boundary: the device reads the
    addresses on either side of ``start``, but not both in one request."""

    kind: str
    start: int
    end: int

    def text(self) -> str:
        if self.start == self.end:
            return f"{self.kind} {self.start - 1}-{self.start} (across {self.start})"
        last = self.end - 1
        return f"{self.kind} {self.start}" + (f"-{last}" if last > self.start else "")

    def covers(self, start: int, end: int) -> bool:
        """Whether reading ``start`` to ``end - 1`` touches this span (or crosses it)."""
        if self.start == self.end:
            return start < self.start < end
        return start < self.end and self.start < end


@dataclass(frozen=True)
class Slot:
    """One tag's place inside a request's response."""

    tag: str
    offset: int  # registers (or bits) from the request's first address
    count: int


@dataclass(frozen=True)
class ReadRequest:
    kind: str
    address: int
    count: int
    slots: tuple[Slot, ...]

    @property
    def end(self) -> int:
        return self.address + self.count

    @property
    def span(self) -> Span:
        return Span(self.kind, self.address, self.end)

    def as_dict(self) -> dict[str, object]:
        return {
            "register": self.kind,
            "address": self.address,
            "count": self.count,
            "tags": [[s.tag, s.offset, s.count] for s in self.slots],
        }


def plan_device(
    device: ModbusDevice, tags: list[Tag], avoid: Collection[Span] = ()
) -> list[ReadRequest]:
    """The requests that read every tag of ``device``, in issue order.

    ``tags`` must be validated (no overlaps, each tag fits one request). Tags inside a
    span of ``avoid`` are left out, and no request touches or crosses one.
    """
    requests: list[ReadRequest] = []
    for kind in KIND_ORDER:
        refused = [s for s in avoid if s.kind == kind]
        located = sorted(
            (t.modbus.address, t.modbus.count, t.name)
            for t in tags
            if t.modbus is not None
            and t.modbus.device == device.name
            and t.modbus.kind == kind
            and not any(
                s.start < s.end and s.covers(t.modbus.address, t.modbus.end) for s in refused
            )
        )
        if not located:
            continue
        bits = kind in BIT_REGISTERS
        limit = device.max_bits_per_request if bits else device.max_registers_per_request
        gap = device.gap_fill * 16 if bits else device.gap_fill
        requests += _coalesce(kind, located, limit, gap, refused)
    return requests


def covering(span: Span, tags: list[Tag]) -> ReadRequest:
    """The request that reads ``span`` and the tags inside it (a refused span, retried)."""
    start, end = span.start, span.end
    slots = [
        Slot(t.name, t.modbus.address - start, t.modbus.count)
        for t in tags
        if t.modbus is not None
        and t.modbus.kind == span.kind
        and start <= t.modbus.address
        and t.modbus.end <= end
    ]
    return ReadRequest(span.kind, start, end - start, tuple(sorted(slots, key=lambda s: s.offset)))


def halves(request: ReadRequest) -> tuple[ReadRequest, ReadRequest]:
    """A request of two tags or more as two, each reading its half of the tags and only
    the addresses from its first tag to its last."""
    slots = request.slots
    if len(slots) < 2:
        raise ValueError("a request of one tag has no halves")
    mid = len(slots) // 2
    return _sub(request, slots[:mid]), _sub(request, slots[mid:])


def between(left: ReadRequest, right: ReadRequest) -> Span:
    """What lies between two halves of a request: the addresses neither reads, or, when
    they touch, the boundary between them."""
    return Span(left.kind, left.end, right.address)


def _sub(request: ReadRequest, slots: tuple[Slot, ...]) -> ReadRequest:
    first = slots[0].offset
    end = max(s.offset + s.count for s in slots)
    return ReadRequest(
        request.kind,
        request.address + first,
        end - first,
        tuple(Slot(s.tag, s.offset - first, s.count) for s in slots),
    )


def _coalesce(
    kind: str, located: list[tuple[int, int, str]], limit: int, gap: int, refused: list[Span]
) -> list[ReadRequest]:
    out: list[ReadRequest] = []
    start = end = -1
    members: list[tuple[int, int, str]] = []

    def close() -> None:
        if members:
            slots = tuple(Slot(name, addr - start, count) for addr, count, name in members)
            out.append(ReadRequest(kind, start, end - start, slots))

    for addr, count, name in located:
        fits = (
            members
            and addr - end <= gap
            and addr + count - start <= limit
            and not any(s.covers(start, max(end, addr + count)) for s in refused)
        )
        if not fits:
            close()
            members = []
            start, end = addr, addr
        members.append((addr, count, name))
        end = max(end, addr + count)
    close()
    return out

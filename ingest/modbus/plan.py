"""Request planning: which reads cover a device's tags in as few requests as its limits allow.

Tags of one device and one register kind are sorted by address and coalesced
greedily: the next tag joins the current request when the request would stay
within the device's maximum (``max_registers_per_request``, at most 125, or
``max_bits_per_request``, at most 2000, for coils and discrete inputs) and the
unused gap before it is at most ``gap_fill`` registers (``gap_fill * 16`` bits
for coils and discrete inputs). Reading a few unused registers costs far less
than another round trip, but a gap can hold addresses the device refuses, so
the threshold is configurable per device (0 reads only strictly contiguous runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from sitefile.models import BIT_REGISTERS, ModbusDevice, Tag

# Order requests are issued in within one poll cycle.
KIND_ORDER = ("coil", "discrete", "input", "holding")


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

    def as_dict(self) -> dict[str, object]:
        return {
            "register": self.kind,
            "address": self.address,
            "count": self.count,
            "tags": [[s.tag, s.offset, s.count] for s in self.slots],
        }


def plan_device(device: ModbusDevice, tags: list[Tag]) -> list[ReadRequest]:
    """The requests that read every tag of ``device``, in issue order.

    ``tags`` must be validated (no overlaps, each tag fits one request).
    """
    requests: list[ReadRequest] = []
    for kind in KIND_ORDER:
        located = sorted(
            (t.modbus.address, t.modbus.count, t.name)
            for t in tags
            if t.modbus is not None and t.modbus.device == device.name and t.modbus.kind == kind
        )
        if not located:
            continue
        bits = kind in BIT_REGISTERS
        limit = device.max_bits_per_request if bits else device.max_registers_per_request
        gap = device.gap_fill * 16 if bits else device.gap_fill
        requests += _coalesce(kind, located, limit, gap)
    return requests


def _coalesce(
    kind: str, located: list[tuple[int, int, str]], limit: int, gap: int
) -> list[ReadRequest]:
    out: list[ReadRequest] = []
    start = end = -1
    members: list[tuple[int, int, str]] = []

    def close() -> None:
        if members:
            slots = tuple(Slot(name, addr - start, count) for addr, count, name in members)
            out.append(ReadRequest(kind, start, end - start, slots))

    for addr, count, name in located:
        fits = members and addr - end <= gap and addr + count - start <= limit
        if not fits:
            close()
            members = []
            start, end = addr, addr
        members.append((addr, count, name))
        end = max(end, addr + count)
    close()
    return out

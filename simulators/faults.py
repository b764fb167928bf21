"""Fault specifications and the set of faults in force; pure, no I/O.

A fault is written ``kind:target[=value]`` on the command line, in the admin
call and in tests:

==========================  =====================================================
``exception:DEVICE=CODE``   Modbus requests to DEVICE answer exception CODE
                            (``illegal_address``, ``busy``, ``device_failure``,
                            ``gateway_no_response``, … or a number)
``stall:DEVICE=SECONDS``    Modbus answers from DEVICE (``*`` = all) come late
``freeze:TAG``              TAG keeps the value it had when frozen
``override:TAG=VALUE``      TAG reads VALUE (``true``/``false`` for booleans)
``out_of_range:TAG[=low]``  TAG reads a quarter span above (or below) its range
``status:TAG=STATUS``       TAG's OPC UA status: ``bad``, ``uncertain``, ``good``
                            or a status code name such as ``BadSensorFailure``
``drop:modbus[=SECONDS]``   close every Modbus connection now (or every SECONDS)
``restart:opcua[=SECONDS]`` restart the OPC UA server now (or every SECONDS)
==========================  =====================================================
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from clearwell.errors import ClearwellError

EXCEPTION_CODES: dict[str, int] = {
    "illegal_function": 1,
    "illegal_address": 2,
    "illegal_value": 3,
    "device_failure": 4,
    "acknowledge": 5,
    "busy": 6,
    "device_busy": 6,
    "gateway_path_unavailable": 10,
    "gateway_no_response": 11,
}

KINDS = ("exception", "stall", "freeze", "override", "out_of_range", "status", "drop", "restart")
ACTIONS = ("drop", "restart")  # with no value these happen once instead of staying in force


class FaultError(ClearwellError):
    """A fault specification that cannot be applied."""


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str
    value: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Faults with the same key replace each other."""
        return (self.kind, self.target)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" + (f"={self.value}" if self.value is not None else "")

    @property
    def is_action(self) -> bool:
        return self.kind in ACTIONS and self.value is None


def parse_fault(
    spec: str,
    devices: Collection[str] = (),
    tags: Collection[str] = (),
) -> Fault:
    """Parse one ``kind:target[=value]``; ``devices``/``tags``, when given, are checked."""
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    if not sep or not rest:
        raise FaultError(f"fault {spec!r}: expected kind:target[=value], kinds: {', '.join(KINDS)}")
    target, has_value, value = rest.partition("=")
    fault = Fault(kind.strip(), target.strip(), value.strip() if has_value else None)
    _check(fault, spec, devices, tags)
    return fault


def parse_faults(
    specs: Iterable[str], devices: Collection[str] = (), tags: Collection[str] = ()
) -> list[Fault]:
    """Parse faults given as several specs, each possibly a comma-separated list."""
    return [
        parse_fault(part, devices, tags)
        for spec in specs
        for part in spec.split(",")
        if part.strip()
    ]


def _check(f: Fault, spec: str, devices: Collection[str], tags: Collection[str]) -> None:
    def bad(why: str) -> FaultError:
        return FaultError(f"fault {spec!r}: {why}")

    if f.kind not in KINDS:
        raise bad(f"unknown kind {f.kind!r}; kinds: {', '.join(KINDS)}")
    if f.kind in ("exception", "stall"):
        if devices and f.target not in devices and not (f.kind == "stall" and f.target == "*"):
            raise bad(f"no Modbus device named {f.target!r} (devices: {', '.join(devices)})")
        if f.value is None:
            raise bad("needs a value")
        if f.kind == "exception":
            exception_code(f.value, spec)
        else:
            seconds(f.value, spec)
    elif f.kind in ("freeze", "override", "out_of_range", "status"):
        if tags and f.target not in tags:
            raise bad(f"no tag named {f.target!r} in the map")
        if f.kind == "override" and f.value is None:
            raise bad("needs a value, e.g. override:aeration.do=25")
        if f.kind == "out_of_range" and f.value not in (None, "high", "low"):
            raise bad("value must be high or low")
        if f.kind == "freeze" and f.value is not None:
            raise bad("takes no value")
        if f.kind == "status":
            status_code(f.value or "", spec)
    elif f.kind == "drop" and f.target != "modbus":
        raise bad("the target of drop is modbus")
    elif f.kind == "restart" and f.target != "opcua":
        raise bad("the target of restart is opcua")
    if f.kind in ACTIONS and f.value is not None:
        seconds(f.value, spec)


def exception_code(value: str, spec: str = "") -> int:
    code = EXCEPTION_CODES.get(value.lower())
    if code is None and value.isdigit():
        code = int(value)
    if code is None or not 1 <= code <= 255:
        raise FaultError(
            f"fault {spec or value!r}: unknown Modbus exception {value!r} "
            f"(use {', '.join(EXCEPTION_CODES)} or a number)"
        )
    return code


def seconds(value: str, spec: str = "") -> float:
    try:
        s = float(value)
    except ValueError:
        s = math.nan
    if not math.isfinite(s) or s <= 0:
        raise FaultError(
            f"fault {spec or value!r}: expected a number of seconds > 0, got {value!r}"
        )
    return s


def status_code(value: str, spec: str = "") -> int:
    """The 32-bit OPC UA status code a status fault sets."""
    from asyncua import ua

    generic = {"good": 0, "uncertain": 0x40000000, "bad": 0x80000000}
    if value.lower() in generic:
        return generic[value.lower()]
    code = getattr(ua.StatusCodes, value, None)
    if not isinstance(code, int):
        raise FaultError(
            f"fault {spec or value!r}: unknown status {value!r} "
            "(use good, uncertain, bad or a name such as BadSensorFailure)"
        )
    return code


def override_value(value: str) -> float | bool:
    low = value.lower()
    if low in ("true", "on"):
        return True
    if low in ("false", "off"):
        return False
    try:
        return float(value)
    except ValueError:
        raise FaultError(f"override value {value!r} is not a number or true/false") from None


class FaultSet:
    """The faults in force. Adding a fault with the same kind and target replaces it."""

    def __init__(self) -> None:
        self._faults: dict[tuple[str, str], Fault] = {}

    def add(self, fault: Fault) -> None:
        if fault.is_action:
            raise FaultError(f"{fault} happens once; it is not a fault that stays in force")
        self._faults[fault.key] = fault

    def remove(self, kind: str | None = None, target: str | None = None) -> list[Fault]:
        gone = [
            f
            for f in self._faults.values()
            if (kind is None or f.kind == kind) and (target is None or f.target == target)
        ]
        for f in gone:
            del self._faults[f.key]
        return gone

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults.values()))

    def __len__(self) -> int:
        return len(self._faults)

    def get(self, kind: str, target: str) -> Fault | None:
        return self._faults.get((kind, target))

    def exception_for(self, device: str) -> int | None:
        f = self.get("exception", device)
        return exception_code(f.value) if f and f.value else None

    def stall_for(self, device: str) -> float:
        f = self.get("stall", device) or self.get("stall", "*")
        return seconds(f.value) if f and f.value else 0.0

    def status_for(self, tag: str) -> int:
        f = self.get("status", tag)
        return status_code(f.value) if f and f.value else 0

    def describe(self) -> list[str]:
        return [str(f) for f in self._faults.values()]

"""Modbus exception answers: what each code means, and which ones a retry will not cure.

A device that answers with an exception is up; what it answered decides what the
collector does. Illegal function, data address and data value are refusals of what
was asked (this function, these addresses, this many): asking again will not help,
so the request is narrowed down to the tags at fault (:mod:`ingest.modbus.poller`),
whose readings are stored as BadConfigurationError. The other codes (busy, device
failure, a gateway without its device) may pass: the request's tags are stored as
BadDeviceFailure and it is asked again at the next poll.
"""

from __future__ import annotations

from typing import Any, Final

from ingest.status_codes import BAD_CONFIGURATION_ERROR, BAD_DEVICE_FAILURE

ILLEGAL_FUNCTION: Final = 1
ILLEGAL_DATA_ADDRESS: Final = 2
ILLEGAL_DATA_VALUE: Final = 3

# The names of the Modbus application protocol specification (V1.1b3, section 7).
NAMES: Final[dict[int, str]] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
REFUSALS: Final = frozenset({ILLEGAL_FUNCTION, ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE})


def code_of(response: Any) -> int:
    """The exception code of a pymodbus exception response (0 if it has none)."""
    code = getattr(response, "exception_code", 0)
    return code if isinstance(code, int) else 0


def describe(code: int) -> str:
    """E.g. ``illegal data address (exception 2)``."""
    return f"{NAMES.get(code, 'unknown exception')} (exception {code})"


def status_for(code: int) -> int:
    """The status stored for the tags of a request answered with ``code``."""
    return BAD_CONFIGURATION_ERROR if code in REFUSALS else BAD_DEVICE_FAILURE

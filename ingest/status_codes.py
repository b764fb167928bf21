"""Quality codes the collectors store in ``readings.status``.

OPC UA status codes are used for every protocol so that one column means one
thing: 0 is good, and a Bad code keeps its 32 bits as a two's-complement integer
(``int4`` in PostgreSQL), which makes every Bad code negative.
"""

from __future__ import annotations

from typing import Final


def as_int32(code: int) -> int:
    """The signed 32-bit integer with the same bits as an unsigned status code."""
    code &= 0xFFFFFFFF
    return code - 0x1_0000_0000 if code & 0x8000_0000 else code


GOOD: Final = 0
# The link to the device was lost: it stopped answering, refused or dropped the connection.
BAD_COMMUNICATION_ERROR: Final = as_int32(0x80050000)
# The device answered the request with a Modbus exception that may pass (busy, failure, …).
BAD_DEVICE_FAILURE: Final = as_int32(0x808B0000)
# The device refuses the tag's address, register kind or length (Modbus exceptions 1-3):
# the configuration asks for something the device does not have.
BAD_CONFIGURATION_ERROR: Final = as_int32(0x80890000)
# The registers held something that is not a number of the configured type (NaN, Inf).
BAD_DECODING_ERROR: Final = as_int32(0x80070000)


def is_good(status: int) -> bool:
    # OPC UA severity is the top two bits: 00 good, 01 uncertain, 10 bad.
    return (status & 0xC000_0000) == 0

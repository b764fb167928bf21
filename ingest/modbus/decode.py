"""Decoding Modbus registers into numbers: one function per data type and word order.

Conventions (the same as ``simulators.registers``, which encodes what we decode):
a value of n bytes written big-endian is ``A B C D …``, split into 16-bit words
``AB CD …``. On the wire,

* ``ABCD`` keeps that order (Modicon's default, big-endian);
* ``CDAB`` reverses the order of the words, bytes inside each word kept (word swap);
* ``BADC`` keeps the words in order and swaps the two bytes inside each (byte swap);
* ``DCBA`` does both: the little-endian layout.

For 16-bit types ABCD = CDAB and BADC = DCBA. Strings are two ASCII characters per
register, NUL-padded. A decoder takes the response's registers as big-endian
bytes and the byte position of the tag, and returns the raw value; the
engineering value is ``raw * scale + offset``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Final, get_args

from ingest.status_codes import BAD_DECODING_ERROR, GOOD
from sitefile.models import WordOrder

Raw = int | float | bool | str
Decoder = Callable[[bytes, int], Raw]

WORD_ORDERS: Final[tuple[str, ...]] = get_args(WordOrder)
NUMERIC_FORMATS: Final[dict[str, str]] = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "float32": "f",
    "float64": "d",
}


def registers_to_bytes(registers: Sequence[int]) -> bytes:
    """A response's registers as the bytes they were on the wire."""
    return struct.pack(f">{len(registers)}H", *registers)


def swap_bytes(data: bytes) -> bytes:
    """The two bytes of every 16-bit word exchanged."""
    out = bytearray(len(data))
    out[0::2] = data[1::2]
    out[1::2] = data[0::2]
    return bytes(out)


def _numeric(fmt: str, order: str) -> Decoder:
    size = struct.calcsize(fmt)
    big = struct.Struct(">" + fmt)
    little = struct.Struct("<" + fmt)
    # Reversing all bytes reverses the words and swaps the bytes in each, so
    # DCBA is plain little-endian, and the two swaps are a byte swap followed by
    # a big-endian (BADC) or little-endian (CDAB) read.
    if order == "ABCD" or (size == 2 and order == "CDAB"):

        def decode(buf: bytes, pos: int) -> Raw:
            return big.unpack_from(buf, pos)[0]

    elif order == "DCBA" or (size == 2 and order == "BADC"):

        def decode(buf: bytes, pos: int) -> Raw:
            return little.unpack_from(buf, pos)[0]

    elif order == "BADC":

        def decode(buf: bytes, pos: int) -> Raw:
            return big.unpack(swap_bytes(buf[pos : pos + size]))[0]

    elif order == "CDAB":

        def decode(buf: bytes, pos: int) -> Raw:
            return little.unpack(swap_bytes(buf[pos : pos + size]))[0]

    else:
        raise ValueError(f"unknown word order {order!r}")
    decode.__name__ = f"decode_{fmt}_{order}"
    return decode


def _bool_register(order: str) -> Decoder:
    def decode(buf: bytes, pos: int) -> Raw:
        # Any non-zero register is true, so byte order does not matter.
        return buf[pos] != 0 or buf[pos + 1] != 0

    decode.__name__ = f"decode_bool_{order}"
    return decode


def string_decoder(length: int, order: str) -> Decoder:
    """Decoder of a string of ``length`` registers: ASCII, NUL padding removed."""
    size = 2 * length

    def decode(buf: bytes, pos: int) -> Raw:
        data = buf[pos : pos + size]
        if order in ("BADC", "DCBA"):
            data = swap_bytes(data)
        if order in ("CDAB", "DCBA"):
            data = b"".join(data[i : i + 2] for i in range(size - 2, -2, -2))
        return data.rstrip(b"\0").decode("ascii", errors="replace")

    decode.__name__ = f"decode_string{length}_{order}"
    return decode


DECODERS: Final[dict[tuple[str, str], Decoder]] = {
    **{(t, o): _numeric(f, o) for t, f in NUMERIC_FORMATS.items() for o in WORD_ORDERS},
    **{("bool", o): _bool_register(o) for o in WORD_ORDERS},
}


def decoder_for(type_: str, order: str, length: int | None = None) -> Decoder:
    if type_ == "string":
        if not length:
            raise ValueError("a string needs its length in registers")
        return string_decoder(length, order)
    try:
        return DECODERS[(type_, order)]
    except KeyError:
        raise ValueError(f"no decoder for type {type_!r} in order {order!r}") from None


def engineering(raw: Raw, scale: float, offset: float) -> tuple[float | None, int]:
    """A tag's value and status from its raw value: ``raw * scale + offset``, a bool as
    1 or 0; a string has no number to store, and one that is not finite is
    ``BadDecodingError``."""
    if isinstance(raw, str):
        return None, GOOD
    if isinstance(raw, bool):
        return (1.0 if raw else 0.0), GOOD
    value = float(raw) * scale + offset
    if not math.isfinite(value):
        return None, BAD_DECODING_ERROR
    return value, GOOD


def decode_registers(
    registers: Sequence[int], type_: str, order: str = "ABCD", length: int | None = None
) -> Raw:
    """The raw value that a tag's registers hold (all of them, lowest address first)."""
    return decoder_for(type_, order, length)(registers_to_bytes(registers), 0)

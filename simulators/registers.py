"""Engineering values to Modbus register words and back, for one point's type and word order.

This is the contract the collectors' decoder is cross-checked against, so the
conventions are spelled out here once:

* A value of ``n`` bytes is first packed big-endian (network order) into bytes
  ``A B C D …`` and split into 16-bit words ``AB CD …``.
* ``ABCD``: words in that order, each word big-endian (Modicon default).
* ``CDAB``: the order of the words is reversed, bytes inside each word kept
  (``CD AB`` for 32 bits; ``GH EF CD AB`` for 64 bits) — "word swap".
* ``BADC``: word order kept, the two bytes inside every word swapped — "byte swap".
* ``DCBA``: both — the little-endian layout.
* 16-bit types and strings follow the same rule, so for them ABCD = CDAB and
  BADC = DCBA (bytes swapped inside the word).
* ``string`` holds ``length`` registers of ASCII, two characters per register,
  padded with NUL bytes.
* ``engineering = raw * scale + offset``. Going the other way, integer types
  round to the nearest raw value and saturate at the type's limits (as a PLC
  clamps an analog input), floats are stored unrounded.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Final, get_args

from sitefile.models import WordOrder

WORD_ORDERS: Final[tuple[str, ...]] = get_args(WordOrder)


@dataclass(frozen=True)
class _Layout:
    fmt: str  # struct format, big-endian
    words: int
    integer: bool
    lo: float
    hi: float


_LAYOUTS: Final[dict[str, _Layout]] = {
    "int16": _Layout(">h", 1, True, -(2**15), 2**15 - 1),
    "uint16": _Layout(">H", 1, True, 0, 2**16 - 1),
    "int32": _Layout(">i", 2, True, -(2**31), 2**31 - 1),
    "uint32": _Layout(">I", 2, True, 0, 2**32 - 1),
    "int64": _Layout(">q", 4, True, -(2**63), 2**63 - 1),
    "float32": _Layout(">f", 2, False, -3.4028234663852886e38, 3.4028234663852886e38),
    "float64": _Layout(">d", 4, False, -math.inf, math.inf),
    "bool": _Layout(">H", 1, True, 0, 1),
}


def register_count(type_: str, length: int | None = None) -> int:
    """How many 16-bit registers a value of this type occupies."""
    if type_ == "string":
        if not length or length < 1:
            raise ValueError("a string point needs a length of at least one register")
        return length
    try:
        return _LAYOUTS[type_].words
    except KeyError:
        raise ValueError(f"unknown register type {type_!r}") from None


def _order_words(words: list[int], word_order: str) -> list[int]:
    if word_order not in WORD_ORDERS:
        raise ValueError(f"unknown word order {word_order!r}; expected one of {WORD_ORDERS}")
    if word_order in ("CDAB", "DCBA"):
        words = words[::-1]
    if word_order in ("BADC", "DCBA"):
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words


def _bytes_to_words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _words_to_bytes(words: list[int]) -> bytes:
    return b"".join(w.to_bytes(2, "big") for w in words)


def to_raw(value: float, type_: str, scale: float = 1.0, offset: float = 0.0) -> float | int:
    """The raw number a PLC would hold for this engineering value (rounded and saturated)."""
    layout = _LAYOUTS[type_]
    if type_ == "bool":
        return 1 if value else 0
    if isinstance(value, int) and scale == 1 and offset == 0 and layout.integer:
        # Exact for 64-bit counters, which a float would round above 2**53.
        return int(min(max(value, layout.lo), layout.hi))
    raw = (float(value) - offset) / scale
    if not layout.integer:
        if type_ == "float32" and math.isfinite(raw):
            raw = min(max(raw, layout.lo), layout.hi)
        return raw
    if math.isnan(raw):
        raise ValueError(f"cannot store NaN in an {type_} register")
    return int(min(max(round(raw), layout.lo), layout.hi))


def encode(
    value: float | bool | str,
    type_: str,
    word_order: str = "ABCD",
    scale: float = 1.0,
    offset: float = 0.0,
    length: int | None = None,
) -> list[int]:
    """The register words (0..65535, lowest address first) that represent ``value``."""
    if type_ == "string":
        count = register_count(type_, length)
        data = str(value).encode("ascii", errors="replace")[: count * 2].ljust(count * 2, b"\0")
        return _order_words(_bytes_to_words(data), word_order)
    if type_ not in _LAYOUTS:
        raise ValueError(f"unknown register type {type_!r}")
    if isinstance(value, str):
        raise TypeError(f"a {type_} point takes a number, not {value!r}")
    raw = to_raw(value, type_, scale, offset)
    data = struct.pack(_LAYOUTS[type_].fmt, raw)
    return _order_words(_bytes_to_words(data), word_order)


def decode(
    words: list[int],
    type_: str,
    word_order: str = "ABCD",
    scale: float = 1.0,
    offset: float = 0.0,
) -> float | bool | str:
    """The engineering value that ``words`` hold; the inverse of :func:`encode`."""
    # The word-order permutation is its own inverse, so decoding reuses it.
    data = _words_to_bytes(_order_words(list(words), word_order))
    if type_ == "string":
        return data.rstrip(b"\0").decode("ascii", errors="replace")
    layout = _LAYOUTS[type_]
    if len(words) != layout.words:
        raise ValueError(f"{type_} takes {layout.words} register(s), got {len(words)}")
    (raw,) = struct.unpack(layout.fmt, data)
    return _engineering(raw, type_, scale, offset)


def _engineering(raw: float | int, type_: str, scale: float, offset: float) -> float | bool:
    if type_ == "bool":
        return bool(raw)
    if _LAYOUTS[type_].integer and scale == 1 and offset == 0:
        return raw  # an int, exact
    return raw * scale + offset


def quantize(
    value: float | bool | str,
    type_: str,
    word_order: str = "ABCD",
    scale: float = 1.0,
    offset: float = 0.0,
    length: int | None = None,
) -> float | bool | str:
    """What a reader of the registers sees for ``value``: resolution and saturation applied."""
    if type_ == "string" or type_ not in _LAYOUTS or isinstance(value, str):
        return decode(
            encode(value, type_, word_order, scale, offset, length),
            type_,
            word_order,
            scale,
            offset,
        )
    if word_order not in WORD_ORDERS:
        raise ValueError(f"unknown word order {word_order!r}; expected one of {WORD_ORDERS}")
    # Decoding undoes the word order, so only the type's resolution and range act on the
    # value: packed and unpacked as the type, without the words (a third of the time).
    fmt = _LAYOUTS[type_].fmt
    (raw,) = struct.unpack(fmt, struct.pack(fmt, to_raw(value, type_, scale, offset)))
    return _engineering(raw, type_, scale, offset)

"""Decoding: every type and word order against known byte patterns, and the simulator's encoder."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.modbus.decode import (
    DECODERS,
    WORD_ORDERS,
    decode_registers,
    engineering,
    registers_to_bytes,
)
from ingest.status_codes import BAD_DECODING_ERROR, GOOD
from simulators.registers import encode

# (type, order, registers on the wire, raw value). Byte patterns worked out by hand:
# 1.0 as float32 is 3F 80 00 00; 1.0 as float64 is 3F F0 00 00 00 00 00 00;
# 0x01020304 as int32; -2 as int16 is FF FE; 0x0102030405060708 as int64.
KNOWN = [
    ("int16", "ABCD", [0xFFFE], -2),
    ("int16", "CDAB", [0xFFFE], -2),
    ("int16", "BADC", [0xFEFF], -2),
    ("int16", "DCBA", [0xFEFF], -2),
    ("uint16", "ABCD", [0x1234], 0x1234),
    ("uint16", "BADC", [0x3412], 0x1234),
    ("uint16", "CDAB", [0x1234], 0x1234),
    ("uint16", "DCBA", [0x3412], 0x1234),
    ("int32", "ABCD", [0x0102, 0x0304], 0x01020304),
    ("int32", "CDAB", [0x0304, 0x0102], 0x01020304),
    ("int32", "BADC", [0x0201, 0x0403], 0x01020304),
    ("int32", "DCBA", [0x0403, 0x0201], 0x01020304),
    ("int32", "ABCD", [0xFFFF, 0xFFFE], -2),
    ("uint32", "ABCD", [0xFFFF, 0xFFFE], 0xFFFFFFFE),
    ("uint32", "CDAB", [0xFFFE, 0xFFFF], 0xFFFFFFFE),
    ("uint32", "BADC", [0xFFFF, 0xFEFF], 0xFFFFFFFE),
    ("uint32", "DCBA", [0xFEFF, 0xFFFF], 0xFFFFFFFE),
    ("float32", "ABCD", [0x3F80, 0x0000], 1.0),
    ("float32", "CDAB", [0x0000, 0x3F80], 1.0),
    ("float32", "BADC", [0x803F, 0x0000], 1.0),
    ("float32", "DCBA", [0x0000, 0x803F], 1.0),
    ("float32", "ABCD", [0xC148, 0x0000], -12.5),
    ("int64", "ABCD", [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708),
    ("int64", "CDAB", [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708),
    ("int64", "BADC", [0x0201, 0x0403, 0x0605, 0x0807], 0x0102030405060708),
    ("int64", "DCBA", [0x0807, 0x0605, 0x0403, 0x0201], 0x0102030405060708),
    ("int64", "ABCD", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], -1),
    ("float64", "ABCD", [0x3FF0, 0, 0, 0], 1.0),
    ("float64", "CDAB", [0, 0, 0, 0x3FF0], 1.0),
    ("float64", "BADC", [0xF03F, 0, 0, 0], 1.0),
    ("float64", "DCBA", [0, 0, 0, 0xF03F], 1.0),
    ("bool", "ABCD", [0x0000], False),
    ("bool", "ABCD", [0x0100], True),
    ("bool", "DCBA", [0x0001], True),
]


@pytest.mark.parametrize(("type_", "order", "words", "raw"), KNOWN)
def test_known_patterns(type_: str, order: str, words: list[int], raw: object) -> None:
    assert decode_registers(words, type_, order) == raw


def test_every_type_and_order_has_a_known_pattern() -> None:
    covered = {(t, o) for t, o, _, _ in KNOWN}
    missing = {k for k in DECODERS if k not in covered and k[0] != "bool"}
    assert not missing


@pytest.mark.parametrize(
    ("order", "words"),
    [
        ("ABCD", [0x4142, 0x4344, 0x4500]),
        ("CDAB", [0x4500, 0x4344, 0x4142]),
        ("BADC", [0x4241, 0x4443, 0x0045]),
        ("DCBA", [0x0045, 0x4443, 0x4241]),
    ],
)
def test_strings(order: str, words: list[int]) -> None:
    assert decode_registers(words, "string", order, length=3) == "ABCDE"


def test_decoder_reads_at_an_offset_inside_a_response() -> None:
    buf = registers_to_bytes([0xDEAD, 0x3F80, 0x0000, 0xBEEF])
    assert DECODERS[("float32", "ABCD")](buf, 2) == 1.0
    assert DECODERS[("uint16", "ABCD")](buf, 6) == 0xBEEF


def test_nan_decodes_as_nan() -> None:
    assert math.isnan(decode_registers([0x7FC0, 0x0000], "float32"))  # type: ignore[arg-type]


INTS = {
    "int16": st.integers(-(2**15), 2**15 - 1),
    "uint16": st.integers(0, 2**16 - 1),
    "int32": st.integers(-(2**31), 2**31 - 1),
    "uint32": st.integers(0, 2**32 - 1),
    "int64": st.integers(-(2**53), 2**53),  # exact through the simulator's float path
}


@settings(max_examples=200, deadline=None)
@given(data=st.data(), order=st.sampled_from(WORD_ORDERS))
def test_cross_check_against_simulator_encoder(data: st.DataObject, order: str) -> None:
    type_ = data.draw(st.sampled_from([*INTS, "float32", "float64"]))
    if type_ in INTS:
        value: float = data.draw(INTS[type_])
    elif type_ == "float32":
        value = struct.unpack(">f", struct.pack(">f", data.draw(st.floats(-1e30, 1e30))))[0]
    else:
        value = data.draw(st.floats(allow_nan=False, allow_infinity=False))
    words = encode(value, type_, order)
    assert decode_registers(words, type_, order) == value


@settings(max_examples=50, deadline=None)
@given(text=st.text(alphabet="ABCXYZ0123 -", max_size=10), order=st.sampled_from(WORD_ORDERS))
def test_strings_cross_check(text: str, order: str) -> None:
    words = encode(text, "string", order, length=5)
    assert decode_registers(words, "string", order, length=5) == text.rstrip("\0")


@pytest.mark.parametrize(
    ("raw", "scale", "offset", "expected"),
    [
        (250, 0.1, -5.0, (20.0, GOOD)),
        (-2, 1.0, 0.0, (-2.0, GOOD)),
        (True, 10.0, 3.0, (1.0, GOOD)),  # a bit is 1 or 0, unscaled
        (False, 10.0, 3.0, (0.0, GOOD)),
        ("PUMP-1", 1.0, 0.0, (None, GOOD)),  # read, but no number to store
        (math.nan, 1.0, 0.0, (None, BAD_DECODING_ERROR)),
        (math.inf, 1.0, 0.0, (None, BAD_DECODING_ERROR)),
        (1e308, 10.0, 0.0, (None, BAD_DECODING_ERROR)),  # finite raw, scaled past a float
    ],
)
def test_engineering_value_and_status(raw, scale, offset, expected) -> None:
    assert engineering(raw, scale, offset) == expected

"""Engineering value <-> register words, checked against hand-computed layouts and pymodbus."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.client.mixin import ModbusClientMixin

from simulators.registers import WORD_ORDERS, decode, encode, quantize, register_count

DT = ModbusClientMixin.DATATYPE

# (value, type, word order, scale, offset, expected words)
CASES = [
    (1.0, "float32", "ABCD", 1.0, 0.0, [0x3F80, 0x0000]),
    (1.0, "float32", "CDAB", 1.0, 0.0, [0x0000, 0x3F80]),
    (1.0, "float32", "BADC", 1.0, 0.0, [0x803F, 0x0000]),
    (1.0, "float32", "DCBA", 1.0, 0.0, [0x0000, 0x803F]),
    (-2.5, "float32", "ABCD", 1.0, 0.0, [0xC020, 0x0000]),
    (1.0, "float64", "ABCD", 1.0, 0.0, [0x3FF0, 0, 0, 0]),
    (1.0, "float64", "CDAB", 1.0, 0.0, [0, 0, 0, 0x3FF0]),
    (1.0, "float64", "BADC", 1.0, 0.0, [0xF03F, 0, 0, 0]),
    (1.0, "float64", "DCBA", 1.0, 0.0, [0, 0, 0, 0xF03F]),
    (0x12345678, "uint32", "ABCD", 1.0, 0.0, [0x1234, 0x5678]),
    (0x12345678, "uint32", "CDAB", 1.0, 0.0, [0x5678, 0x1234]),
    (0x12345678, "uint32", "BADC", 1.0, 0.0, [0x3412, 0x7856]),
    (0x12345678, "uint32", "DCBA", 1.0, 0.0, [0x7856, 0x3412]),
    (-1, "int32", "ABCD", 1.0, 0.0, [0xFFFF, 0xFFFF]),
    (-2, "int64", "ABCD", 1.0, 0.0, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE]),
    (-2, "int64", "CDAB", 1.0, 0.0, [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF]),
    (-1, "int16", "ABCD", 1.0, 0.0, [0xFFFF]),
    (0x1234, "uint16", "BADC", 1.0, 0.0, [0x3412]),
    (0x1234, "uint16", "CDAB", 1.0, 0.0, [0x1234]),
    (12.34, "int16", "ABCD", 0.01, 0.0, [1234]),
    (-12.34, "int16", "ABCD", 0.01, 0.0, [(-1234) & 0xFFFF]),
    (25.0, "int16", "ABCD", 0.1, -5.0, [300]),  # raw = (25 - -5) / 0.1
    (1234567.8, "uint32", "ABCD", 0.1, 0.0, [0x00BC, 0x614E]),
    (5000.0, "int16", "ABCD", 0.1, 0.0, [0x7FFF]),  # saturates like a PLC analog input
    (-5000.0, "int16", "ABCD", 0.1, 0.0, [0x8000]),
    (-3.0, "uint32", "ABCD", 1.0, 0.0, [0, 0]),
    (True, "bool", "ABCD", 1.0, 0.0, [1]),
    (False, "bool", "ABCD", 1.0, 0.0, [0]),
    ("AB", "string", "ABCD", 1.0, 0.0, [0x4142, 0x0000]),
    ("ABC", "string", "BADC", 1.0, 0.0, [0x4241, 0x0043]),
]


@pytest.mark.parametrize(("value", "type_", "order", "scale", "offset", "words"), CASES)
def test_encode_matches_hand_computed_layout(value, type_, order, scale, offset, words):
    length = 2 if type_ == "string" else None
    assert encode(value, type_, order, scale, offset, length) == words


@pytest.mark.parametrize(("value", "type_", "order", "scale", "offset", "words"), CASES)
def test_decode_inverts_encode(value, type_, order, scale, offset, words):
    back = decode(words, type_, order, scale, offset)
    if type_ == "string":
        assert back == value
    elif type_ == "bool":
        assert back is value
    else:
        assert quantize(value, type_, order, scale, offset) == back


@pytest.mark.parametrize(
    ("type_", "dt"),
    [
        ("float32", DT.FLOAT32),
        ("float64", DT.FLOAT64),
        ("int32", DT.INT32),
        ("uint32", DT.UINT32),
        ("int64", DT.INT64),
        ("int16", DT.INT16),
        ("uint16", DT.UINT16),
    ],
)
@pytest.mark.parametrize("value", [0, 1, 7, 1000, 65535, 123456])
def test_pymodbus_reads_our_big_and_word_swapped_layouts(type_, dt, value):
    """pymodbus' own converter (word_order big = ABCD, little = CDAB) agrees with ours."""
    if type_ in ("int16", "uint16") and value > 32767:
        value = 32767
    abcd = encode(value, type_, "ABCD")
    assert ModbusClientMixin.convert_from_registers(abcd, dt, word_order="big") == value
    cdab = encode(value, type_, "CDAB")
    assert ModbusClientMixin.convert_from_registers(cdab, dt, word_order="little") == value


@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(WORD_ORDERS))
def test_float64_round_trips_exactly(x, order):
    assert decode(encode(x, "float64", order), "float64", order) == x


@given(st.floats(width=32, allow_nan=False, allow_infinity=False), st.sampled_from(WORD_ORDERS))
def test_float32_round_trips_float32_values(x, order):
    assert decode(encode(x, "float32", order), "float32", order) == x


@given(
    st.sampled_from(
        [
            ("int16", -(2**15), 2**15 - 1),
            ("uint16", 0, 2**16 - 1),
            ("int32", -(2**31), 2**31 - 1),
            ("uint32", 0, 2**32 - 1),
            ("int64", -(2**63), 2**63 - 1),
        ]
    ),
    st.data(),
    st.sampled_from(WORD_ORDERS),
)
def test_integers_round_trip_and_words_fit(spec, data, order):
    type_, lo, hi = spec
    n = data.draw(st.integers(lo, hi))
    words = encode(n, type_, order)
    assert len(words) == register_count(type_)
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode(words, type_, order) == n


@given(st.sampled_from([0.1, 0.01, 0.5]), st.data())
def test_scaled_int16_is_within_half_a_step(scale, data):
    x = data.draw(st.floats(-32768 * scale, 32767 * scale))
    got = quantize(x, "int16", "ABCD", scale)
    assert isinstance(got, float)
    assert abs(got - x) <= scale / 2 + 1e-9


def test_nan_cannot_go_into_an_integer_register():
    with pytest.raises(ValueError, match="NaN"):
        encode(math.nan, "int16")


def test_float32_layout_is_ieee_big_endian():
    words = encode(3.14159, "float32", "ABCD")
    assert struct.unpack(">f", struct.pack(">HH", *words))[0] == pytest.approx(3.14159, rel=1e-6)


@pytest.mark.parametrize("bad", ["float16", "uint64", ""])
def test_unknown_type_is_refused(bad):
    with pytest.raises(ValueError):
        register_count(bad)

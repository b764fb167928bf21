import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbook.canonical import (
    GENESIS,
    canonical_json,
    content_hash,
    link_hash,
    normalise,
    row_content_hash,
    row_hash,
    verify_chain,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": 2}, b'{"a":2,"b":1}'),
        ({"x": 5.0}, b'{"x":5}'),
        ({"x": 0.1}, b'{"x":0.1}'),
        ({"x": 1e20}, b'{"x":100000000000000000000}'),
        (
            {"t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
            b'{"t":"2026-01-02T03:04:05.000000+00:00"}',
        ),
        (
            {"t": datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=-7)))},
            b'{"t":"2026-01-02T10:04:05.000007+00:00"}',
        ),
        ({"s": "caf\u00e9"}, '{"s":"caf\u00e9"}'.encode()),
        ([None, True, [1, "a"]], b'[null,true,[1,"a"]]'),
    ],
)
def test_canonical_json(value, expected):
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), datetime(2026, 1, 1), {1: "x"}, object()],
)
def test_canonical_json_refuses_what_it_cannot_write_one_way(bad):
    with pytest.raises(ValueError):
        normalise(bad)


def test_content_hash_is_independent_of_key_order_and_integral_floats():
    assert content_hash({"a": 1, "b": [2.0]}) == content_hash({"b": [2], "a": 1.0})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def _chain(n):
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        row = {
            "seq": i,
            "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
            "actor_id": 1,
            "actor": "op",
            "action": "entry.create",
            "subject": "entry",
            "subject_id": str(i),
            "site_id": 1,
            "detail": {"value": i * 1.5},
            "prev_hash": prev,
        }
        row["row_hash"] = row_hash(row, prev)
        prev = row["row_hash"]
        rows.append(row)
    return rows


def test_an_intact_chain_verifies():
    assert verify_chain(_chain(5)) is None


def test_row_hash_covers_every_chain_field_and_the_previous_hash():
    row = _chain(1)[0]
    base = row_hash(row, GENESIS)
    for field, other in [("actor", "x"), ("detail", {"value": 2}), ("at", None), ("site_id", None)]:
        assert row_hash({**row, field: other}, GENESIS) != base
    assert row_hash(row, "1" * 64) != base
    # seq is the row's position, kept by the links rather than the hash.
    assert row_hash({**row, "seq": 9}, GENESIS) == base


def test_the_link_is_sha256_of_the_two_hex_digests():
    """The database computes this step: a fixed vector pins the formula down."""
    row = _chain(1)[0]
    content = row_content_hash(row)
    assert row_hash(row, GENESIS) == hashlib.sha256((GENESIS + content).encode()).hexdigest()
    assert link_hash("a" * 64, "b" * 64) == (hashlib.sha256(b"a" * 64 + b"b" * 64).hexdigest())


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        (lambda rows: rows[2]["detail"].update(value=99), 3, "content does not match"),
        (lambda rows: rows.pop(2), 4, "sequence jumps"),
        (lambda rows: rows.pop(0), 2, "sequence jumps from 0 to 2"),
        (lambda rows: rows[3].update(prev_hash="f" * 64), 4, "prev_hash"),
        (lambda rows: rows[4].update(row_hash="0" * 64), 5, "content does not match"),
    ],
)
def test_tampering_names_the_first_row_that_does_not_match(tamper, seq, reason):
    rows = _chain(6)
    tamper(rows)
    broken = verify_chain(rows)
    assert broken is not None
    assert broken.seq == seq
    assert reason in broken.reason


def test_deleting_the_first_row_is_caught_even_without_a_gap_check():
    rows = _chain(3)[1:]
    broken = verify_chain(rows)
    assert broken is not None and broken.seq == 2


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_form_survives_a_json_round_trip(value):
    """What jsonb gives back (floats as numbers, keys reordered) hashes the same."""
    first = canonical_json(value)
    again = canonical_json(json.loads(first))
    assert again == first
    assert content_hash(json.loads(first)) == content_hash(value)

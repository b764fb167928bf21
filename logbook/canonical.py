"""Canonical JSON and the audit hash chain: pure functions, no I/O.

The exports engineer puts the chain head in signed bundles, and a regulator may
recompute hashes with another tool, so the rules are fixed and written down:

* JSON with keys sorted, no whitespace (``","`` and ``":"``), UTF-8, non-ASCII kept;
* timestamps as ISO 8601 in UTC with microseconds: ``2026-01-02T03:04:05.000000+00:00``;
* floats that hold an integer are written as integers (``5.0`` -> ``5``), because
  PostgreSQL's jsonb does not keep the difference; NaN and infinities are refused;
* ``content_hash = sha256(canonical(content))`` over the row's chain fields (not its
  ``seq``, which is its position: the links keep the order), and
  ``row_hash = sha256(prev_hash + content_hash)`` over the two lower-case hex strings,
  where the first row's ``prev_hash`` is 64 zeros. The database computes that last
  step itself when it appends (logbook/audit.py), so the chain lock is held for one
  statement and the commit, not for round trips to the application;
* a row that names the record rows its transaction wrote (its ``records``, migration
  0210: each ``"<table> <key> <columns> <sha256>"``) links them in too:
  ``row_hash = sha256(prev_hash + content_hash + records_digest)``, where
  ``records_digest = sha256`` of the references joined by ``"\\n"``. A record row's own
  hash is the sha256 of its PostgreSQL jsonb text (``to_jsonb(row)::text`` in UTC, with
  ``extra_float_digits = 1`` and ``intervalstyle = postgres``) without the columns
  numbered above ``<columns>``: the database makes it as the row is inserted, whoever
  inserts it, and ``clearwell verify`` recomputes it with the same built-in functions
  (logbook/records.py), so a row stays checkable after a later migration adds a column.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
CHAIN_FIELDS = (
    "at",
    "actor_id",
    "actor",
    "action",
    "subject",
    "subject_id",
    "site_id",
    "detail",
)


def normalise(value: Any) -> Any:
    """The JSON-ready form of ``value`` that the canonical encoding writes."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float | Decimal):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            raise ValueError(f"cannot hash a non-finite number: {value!r}")
        return int(f) if f.is_integer() else f
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"cannot hash a timestamp without a time zone: {value!r}")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"JSON object keys must be strings, got {k!r}")
            out[k] = normalise(v)
        return out
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    raise ValueError(f"cannot hash a value of type {type(value).__name__}: {value!r}")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(value: Any) -> str:
    return sha256_hex(canonical_json(value))


def row_content_hash(content: Mapping[str, Any]) -> str:
    """The hash of an audit row's own content (its chain fields)."""
    return content_hash({name: content.get(name) for name in CHAIN_FIELDS})


def link_hash(prev_hash: str, row_content: str, records: str = "") -> str:
    return sha256_hex((prev_hash + row_content + records).encode("ascii"))


def records_digest(records: Sequence[str] | None) -> str:
    """The hash of an audit row's record references; empty for a row without any."""
    return sha256_hex("\n".join(records).encode("utf-8")) if records else ""


def row_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    """The hash an audit row carries: its content (and the references of the record rows
    it names, if any) linked to the previous row's hash."""
    return link_hash(prev_hash, row_content_hash(content), records_digest(content.get("records")))


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(rows: Iterable[Mapping[str, Any]], prev_hash: str = GENESIS) -> ChainBreak | None:
    """The first row (in ``seq`` order) whose link or hash does not match, else None.

    ``rows`` carry the chain fields plus ``prev_hash`` and ``row_hash`` as stored.
    """
    # A chain read from its start must begin at seq 1, so losing the first rows shows.
    expected_seq: int | None = 1 if prev_hash == GENESIS else None
    for row in rows:
        seq = int(row["seq"])
        if expected_seq is not None and seq != expected_seq:
            return ChainBreak(seq, f"sequence jumps from {expected_seq - 1} to {seq}")
        if row["prev_hash"] != prev_hash:
            return ChainBreak(
                seq, f"prev_hash {row['prev_hash']} does not match the previous row {prev_hash}"
            )
        computed = row_hash(row, prev_hash)
        if computed != row["row_hash"]:
            return ChainBreak(
                seq,
                f"row content does not match its hash (stored {row['row_hash']}, "
                f"computed {computed})",
            )
        prev_hash = row["row_hash"]
        expected_seq = seq + 1
    return None

"""Corrections as amendments: pure functions that fold them onto the original.

A record's current value is its original with each amendment's changes applied
in the order they were made; the history keeps, for every amendment, what each
changed field held before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# What an amendment may change, per target. Identity, authorship and recording
# times never change: a wrong kind or site is a new record plus a note.
AMENDABLE: dict[str, frozenset[str]] = {
    "entry": frozenset({"occurred_at", "data"}),
    "sample": frozenset(
        {
            "sample_point",
            "sampled_at",
            "composite_start",
            "composite_end",
            "composite_kind",
            "container",
            "preservation",
            "notes",
        }
    ),
    "result": frozenset(
        {
            "analyte",
            "parameter_code",
            "method",
            "analyzed_at",
            "analyst_id",
            "analyst_name",
            "lab",
            "value",
            "unit",
            "qualifier",
            "detection_limit",
        }
    ),
    "crew": frozenset({"shift_role", "arrived_at", "left_at"}),
}


# Amendments travel as JSON; these fields are timestamps again once folded in.
TIMESTAMPS = frozenset(
    {
        "occurred_at",
        "sampled_at",
        "composite_start",
        "composite_end",
        "analyzed_at",
        "arrived_at",
        "left_at",
    }
)


def _typed(name: str, value: Any) -> Any:
    if name in TIMESTAMPS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def check_fields(target: str, changes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for each change that the target does not allow."""
    allowed = AMENDABLE[target]
    return [
        (
            f"changes.{name}",
            f"cannot be amended on a {target}; allowed: {', '.join(sorted(allowed))}",
        )
        for name in changes
        if name not in allowed
    ]


def merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes`` applied; an entry's ``data`` merges field by field."""
    out = dict(current)
    for name, value in changes.items():
        if name == "data" and isinstance(value, Mapping) and isinstance(out.get("data"), Mapping):
            out["data"] = {**out["data"], **value}
        else:
            out[name] = _typed(name, value)
    return out


def fold(
    original: Mapping[str, Any], amendments: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(current value, history) of a record; amendments in the order they were made."""
    current = dict(original)
    history = []
    for a in amendments:
        changes = a["changes"]
        previous: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "data" and isinstance(value, Mapping):
                before = current.get("data") or {}
                previous["data"] = {k: before.get(k) for k in value}
            else:
                previous[name] = current.get(name)
        current = merge(current, changes)
        history.append(
            {
                "id": a["id"],
                "amended_at": a["amended_at"],
                "amended_by": a["amended_by"],
                "reason": a["reason"],
                "after_signing": a["after_signing"],
                "changes": changes,
                "previous": previous,
            }
        )
    return current, history

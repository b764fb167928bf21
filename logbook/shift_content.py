"""What a shift signature is bound to: the canonical content of the shift, pure.

The content holds the shift's identity and times, its crew with their roles and
times on site, every entry as first recorded (with who recorded it and any
countersignature) with the amendments made to it before signing, and the
handoff notes written on it. Amendments made after signing are not part of it:
they are shown as made after signing and leave the signed hash intact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from logbook.canonical import content_hash


def shift_content(
    shift: Mapping[str, Any],
    crew: Sequence[Mapping[str, Any]],
    entries: Sequence[Mapping[str, Any]],
    notes: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    return {
        "shift": {k: shift[k] for k in ("id", "site_id", "label", "opened_at", "opened_by")}
        | {"closed_at": shift.get("closed_at")},
        "crew": [
            {
                k: c.get(k)
                for k in ("id", "person_id", "shift_role", "arrived_at", "left_at", "amendments")
            }
            for c in sorted(crew, key=lambda c: c["id"])
        ],
        "entries": [
            {
                k: e.get(k)
                for k in (
                    "id",
                    "kind",
                    "data",
                    "occurred_at",
                    "recorded_at",
                    "recorded_by",
                    "event_id",
                    "countersigned_by",
                    "amendments",
                )
            }
            for e in sorted(entries, key=lambda e: e["id"])
        ],
        "handoff_notes": [
            {k: n.get(k) for k in ("id", "body", "written_by", "written_at")}
            for n in sorted(notes, key=lambda n: n["id"])
        ],
    }


def shift_content_hash(
    shift: Mapping[str, Any],
    crew: Sequence[Mapping[str, Any]],
    entries: Sequence[Mapping[str, Any]],
    notes: Sequence[Mapping[str, Any]],
) -> str:
    return content_hash(shift_content(shift, crew, entries, notes))

"""The logbook and lab record of a period, as CSV and JSON (columns in the README).

Every entry and every result is given as it stands now (amendments applied) with
its original values and each amendment (who, when, why, what it changed), and
with the signatures that bear on it: the entry's countersignature and the
signatures of its shift.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from dashboards.exports.load import AMEND_MARGIN, samples
from logbook import store

FORMAT = "clearwell-logbook/1"

ENTRY_COLUMNS = (
    "entry_id",
    "shift_id",
    "shift_label",
    "kind",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "by_trainee",
    "operational",
    "event_id",
    "data",
    "countersigned_by",
    "countersigned_at",
    "amended",
    "original",
    "amendments",
    "shift_signatures",
    "staffing",
)

LAB_COLUMNS = (
    "sample_id",
    "sample_point",
    "sample_type",
    "sampled_at",
    "composite_start",
    "composite_end",
    "composite_kind",
    "sampled_by",
    "custody",
    "sample_amendments",
    "result_id",
    "analyte",
    "parameter_code",
    "method",
    "analyzed_at",
    "analyst",
    "lab",
    "value",
    "qualifier",
    "detection_limit",
    "unit",
    "result_recorded_by",
    "result_recorded_at",
    "result_amended",
    "result_original",
    "result_amendments",
)


@dataclass
class LogbookRecord:
    site: str
    start: date
    end: date  # last plant day, inclusive
    people: dict[int, tuple[str, str]]  # id -> (username, full name)
    shifts: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    month_to_date: bool = False  # the month is in progress: ``end`` is today's plant day


def _utc(value: datetime) -> datetime:
    """The instant in UTC: times read on the export's connection carry the server's zone."""
    return value if value.tzinfo is None else value.astimezone(UTC)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(value: object) -> str:
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"))


def _time(value: datetime | None) -> str:
    return "" if value is None else _utc(value).isoformat()


def _who(record: LogbookRecord, person_id: int | None) -> str:
    if person_id is None:
        return ""
    username, name = record.people.get(person_id, (f"person {person_id}", ""))
    return f"{username} ({name})" if name else username


def _history(record: LogbookRecord, history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**h, "amended_by": _who(record, h["amended_by"])} for h in history]


def entries_csv(record: LogbookRecord) -> bytes:
    shifts = {s["id"]: s for s in record.shifts}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(ENTRY_COLUMNS)
    for e in record.entries:
        shift = shifts.get(e["shift_id"], {})
        cs = e["countersignature"]
        w.writerow(
            [
                e["id"],
                e["shift_id"],
                shift.get("label", ""),
                e["kind"],
                _time(e["occurred_at"]),
                _time(e["recorded_at"]),
                _who(record, e["recorded_by"]),
                "yes" if e["by_trainee"] else "no",
                "yes" if e["operational"] else "no",
                e["event_id"] or "",
                _json(e["data"]),
                _who(record, cs["person_id"]) if cs else "",
                _time(cs["signed_at"]) if cs else "",
                "yes" if e["amended"] else "no",
                _json(e["original"]) if e["original"] else "",
                _json(_history(record, e["history"])) if e["history"] else "",
                _json(
                    [
                        {**s, "person": _who(record, s["person_id"])}
                        for s in shift.get("signatures", [])
                    ]
                ),
                _json(e["staffing"]) if e["staffing"] else "",
            ]
        )
    return out.getvalue().encode()


def lab_csv(record: LogbookRecord) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(LAB_COLUMNS)
    for s in record.samples:
        head = [
            s["id"],
            s["sample_point"],
            s["sample_type"],
            _time(s["sampled_at"]),
            _time(s["composite_start"]),
            _time(s["composite_end"]),
            s["composite_kind"] or "",
            "; ".join(_who(record, p) for p in s["sampled_by"]),
            _json(s["custody"]) if s["custody"] else "",
            _json(_history(record, s["history"])) if s["history"] else "",
        ]
        if not s["results"]:
            w.writerow(head + [""] * (len(LAB_COLUMNS) - len(head)))
        for r in s["results"]:
            analyst = _who(record, r["analyst_id"]) if r["analyst_id"] else r["analyst_name"]
            w.writerow(
                [
                    *head,
                    r["id"],
                    r["analyte"],
                    r["parameter_code"] or "",
                    r["method"],
                    _time(r["analyzed_at"]),
                    analyst or "",
                    r["lab"],
                    "" if r["value"] is None else repr(float(r["value"])),
                    r["qualifier"] or "",
                    "" if r["detection_limit"] is None else repr(float(r["detection_limit"])),
                    r["unit"],
                    _who(record, r["recorded_by"]),
                    _time(r["recorded_at"]),
                    "yes" if r["amended"] else "no",
                    _json(r["original"]) if r["original"] else "",
                    _json(_history(record, r["history"])) if r["history"] else "",
                ]
            )
    return out.getvalue().encode()


def to_json(record: LogbookRecord) -> bytes:
    body = {
        "format": FORMAT,
        "site": record.site,
        "period": {
            "first_day": record.start,
            "last_day": record.end,
            "month_to_date": record.month_to_date,
        },
        "people": {
            str(pid): {"username": u, "full_name": n} for pid, (u, n) in record.people.items()
        },
        "shifts": record.shifts,
        "entries": record.entries,
        "samples": record.samples,
    }
    return json.dumps(body, default=_default, indent=1, sort_keys=True).encode() + b"\n"


async def load(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    code: str,
    lo: datetime,
    hi: datetime,
    days: tuple[date, date],
    found: list[dict[str, Any]] | None = None,
    *,
    month_to_date: bool = False,
) -> LogbookRecord:
    """Entries and samples of a site whose time (as amended) is in [lo, hi).

    ``found``: the samples of [lo, hi) as :func:`dashboards.exports.load.samples` reads
    them, when the caller has them already; read here otherwise."""
    async with conn.transaction():
        entries = await store.entries_where(
            conn,
            sql.SQL("e.site_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s"),
            [site_id, lo - AMEND_MARGIN, hi + AMEND_MARGIN],
            10_000_000,
        )
    entries = [e for e in entries if lo <= e["occurred_at"] < hi]
    if found is None:
        found = await samples(conn, site_id, lo, hi)
    shift_ids = sorted({e["shift_id"] for e in entries} | {s["shift_id"] for s in found} - {None})
    cur = await conn.execute(
        "SELECT s.id, s.label, s.opened_at, c.closed_at FROM shifts s"
        " LEFT JOIN shift_closures c ON c.shift_id = s.id WHERE s.id = ANY(%s) ORDER BY s.id",
        (shift_ids,),
    )
    shifts = {
        r[0]: {"id": r[0], "label": r[1], "opened_at": r[2], "closed_at": r[3], "signatures": []}
        for r in await cur.fetchall()
    }
    cur = await conn.execute(
        "SELECT shift_id, person_id, content_sha256, signed_at, meaning FROM shift_signatures"
        " WHERE shift_id = ANY(%s) ORDER BY id",
        (shift_ids,),
    )
    for r in await cur.fetchall():
        shifts[r[0]]["signatures"].append(
            {"person_id": r[1], "content_sha256": r[2], "signed_at": r[3], "meaning": r[4]}
        )
    cur = await conn.execute("SELECT id, username, full_name FROM people ORDER BY id")
    people = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
    return LogbookRecord(
        code, days[0], days[1], people, list(shifts.values()), entries, found, month_to_date
    )

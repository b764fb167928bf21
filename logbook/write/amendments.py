"""Amendments: a correction names a record, the new values and why; the original stays.

Who may amend what is the access matrix's (``amendment.create``: a trainee only their own
records), asked before anything of the correction is judged. The merged record is then
validated again with its kind's or sample's model, and a time it changes obeys the limits
its record's did when it was made (an entry's occurred_at the site's backdate limit before
it was recorded; a crew member's or a sample's times plausible, within five years of it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from clearwell.authorize import require
from clearwell.web import invalid, invalid_many, not_found
from logbook import audit, kinds, store
from logbook.amend import merge
from logbook.auth.sessions import Principal
from logbook.canonical import normalise
from logbook.plausibility import (
    NUMBER_FIELDS,
    Confirmation,
    Value,
    entry_values,
    result_values,
)
from logbook.samples import OLDEST_SAMPLE, SAMPLE_TIMES, TOO_OLD, ResultFields, SampleFields
from logbook.write.crew import SHIFT_ROLES
from logbook.write.idempotency import Made, RequestKey, already_made, insert_once
from logbook.write.plausibility import RangeSource, audited, check_values, record_confirmations
from logbook.write.rules import CLOCK_SKEW, check_backdate, check_plausible
from logbook.write.samples import check_times
from sitefile.ranges import SiteRanges

# The numbers an amendment changes, judged by the site's ranges (none: nothing to judge).
Values = Callable[[SiteRanges], list[Value]] | None
# What an amendment's target is: (site_id, shift_id, the changes as stored, its numbers).
Target = tuple[int, int | None, dict[str, Any], Values]


def _pydantic_errors(exc: ValidationError, prefix: str) -> Exception:
    return invalid_many(
        [(".".join(str(p) for p in (prefix, *e["loc"])) or prefix, e["msg"]) for e in exc.errors()]
    )


Model = TypeVar("Model", bound=BaseModel)


def _revalidated(
    model: type[Model], record: dict[str, Any], changes: dict[str, Any]
) -> tuple[Model, dict[str, Any]]:
    """The record's fields with the changes applied, validated again by its model, and the
    changes as stored (as the model writes them in JSON)."""
    fields = {k: record[k] for k in model.model_fields}
    try:
        merged = model.model_validate(merge(fields, changes))
    except ValidationError as exc:
        raise _pydantic_errors(exc, "changes") from None
    dumped = merged.model_dump(mode="json")
    return merged, {k: dumped[k] for k in changes}


def _timestamp(changes: dict[str, Any], name: str) -> datetime:
    """The change of ``name`` as an aware datetime; ``changes`` then holds it normalised."""
    try:
        at = datetime.fromisoformat(str(changes[name]))
    except ValueError:
        raise invalid(f"changes.{name}", "not an ISO 8601 timestamp") from None
    if at.tzinfo is None:
        raise invalid(f"changes.{name}", "needs a time zone offset")
    changes[name] = normalise(at)
    return at


def _may(user: Principal, site_id: int, owner: int, target: str, target_id: int) -> None:
    require(user, "amendment.create", site_id, owner, target, target_id)


async def _entry(
    conn: psycopg.AsyncConnection[Any], target_id: int, changes: dict[str, Any], user: Principal
) -> Target:
    found = await store.entry(conn, target_id)
    if found is None:
        raise not_found("entry", target_id)
    _may(user, found["site_id"], found["recorded_by"], "entry", target_id)
    changes = dict(changes)
    values: Values = None
    if "data" in changes:
        if not isinstance(changes["data"], dict) or not changes["data"]:
            raise invalid("changes.data", "must be an object of the fields to change")
        kind = found["kind"]
        merged = merge({"data": found["data"]}, {"data": changes["data"]})["data"]
        try:
            kinds.validate_entry_data(kind, merged)
        except kinds.KindError as exc:
            raise invalid_many([(f"changes.{f}", r) for f, r in exc.errors]) from None
        if kind == "alarm_ack" and merged.get("event_id") != found["event_id"]:
            raise invalid("changes.data.event_id", "an acknowledgement's event cannot change")
        values = await _entry_values(conn, kind, merged, set(changes["data"]), found["site_id"])
    if "occurred_at" in changes:
        occurred = _timestamp(changes, "occurred_at")
        if occurred > found["recorded_at"] + CLOCK_SKEW:
            raise invalid("changes.occurred_at", "is after the entry was recorded")
        _, limit = await store.site_settings(conn, found["site_id"])
        check_backdate("changes.occurred_at", occurred, limit, found["recorded_at"])
    return found["site_id"], found["shift_id"], changes, values


async def _entry_values(
    conn: psycopg.AsyncConnection[Any],
    kind: str,
    merged: dict[str, Any],
    changed: set[str],
    site_id: int,
) -> Values:
    """The numbers an amendment of an entry's ``data`` changes: those it gives, and a
    reading's value when its tag changes (another tag, other ranges)."""
    numbers = NUMBER_FIELDS.get(kind, ())
    retagged = kind == "reading" and "tag_id" in changed
    fields = [f for f in numbers if f in changed or retagged]
    if not fields:
        return None
    tag_name = None
    if kind == "reading" and merged.get("tag_id") is not None:
        cur = await conn.execute(
            "SELECT name FROM tags WHERE id = %s AND site_id = %s", (merged["tag_id"], site_id)
        )
        row = await cur.fetchone()
        tag_name = str(row[0]) if row else None
    return lambda site: entry_values(kind, merged, site, tag_name, fields, under=("changes",))


async def _sample(
    conn: psycopg.AsyncConnection[Any], target_id: int, changes: dict[str, Any], user: Principal
) -> Target:
    found = await store.one_sample(conn, target_id)
    if found is None:
        raise not_found("sample", target_id)
    _may(user, found["site_id"], found["recorded_by"], "sample", target_id)
    merged, stored = _revalidated(SampleFields, found, changes)
    check_times(
        {f: getattr(merged, f) for f in SAMPLE_TIMES if f in changes},
        found["recorded_at"] - OLDEST_SAMPLE,
        TOO_OLD,
        "changes.",
    )
    return found["site_id"], found["shift_id"], stored, None


async def _result(
    conn: psycopg.AsyncConnection[Any], target_id: int, changes: dict[str, Any], user: Principal
) -> Target:
    cur = await conn.execute("SELECT sample_id FROM sample_results WHERE id = %s", (target_id,))
    row = await cur.fetchone()
    if row is None:
        raise not_found("result", target_id)
    sample = await store.one_sample(conn, row[0])
    assert sample is not None
    result = next(r for r in sample["results"] if r["id"] == target_id)
    _may(user, sample["site_id"], result["recorded_by"], "result", target_id)
    merged, stored = _revalidated(ResultFields, result, changes)
    check_times(
        {"analyzed_at": merged.analyzed_at},
        sample["sampled_at"],
        "is before the sample was taken",
        "changes.",
    )

    def values(site: SiteRanges) -> list[Value]:
        return result_values(merged.analyte, merged.value, site, ("changes",))

    judged = values if "value" in changes or "analyte" in changes else None
    return sample["site_id"], sample["shift_id"], stored, judged


async def _crew(
    conn: psycopg.AsyncConnection[Any], target_id: int, changes: dict[str, Any], user: Principal
) -> Target:
    cur = await conn.execute(
        "SELECT c.shift_id, s.site_id FROM shift_crew c JOIN shifts s ON s.id = c.shift_id"
        " WHERE c.id = %s",
        (target_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("crew member", target_id)
    member = next(c for c in await store.crew(conn, row[0]) if c["id"] == target_id)
    _may(user, row[1], member["person_id"], "crew", target_id)
    changes = dict(changes)
    if "shift_role" in changes:
        if changes["shift_role"] not in SHIFT_ROLES:
            raise invalid("changes.shift_role", f"one of {', '.join(SHIFT_ROLES)}")
        if changes["shift_role"] == "drc" or member["shift_role"] == "drc":
            require(user, "crew.designate_drc", row[1], subject="crew", subject_id=target_id)
        if (changes["shift_role"] == "trainee") != (member["shift_role"] == "trainee"):
            raise invalid(
                "changes.shift_role", "a trainee serves as 'trainee', and only trainees do"
            )
    times = {
        name: _timestamp(changes, name) for name in ("arrived_at", "left_at") if name in changes
    }
    arrived = times.get("arrived_at", member["arrived_at"])
    left = times.get("left_at", member["left_at"])
    if left is not None and left < arrived:
        raise invalid("changes.left_at", "is before the person arrived")
    if times:
        for name, at in times.items():
            check_plausible(f"changes.{name}", at, member["recorded_at"])
    return row[1], row[0], changes, None


_TARGETS: dict[
    str,
    Callable[[psycopg.AsyncConnection[Any], int, dict[str, Any], Principal], Awaitable[Target]],
] = {"entry": _entry, "sample": _sample, "result": _result, "crew": _crew}


async def insert_amendment(
    conn: psycopg.AsyncConnection[Any],
    target: str,
    target_id: int,
    changes: dict[str, Any],
    reason: str,
    person_id: int,
    after_signing: bool,
    key: RequestKey | None = None,
) -> Made:
    """The amendment row alone: no checks, no audit (``amend`` adds them)."""
    row = {
        "target": target,
        "target_id": target_id,
        "changes": Jsonb(changes),
        "reason": reason,
        "after_signing": after_signing,
    }
    return await insert_once(conn, "amendments", row, person_id, key)


async def amend(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    target: str,
    target_id: int,
    changes: dict[str, Any],
    reason: str,
    key: RequestKey,
    ranges: RangeSource | None = None,
    plausibility: Confirmation | None = None,
) -> Made:
    """Amends a record whose changed fields ``logbook.amend.check_fields`` allowed.

    A number it changes is judged by the site's ``ranges`` as a new record's is, its
    ``plausibility`` confirmation recorded with the record and this amendment. An
    amendment to a record on a signed shift is accepted and marked as made after
    signing.
    """
    seen = await already_made(conn, "amendments", user.id, key)
    if seen:
        return seen
    site_id, shift_id, stored, values = await _TARGETS[target](conn, target_id, changes, user)
    confirmed = await check_values(conn, ranges, site_id, values, plausibility) if values else []
    after_signing = False
    if shift_id is not None:
        # Shares the shift row with other additions; signing takes it exclusively,
        # so after_signing is exact.
        state = await store.shift_state(conn, shift_id, "share")
        after_signing = bool(state and state.signed)
    made = await insert_amendment(
        conn, target, target_id, stored, reason, user.id, after_signing, key
    )
    if not made.replayed:
        detail: dict[str, Any] = {
            "amendment_id": made.id,
            "changes": stored,
            "reason": reason,
            "after_signing": after_signing,
        }
        if confirmed:
            assert plausibility is not None
            confirmations = await record_confirmations(
                conn,
                user.id,
                confirmed,
                plausibility.reason,
                entry_id=target_id if target == "entry" else None,
                result_id=target_id if target == "result" else None,
                amendment_id=made.id,
            )
            detail["plausibility"] = audited(confirmations)
        await audit.append(conn, user.actor, "amendment.create", target, target_id, site_id, detail)
    return made

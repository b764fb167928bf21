"""Entries: a typed record of what happened on an open shift, with its reactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from clearwell import hooks
from clearwell.authorize import require
from clearwell.web import invalid
from logbook import audit, kinds, store
from logbook.auth.sessions import Principal
from logbook.plausibility import Confirmation, entry_values
from logbook.write.idempotency import Made, RequestKey, check_replay, insert_once
from logbook.write.plausibility import RangeSource, audited, check_values, record_confirmations
from logbook.write.rules import CLOCK_SKEW, check_open


async def insert_entry(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    shift_id: int,
    kind: str,
    data: dict[str, Any],
    occurred_at: datetime,
    recorded_at: datetime,
    person_id: int,
    by_trainee: bool = False,
    event_id: int | None = None,
    key: RequestKey | None = None,
) -> Made:
    """The entry row alone: no checks, no reactions, no audit (``record_entry`` adds them)."""
    row = {
        "site_id": site_id,
        "shift_id": shift_id,
        "kind": kind,
        "data": Jsonb(data),
        "operational": kinds.is_operational(kind),
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "by_trainee": by_trainee,
        "event_id": event_id,
    }
    return await insert_once(conn, "entries", row, person_id, key)


async def _check_links(
    conn: psycopg.AsyncConnection[Any], data: BaseModel, site_id: int
) -> str | None:
    """A reading's tag and an acknowledged alarm are the shift's facility's; returns the
    name of the reading's tag, whose range judges its value."""
    if isinstance(data, kinds.Reading) and data.tag_id is not None:
        cur = await conn.execute(
            "SELECT name FROM tags WHERE id = %s AND site_id = %s", (data.tag_id, site_id)
        )
        row = await cur.fetchone()
        if row is None:
            raise invalid("data.tag_id", f"no tag {data.tag_id} at this shift's facility")
        return str(row[0])
    if isinstance(data, kinds.AlarmAck):
        cur = await conn.execute(
            "SELECT 1 FROM events WHERE id = %s AND site_id = %s", (data.event_id, site_id)
        )
        if await cur.fetchone() is None:
            raise invalid("data.event_id", f"no event {data.event_id} at this shift's facility")
    return None


async def record_entry(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    shift_id: int,
    kind: str,
    data: BaseModel,
    occurred_at: datetime | None,
    recorded_at: datetime,
    key: RequestKey,
    ranges: RangeSource | None = None,
    plausibility: Confirmation | None = None,
) -> tuple[Made, dict[str, Any] | None]:
    """Records an entry of ``kind`` (``data``: its fields, validated) on an open shift.

    Its numbers are judged by the site's ``ranges``: out of an instrument range is
    refused, out of a plausible range needs the person's ``plausibility`` confirmation,
    recorded with the entry. Returns the entry as ``store.entry`` reads it: as just
    written, without a second read, or as made earlier when the client key replays a
    request.
    """
    occurred = occurred_at or recorded_at
    target = await store.entry_target(conn, shift_id, user.id, key.value)
    if target.seen_id is not None:
        check_replay(target.seen_sha, key.sha)
        return Made(target.seen_id, replayed=True), await store.entry(conn, target.seen_id)
    state = target.shift
    if state is None:
        raise invalid("shift_id", f"no shift with id {shift_id}")
    require(user, "entry.create", state.site_id, subject="shift", subject_id=state.id)
    check_open(state)
    if occurred > recorded_at + CLOCK_SKEW:
        raise invalid("occurred_at", "is in the future")
    if occurred < recorded_at - target.backdate_limit:
        hours = target.backdate_limit.total_seconds() / 3600
        raise invalid(
            "occurred_at", f"is more than {hours:g} h before now, the limit this site sets"
        )
    tag_name = await _check_links(conn, data, state.site_id)
    event_id = int(data.event_id) if isinstance(data, kinds.AlarmAck) else None
    fields = data.model_dump(mode="json")
    confirmed = await check_values(
        conn,
        ranges,
        state.site_id,
        lambda site: entry_values(kind, fields, site, tag_name),
        plausibility,
    )
    by_trainee = user.role == "trainee"
    made = await insert_entry(
        conn,
        state.site_id,
        state.id,
        kind,
        fields,
        occurred,
        recorded_at,
        user.id,
        by_trainee,
        event_id,
        key,
    )
    if made.replayed:
        return made, await store.entry(conn, made.id)
    # Compliance stamps who was on duty, in this transaction (clearwell.hooks says why).
    for hook in hooks.entries_written():
        await hook(conn, [made.id])
    detail: dict[str, Any] = {
        "shift_id": state.id,
        "kind": kind,
        "data": fields,
        "occurred_at": occurred,
    }
    confirmations = []
    if confirmed:
        assert plausibility is not None
        confirmations = await record_confirmations(
            conn, user.id, confirmed, plausibility.reason, entry_id=made.id
        )
        detail["plausibility"] = audited(confirmations)
    await audit.append(conn, user.actor, "entry.create", "entry", made.id, state.site_id, detail)
    created = store.new_entry(
        made.id,
        state,
        kind,
        fields,
        kinds.is_operational(kind),
        occurred,
        recorded_at,
        user.id,
        by_trainee,
        event_id,
    )
    created["plausibility"] = confirmations
    return made, created

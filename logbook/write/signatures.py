"""Signatures: a shift signed by an operator who worked it, and a trainee's entry
countersigned by a certified operator on duty; each re-enters their password (or, to
countersign at a floor terminal, confirms who they are with their PIN or password)."""

from __future__ import annotations

from typing import Any

import psycopg

from clearwell.web import Denied, conflict
from logbook import audit, store
from logbook.auth.sessions import Principal, check_secret, current_secret_hash
from logbook.canonical import content_hash
from logbook.store import ShiftState
from logbook.write.rules import check_open, check_site

# Who may sign a shift or countersign an entry, besides being on its crew.
SIGNERS = ("operator", "chief_operator")


async def _on_crew(conn: psycopg.AsyncConnection[Any], shift_id: int, person_id: int) -> bool:
    """Whether the person is on the shift's crew other than as a trainee."""
    cur = await conn.execute(
        "SELECT 1 FROM shift_crew WHERE shift_id = %s AND person_id = %s"
        " AND shift_role <> 'trainee'",
        (shift_id, person_id),
    )
    return await cur.fetchone() is not None


async def sign_shift(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    state: ShiftState,
    password: str,
    meaning: str,
) -> None:
    """Signs a closed shift (``state`` locked for update), binding the sha256 of its
    content at this moment; the shift is then frozen."""
    check_site(user, state.site_id)
    if not await _on_crew(conn, state.id, user.id) or user.role not in SIGNERS:
        raise Denied(
            "only an operator who worked this shift may sign it",
            "shift",
            state.id,
            state.site_id,
        )
    if state.closed_at is None:
        raise conflict(f"shift {state.id} is still open; close it before signing")
    cur = await conn.execute(
        "SELECT e.id FROM entries e WHERE e.shift_id = %s AND e.by_trainee AND NOT EXISTS"
        " (SELECT 1 FROM entry_countersignatures c WHERE c.entry_id = e.id) ORDER BY e.id",
        (state.id,),
    )
    pending = [r[0] for r in await cur.fetchall()]
    if pending:
        raise conflict(
            "trainee entries need a countersignature before signing: "
            + ", ".join(map(str, pending))
        )
    if not await check_secret(await current_secret_hash(conn, user.id), password):
        raise Denied(
            "the password does not match; the shift is not signed",
            "shift",
            state.id,
            state.site_id,
        )
    digest = await store.content_hash(conn, state)
    cur = await conn.execute(
        "INSERT INTO shift_signatures (shift_id, person_id, content_sha256, meaning)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
        (state.id, user.id, digest, meaning),
    )
    row = await cur.fetchone()
    if row is None:
        raise conflict(f"you have already signed shift {state.id}")
    await audit.append(
        conn,
        user.actor,
        "shift.sign",
        "shift",
        state.id,
        state.site_id,
        {"content_sha256": digest, "signature_id": row[0], "meaning": meaning},
    )


async def countersign(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    entry: dict[str, Any],
    state: ShiftState,
    password: str,
) -> None:
    """Countersigns a trainee's ``entry`` (as ``store.entry`` reads it) on the shift
    ``state`` (share-locked), binding the sha256 of the entry as recorded; the
    countersigner re-enters their password."""
    await check_countersigner(conn, user, entry, state)
    if not await check_secret(await current_secret_hash(conn, user.id), password):
        raise Denied(
            "the password does not match; not countersigned", "entry", entry["id"], state.site_id
        )
    await _insert_countersignature(conn, user, entry, state)


async def record_countersignature(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    entry: dict[str, Any],
    state: ShiftState,
) -> None:
    """Countersigns ``entry`` as ``user``, whose identity the caller confirmed (their PIN
    or password at a floor terminal, ``sessions.confirm_identity``): ``countersign``'s
    rules without its password."""
    await check_countersigner(conn, user, entry, state)
    await _insert_countersignature(conn, user, entry, state)


async def check_countersigner(
    conn: psycopg.AsyncConnection[Any], user: Principal, entry: dict[str, Any], state: ShiftState
) -> None:
    """The logbook's rules on who countersigns what: a trainee's entry, on a shift not yet
    signed, by an operator or chief operator on its crew other than as a trainee."""
    check_site(user, state.site_id)
    if not entry["by_trainee"]:
        raise conflict(f"entry {entry['id']} is not a trainee's entry")
    if state.signed:
        check_open(state)
    if user.role not in SIGNERS or not await _on_crew(conn, state.id, user.id):
        raise Denied(
            "only an operator on duty on this shift may countersign",
            "entry",
            entry["id"],
            state.site_id,
        )


async def _insert_countersignature(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    entry: dict[str, Any],
    state: ShiftState,
) -> None:
    digest = content_hash(
        {k: entry[k] for k in ("id", "kind", "data", "occurred_at", "recorded_by")}
    )
    cur = await conn.execute(
        "INSERT INTO entry_countersignatures (entry_id, person_id, content_sha256)"
        " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING entry_id",
        (entry["id"], user.id, digest),
    )
    if await cur.fetchone() is None:
        raise conflict(f"entry {entry['id']} is already countersigned")
    await audit.append(
        conn,
        user.actor,
        "entry.countersign",
        "entry",
        entry["id"],
        state.site_id,
        {"content_sha256": digest},
    )

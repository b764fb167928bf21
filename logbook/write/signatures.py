"""Signatures: a shift signed by an operator who worked it, a trainee's entry
countersigned by a certified operator on duty, and a sample's collection or one of its
results verified by an operator who did not take, analyse or record it. Each signer has
proved who they are just before, in a transaction of its own so that a wrong password
counts against its limits (``sessions.reenter_password``; at a floor terminal,
``sessions.confirm_identity`` with their PIN or password): the functions here take the
signer as confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from clearwell.authorize import require
from clearwell.web import Denied, conflict, invalid
from logbook import audit, store
from logbook.auth.sessions import Principal
from logbook.canonical import content_hash
from logbook.samples import ResultFields, SampleFields
from logbook.store import ShiftState
from logbook.write.rules import check_open


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
    meaning: str,
) -> None:
    """Signs a closed shift (``state`` locked for update), binding the sha256 of its
    content at this moment; the shift is then frozen."""
    require(user, "shift.sign", state.site_id, subject="shift", subject_id=state.id)
    if not await _on_crew(conn, state.id, user.id):
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
    digest = await store.content_hash(conn, state)
    signature_id = await insert_signature(conn, state.id, user.id, digest, meaning)
    if signature_id is None:
        raise conflict(f"you have already signed shift {state.id}")
    await audit.append(
        conn,
        user.actor,
        "shift.sign",
        "shift",
        state.id,
        state.site_id,
        {"content_sha256": digest, "signature_id": signature_id, "meaning": meaning},
    )


async def insert_signature(
    conn: psycopg.AsyncConnection[Any],
    shift_id: int,
    person_id: int,
    digest: str,
    meaning: str,
    signed_at: datetime | None = None,
) -> int | None:
    """The signature row alone (``sign_shift`` checks and audits); its id, or None if the
    person already signed the shift. ``signed_at`` None: the database's clock."""
    cur = await conn.execute(
        "INSERT INTO shift_signatures (shift_id, person_id, content_sha256, meaning, signed_at)"
        " VALUES (%s, %s, %s, %s, coalesce(%s, clock_timestamp()))"
        " ON CONFLICT DO NOTHING RETURNING id",
        (shift_id, person_id, digest, meaning, signed_at),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else None


async def countersign(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    entry: dict[str, Any],
    state: ShiftState,
) -> None:
    """Countersigns ``entry`` (as ``store.entry`` reads it) on the shift ``state``
    (share-locked) as ``user``, whose identity the caller confirmed, binding the sha256 of
    the entry as recorded."""
    await check_countersigner(conn, user, entry, state)
    await _countersign(conn, user, entry, state)


async def check_countersigner(
    conn: psycopg.AsyncConnection[Any], user: Principal, entry: dict[str, Any], state: ShiftState
) -> None:
    """The logbook's rules on who countersigns what: someone else's entry, on a shift not yet
    signed, by an operator or chief operator on its crew other than as a trainee.

    Not only a trainee's: the site's competency policy (compliance) may want anyone's
    entry verified (a person with no level on record counts as emerging), and whether a
    verification was needed, and by someone qualified, is compliance's judgement. A
    trainee's entries are the ones the logbook itself holds a signature for."""
    require(user, "entry.countersign", state.site_id, subject="entry", subject_id=entry["id"])
    if entry["recorded_by"] == user.id:
        raise Denied("nobody countersigns their own entry", "entry", entry["id"], state.site_id)
    if state.signed:
        check_open(state)
    if not await _on_crew(conn, state.id, user.id):
        raise Denied(
            "only an operator on duty on this shift may countersign",
            "entry",
            entry["id"],
            state.site_id,
        )


async def _countersign(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    entry: dict[str, Any],
    state: ShiftState,
) -> None:
    digest = entry_digest(entry)
    if not await insert_countersignature(conn, entry["id"], user.id, digest):
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


def entry_digest(entry: dict[str, Any]) -> str:
    """The sha256 a countersignature binds: the entry as recorded (``store.entry``)."""
    return content_hash({k: entry[k] for k in ("id", "kind", "data", "occurred_at", "recorded_by")})


async def insert_countersignature(
    conn: psycopg.AsyncConnection[Any],
    entry_id: int,
    person_id: int,
    digest: str,
    signed_at: datetime | None = None,
) -> bool:
    """The countersignature row alone (``countersign`` checks and audits); False if the
    entry already has one. ``signed_at`` None: the database's clock."""
    cur = await conn.execute(
        "INSERT INTO entry_countersignatures (entry_id, person_id, content_sha256, signed_at)"
        " VALUES (%s, %s, %s, coalesce(%s, clock_timestamp()))"
        " ON CONFLICT DO NOTHING RETURNING entry_id",
        (entry_id, person_id, digest, signed_at),
    )
    return await cur.fetchone() is not None


_SAMPLE_SIGNED = ("id", *SampleFields.model_fields, "sampled_by", "recorded_by")
_RESULT_SIGNED = ("id", "sample_id", *ResultFields.model_fields, "recorded_by")
_VERIFIED = {
    "sample": ("sample_countersignatures", "sample_id"),
    "result": ("result_countersignatures", "result_id"),
}


@dataclass(frozen=True)
class SampleRecord:
    """What a sample's verification binds: the sample's collection, or one result."""

    subject: str  # "sample" or "result"
    ident: int
    digest: str
    authors: frozenset[int]  # who may not verify it: samplers, analyst, recorder


def sample_record(sample: dict[str, Any], result_id: int | None) -> SampleRecord:
    """``sample`` as ``store.one_sample`` reads it; with ``result_id`` one of its results."""
    if result_id is None:
        record = {k: sample[k] for k in _SAMPLE_SIGNED}
        authors = {*sample["sampled_by"], sample["recorded_by"]}
        return SampleRecord("sample", sample["id"], content_hash(record), frozenset(authors))
    result = next((r for r in sample["results"] if r["id"] == result_id), None)
    if result is None:
        raise invalid("result_id", f"sample {sample['id']} has no result {result_id}")
    record = {k: result[k] for k in _RESULT_SIGNED}
    authors = {result["analyst_id"], result["recorded_by"]}
    return SampleRecord("result", result_id, content_hash(record), frozenset(authors))


async def insert_sample_countersignature(
    conn: psycopg.AsyncConnection[Any],
    record: SampleRecord,
    person_id: int,
    signed_at: datetime | None = None,
) -> bool:
    """The verification row alone (``countersign_sample`` checks and audits); False if the
    record already has one. ``signed_at`` None: the database's clock."""
    table, key = _VERIFIED[record.subject]
    cur = await conn.execute(
        sql.SQL(
            "INSERT INTO {} ({}, person_id, content_sha256, signed_at)"
            " VALUES (%s, %s, %s, coalesce(%s, clock_timestamp()))"
            " ON CONFLICT DO NOTHING RETURNING 1"
        ).format(sql.Identifier(table), sql.Identifier(key)),
        (record.ident, person_id, record.digest, signed_at),
    )
    return await cur.fetchone() is not None


async def countersign_sample(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    sample: dict[str, Any],
    result_id: int | None,
) -> None:
    """Verifies ``sample`` (as ``store.one_sample`` reads it) as ``user``, whose identity
    the caller confirmed: its collection, or with ``result_id`` one of its results,
    binding the sha256 of that record as it reads now. As for an entry's countersignature,
    the verifier did not take, analyse or record what they verify.
    """
    site_id = sample["site_id"]
    require(user, "sample.countersign", site_id, subject="sample", subject_id=sample["id"])
    record = sample_record(sample, result_id)
    subject, ident = record.subject, record.ident
    if user.id in record.authors:
        raise Denied(
            f"the {subject}'s sampler, analyst or recorder does not countersign it",
            subject,
            ident,
            site_id,
        )
    if not await insert_sample_countersignature(conn, record, user.id):
        raise conflict(f"{subject} {ident} is already countersigned")
    await audit.append(
        conn,
        user.actor,
        f"{subject}.countersign",
        subject,
        ident,
        site_id,
        {"content_sha256": record.digest, "sample_id": sample["id"]},
    )

"""Samples, their chain of custody and their analytical results (40 CFR 122.41(j))."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel

from clearwell.authorize import require
from clearwell.web import invalid, invalid_many
from logbook import audit, store
from logbook.auth.sessions import Principal
from logbook.plausibility import Confirmation, result_values
from logbook.samples import (
    OLDEST_SAMPLE,
    SAMPLE_TIMES,
    TOO_OLD,
    CustodyFields,
    ResultFields,
    SampleFields,
    time_problems,
)
from logbook.write.idempotency import Made, RequestKey, already_made, insert_once
from logbook.write.plausibility import RangeSource, check_values, record_confirmations
from logbook.write.rules import CLOCK_SKEW, now


async def _people_exist(conn: psycopg.AsyncConnection[Any], ids: list[int], field: str) -> None:
    cur = await conn.execute("SELECT id FROM people WHERE id = ANY(%s)", (ids,))
    known = {r[0] for r in await cur.fetchall()}
    for i, pid in enumerate(ids):
        if pid not in known:
            raise invalid(f"{field}.{i}", f"no person with id {pid}")


def _fields(model: BaseModel, fields: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in fields.model_fields}


def check_times(
    times: dict[str, datetime | None], earliest: datetime, too_early: str, prefix: str = ""
) -> None:
    """A 422 naming each time given that is in the future or before ``earliest``."""
    problems = time_problems(times, earliest, now() + CLOCK_SKEW, too_early)
    if problems:
        raise invalid_many([(prefix + f, why) for f, why in problems])


async def insert_custody(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    sample_id: int,
    custody: CustodyFields,
    key: RequestKey | None = None,
) -> Made:
    row = {"sample_id": sample_id, **_fields(custody, CustodyFields)}
    return await insert_once(conn, "custody_transfers", row, user.id, key)


async def create_sample(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    site_id: int,
    site_code: str,
    shift_id: int | None,
    fields: SampleFields,
    sampled_by: list[int],
    custody: Sequence[CustodyFields],
    sent: dict[str, Any],
    key: RequestKey,
) -> Made:
    """Records a sample taken at a site (on a shift there, if named), who took it and
    its first hand-overs; ``sent`` is the request as sent, for the audit log. Its times
    are at most ``OLDEST_SAMPLE`` ago, its hand-overs after it was taken."""
    require(user, "sample.create", site_id)
    check_times({f: getattr(fields, f) for f in SAMPLE_TIMES}, now() - OLDEST_SAMPLE, TOO_OLD)
    for i, c in enumerate(custody):
        check_times(
            {"at": c.at}, fields.sampled_at, "is before the sample was taken", f"custody.{i}."
        )
    if shift_id is not None:
        state = await store.shift_state(conn, shift_id)
        if state is None or state.site_id != site_id:
            raise invalid("shift_id", f"no shift {shift_id} at site {site_code}")
    await _people_exist(conn, sampled_by, "sampled_by")
    row = {"site_id": site_id, "shift_id": shift_id, **_fields(fields, SampleFields)}
    made = await insert_once(conn, "samples", row, user.id, key)
    if made.replayed:
        return made
    for pid in sorted(set(sampled_by)):
        await conn.execute(
            "INSERT INTO sample_samplers (sample_id, person_id) VALUES (%s, %s)",
            (made.id, pid),
        )
    for c in custody:
        await insert_custody(conn, user, made.id, c)
    await audit.append(conn, user.actor, "sample.create", "sample", made.id, site_id, sent)
    return made


async def add_custody(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    sample: dict[str, Any],
    custody: CustodyFields,
    sent: dict[str, Any],
    key: RequestKey,
) -> Made:
    """Records a hand-over of ``sample`` (as ``store.one_sample`` reads it)."""
    require(user, "sample.create", sample["site_id"], subject="sample", subject_id=sample["id"])
    seen = await already_made(conn, "custody_transfers", user.id, key)
    if seen:
        return seen
    check_times({"at": custody.at}, sample["sampled_at"], "is before the sample was taken")
    made = await insert_custody(conn, user, sample["id"], custody, key)
    if not made.replayed:
        await audit.append(
            conn, user.actor, "sample.custody", "sample", sample["id"], sample["site_id"], sent
        )
    return made


async def add_result(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    sample: dict[str, Any],
    result: ResultFields,
    sent: dict[str, Any],
    key: RequestKey,
    ranges: RangeSource | None = None,
    plausibility: Confirmation | None = None,
) -> Made:
    """Records one analyte's result on ``sample`` (as ``store.one_sample`` reads it).

    Its value is judged by the site's ``ranges`` for its analyte, as an entry's numbers
    are (``logbook.write.entries.record_entry``).
    """
    require(user, "sample.create", sample["site_id"], subject="sample", subject_id=sample["id"])
    seen = await already_made(conn, "sample_results", user.id, key)
    if seen:
        return seen
    check_times(
        {"analyzed_at": result.analyzed_at}, sample["sampled_at"], "is before the sample was taken"
    )
    if result.analyst_id is not None:
        await _people_exist(conn, [result.analyst_id], "analyst_id")
    confirmed = await check_values(
        conn,
        ranges,
        sample["site_id"],
        lambda site: result_values(result.analyte, result.value, site),
        plausibility,
    )
    row = {"sample_id": sample["id"], **_fields(result, ResultFields)}
    made = await insert_once(conn, "sample_results", row, user.id, key)
    if not made.replayed:
        if confirmed:
            assert plausibility is not None
            await record_confirmations(
                conn, user.id, confirmed, plausibility.reason, result_id=made.id
            )
        await audit.append(
            conn,
            user.actor,
            "result.create",
            "result",
            made.id,
            sample["site_id"],
            {"sample_id": sample["id"], **sent},
        )
    return made

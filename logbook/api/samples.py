"""Samples, chain of custody and analytical results (40 CFR 122.41(j))."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from psycopg import sql
from pydantic import BaseModel, Field

from clearwell.web import invalid, json_response, not_found, transaction
from logbook import audit, store
from logbook.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    REPLAY,
    already_made,
    check_replay,
    check_site,
    client_key,
    decode_cursor,
    encode_cursor,
    request_sha,
    site_id_for,
)
from logbook.auth.deps import CurrentUser, Writer
from logbook.samples import CustodyFields, ResultFields, SampleFields

router = APIRouter(prefix="/api", tags=["samples"])

ClientKey = Annotated[str, Field(min_length=1, max_length=200)]


class SampleIn(SampleFields):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    shift_id: int | None = None
    sampled_by: list[int] = Field(min_length=1, max_length=20, description="person ids")
    custody: list[CustodyFields] = Field(default_factory=list, max_length=50)
    client_key: ClientKey | None = None


class CustodyIn(CustodyFields):
    client_key: ClientKey | None = None


class ResultIn(ResultFields):
    client_key: ClientKey | None = None


class ResultOut(ResultFields):
    id: int
    sample_id: int
    recorded_at: datetime
    recorded_by: int
    amended: bool
    original: dict[str, Any] | None
    history: list[dict[str, Any]]


class SampleOut(SampleFields):
    id: int
    site_id: int
    shift_id: int | None
    sampled_by: list[int]
    recorded_at: datetime
    recorded_by: int
    custody: list[dict[str, Any]]
    results: list[ResultOut]
    amended: bool
    original: dict[str, Any] | None
    history: list[dict[str, Any]]


class SamplePage(BaseModel):
    items: list[SampleOut]
    next_cursor: str | None


async def _people_exist(conn: Any, ids: list[int], field: str) -> None:
    cur = await conn.execute("SELECT id FROM people WHERE id = ANY(%s)", (ids,))
    known = {r[0] for r in await cur.fetchall()}
    for i, pid in enumerate(ids):
        if pid not in known:
            raise invalid(f"{field}.{i}", f"no person with id {pid}")


async def _custody(
    conn: Any,
    user: Any,
    sample_id: int,
    c: CustodyFields,
    key: str | None = None,
    sha: str | None = None,
) -> bool:
    """Whether the hand-over was recorded (False: a concurrent request with its key was)."""
    cur = await conn.execute(
        "INSERT INTO custody_transfers (sample_id, relinquished_by, received_by, at, condition,"
        " temperature_c, recorded_by, client_key, request_sha)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (recorded_by, client_key) DO NOTHING RETURNING id",
        (
            sample_id,
            c.relinquished_by,
            c.received_by,
            c.at,
            c.condition,
            c.temperature_c,
            user.id,
            key,
            sha,
        ),
    )
    return await cur.fetchone() is not None


@router.post("/samples", status_code=201, response_model=SampleOut, responses={409: {}})
async def create_sample(body: SampleIn, user: Writer, request: Request) -> object:
    """Record a sample: place, time, grab or composite window, who sampled, custody."""
    key = client_key(request, body.client_key)
    sha = request_sha(body)
    async with transaction(request, user) as conn:
        site_id = await site_id_for(conn, body.site)
        check_site(user, site_id)
        if body.shift_id is not None:
            state = await store.shift_state(conn, body.shift_id)
            if state is None or state.site_id != site_id:
                raise invalid("shift_id", f"no shift {body.shift_id} at site {body.site}")
        await _people_exist(conn, body.sampled_by, "sampled_by")
        cur = await conn.execute(
            "INSERT INTO samples (site_id, shift_id, sample_point, sample_type, sampled_at,"
            " composite_start, composite_end, composite_kind, container, preservation, notes,"
            " recorded_by, client_key, request_sha)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (recorded_by, client_key) DO NOTHING RETURNING id",
            (
                site_id,
                body.shift_id,
                body.sample_point,
                body.sample_type,
                body.sampled_at,
                body.composite_start,
                body.composite_end,
                body.composite_kind,
                body.container,
                body.preservation,
                body.notes,
                user.id,
                key,
                sha,
            ),
        )
        row = await cur.fetchone()
        if row is None:
            cur = await conn.execute(
                "SELECT id, request_sha FROM samples WHERE recorded_by = %s AND client_key = %s",
                (user.id, key),
            )
            seen = await cur.fetchone()
            assert seen is not None
            check_replay(seen[1], sha)
            return json_response(
                await store.one_sample(conn, seen[0]), 201, {"Idempotent-Replay": "true"}
            )
        sample_id = row[0]
        for pid in sorted(set(body.sampled_by)):
            await conn.execute(
                "INSERT INTO sample_samplers (sample_id, person_id) VALUES (%s, %s)",
                (sample_id, pid),
            )
        for c in body.custody:
            await _custody(conn, user, sample_id, c)
        await audit.append(
            conn,
            user.actor,
            "sample.create",
            "sample",
            sample_id,
            site_id,
            body.model_dump(mode="json", exclude={"client_key"}),
        )
        return json_response(await store.one_sample(conn, sample_id), 201)


@router.post(
    "/samples/{sample_id}/custody", status_code=201, response_model=SampleOut, responses={404: {}}
)
async def add_custody(sample_id: int, body: CustodyIn, user: Writer, request: Request) -> object:
    """Record a hand-over in the sample's chain of custody."""
    key = client_key(request, body.client_key)
    sha = request_sha(body, sample_id=sample_id)
    async with transaction(request, user) as conn:
        found = await store.one_sample(conn, sample_id)
        if found is None:
            raise not_found("sample", sample_id)
        check_site(user, found["site_id"])
        if await already_made(conn, "custody_transfers", "recorded_by", user.id, key, sha):
            return json_response(found, 201, REPLAY)
        if body.at < found["sampled_at"]:
            raise invalid("at", "is before the sample was taken")
        if not await _custody(conn, user, sample_id, body, key, sha):
            await already_made(conn, "custody_transfers", "recorded_by", user.id, key, sha)
            return json_response(await store.one_sample(conn, sample_id), 201, REPLAY)
        await audit.append(
            conn,
            user.actor,
            "sample.custody",
            "sample",
            sample_id,
            found["site_id"],
            body.model_dump(mode="json", exclude={"client_key"}),
        )
        return json_response(await store.one_sample(conn, sample_id), 201)


@router.post(
    "/samples/{sample_id}/results",
    status_code=201,
    response_model=SampleOut,
    responses={404: {}, 409: {}},
)
async def add_result(sample_id: int, body: ResultIn, user: Writer, request: Request) -> object:
    """Record one analyte's result: method, date and analyst, value, qualifier and DL."""
    key = client_key(request, body.client_key)
    sha = request_sha(body, sample_id=sample_id)
    async with transaction(request, user) as conn:
        found = await store.one_sample(conn, sample_id)
        if found is None:
            raise not_found("sample", sample_id)
        check_site(user, found["site_id"])
        if body.analyzed_at < found["sampled_at"]:
            raise invalid("analyzed_at", "is before the sample was taken")
        if body.analyst_id is not None:
            await _people_exist(conn, [body.analyst_id], "analyst_id")
        cur = await conn.execute(
            "INSERT INTO sample_results (sample_id, analyte, parameter_code, method, analyzed_at,"
            " analyst_id, analyst_name, lab, value, unit, qualifier, detection_limit,"
            " recorded_by, client_key, request_sha)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (recorded_by, client_key) DO NOTHING RETURNING id",
            (
                sample_id,
                body.analyte,
                body.parameter_code,
                body.method,
                body.analyzed_at,
                body.analyst_id,
                body.analyst_name,
                body.lab,
                body.value,
                body.unit,
                body.qualifier,
                body.detection_limit,
                user.id,
                key,
                sha,
            ),
        )
        row = await cur.fetchone()
        if row is None:
            cur = await conn.execute(
                "SELECT request_sha FROM sample_results WHERE recorded_by = %s AND client_key = %s",
                (user.id, key),
            )
            seen = await cur.fetchone()
            assert seen is not None
            check_replay(seen[0], sha)
            return json_response(found, 201, {"Idempotent-Replay": "true"})
        await audit.append(
            conn,
            user.actor,
            "result.create",
            "result",
            row[0],
            found["site_id"],
            {"sample_id": sample_id, **body.model_dump(mode="json", exclude={"client_key"})},
        )
        return json_response(await store.one_sample(conn, sample_id), 201)


@router.get("/samples", response_model=SamplePage)
async def list_samples(
    user: CurrentUser,
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[datetime | None, Query(alias="from", description="sampled_at >=")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="sampled_at <")] = None,
    person: Annotated[int | None, Query(description="a sampler's person id")] = None,
    sample_point: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    clauses: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    async with transaction(request, user) as conn:
        if site is not None:
            clauses.append(sql.SQL("site_id = %s"))
            params.append(await site_id_for(conn, site))
        if start is not None:
            clauses.append(sql.SQL("sampled_at >= %s"))
            params.append(start)
        if end is not None:
            clauses.append(sql.SQL("sampled_at < %s"))
            params.append(end)
        if person is not None:
            clauses.append(
                sql.SQL("id IN (SELECT sample_id FROM sample_samplers WHERE person_id = %s)")
            )
            params.append(person)
        if sample_point is not None:
            clauses.append(sql.SQL("sample_point = %s"))
            params.append(sample_point)
        if cursor:
            at, ident = decode_cursor(cursor)
            clauses.append(sql.SQL("(sampled_at, id) > (%s, %s)"))
            params += [at, ident]
        items = await store.load_samples(conn, sql.SQL(" AND ").join(clauses), params, limit + 1)
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor(
            last["sampled_at"] if last["original"] is None else last["original"]["sampled_at"],
            last["id"],
        )
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/samples/{sample_id}", response_model=SampleOut, responses={404: {}})
async def get_sample(sample_id: int, user: CurrentUser, request: Request) -> object:
    async with transaction(request, user) as conn:
        found = await store.one_sample(conn, sample_id)
    if found is None:
        raise not_found("sample", sample_id)
    return json_response(found)

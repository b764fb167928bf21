"""Samples, chain of custody and analytical results (40 CFR 122.41(j))."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from psycopg import sql
from pydantic import BaseModel, Field

from clearwell.authorize import acting, require
from clearwell.params import Id
from clearwell.web import json_response, not_found, transaction
from logbook import store
from logbook.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    PLAUSIBILITY,
    REPLAY,
    ClientKey,
    PlausibilityOut,
    client_key,
    confirm_password,
    decode_cursor,
    encode_cursor,
    range_source,
    readable,
    site_id_for,
)
from logbook.auth.sessions import Principal
from logbook.plausibility import Confirmation
from logbook.samples import CustodyFields, ResultFields, SampleFields
from logbook.write import samples, signatures
from logbook.write.idempotency import request_detail

Recorder = Annotated[Principal, Depends(acting("sample.create"))]
Reader = Annotated[Principal, Depends(acting("sample.read"))]

router = APIRouter(prefix="/api", tags=["samples"])


class SampleIn(SampleFields):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    shift_id: Id | None = None
    sampled_by: list[Id] = Field(min_length=1, max_length=20, description="person ids")
    custody: list[CustodyFields] = Field(default_factory=list, max_length=50)
    client_key: ClientKey | None = None


class CustodyIn(CustodyFields):
    client_key: ClientKey | None = None


class ResultIn(ResultFields):
    client_key: ClientKey | None = None
    plausibility: Confirmation | None = PLAUSIBILITY


class CountersignIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    result_id: Id | None = Field(
        None, description="one of the sample's results (default: the sample's collection)"
    )


class ResultOut(ResultFields):
    id: int
    sample_id: int
    recorded_at: datetime
    recorded_by: int
    countersignature: dict[str, Any] | None
    amended: bool
    original: dict[str, Any] | None
    history: list[dict[str, Any]]
    plausibility: list[PlausibilityOut] = Field(
        description="values confirmed outside their plausible range, with why"
    )


class SampleOut(SampleFields):
    id: int
    site_id: int
    shift_id: int | None
    sampled_by: list[int]
    recorded_at: datetime
    recorded_by: int
    custody: list[dict[str, Any]]
    results: list[ResultOut]
    countersignature: dict[str, Any] | None
    amended: bool
    original: dict[str, Any] | None
    history: list[dict[str, Any]]


class SamplePage(BaseModel):
    items: list[SampleOut]
    next_cursor: str | None


@router.post("/samples", status_code=201, response_model=SampleOut, responses={409: {}})
async def create_sample(body: SampleIn, user: Recorder, request: Request) -> object:
    """Record a sample: place, time, grab or composite window, who sampled, custody."""
    key = client_key(request, body)
    async with transaction(request, user) as conn:
        site_id = await site_id_for(conn, body.site)
        made = await samples.create_sample(
            conn,
            user,
            site_id,
            body.site,
            body.shift_id,
            body,
            body.sampled_by,
            body.custody,
            request_detail(body),
            key,
        )
        found = await store.one_sample(conn, made.id)
        return json_response(found, 201, REPLAY if made.replayed else None)


@router.post(
    "/samples/{sample_id}/custody", status_code=201, response_model=SampleOut, responses={404: {}}
)
async def add_custody(sample_id: Id, body: CustodyIn, user: Recorder, request: Request) -> object:
    """Record a hand-over in the sample's chain of custody."""
    key = client_key(request, body, sample_id=sample_id)
    async with transaction(request, user) as conn:
        sample = await _existing_sample(conn, sample_id)
        made = await samples.add_custody(conn, user, sample, body, request_detail(body), key)
        found = await store.one_sample(conn, sample_id)
        return json_response(found, 201, REPLAY if made.replayed else None)


@router.post(
    "/samples/{sample_id}/results",
    status_code=201,
    response_model=SampleOut,
    responses={404: {}, 409: {}, 503: {"description": "the site's file is not valid"}},
)
async def add_result(sample_id: Id, body: ResultIn, user: Recorder, request: Request) -> object:
    """Record one analyte's result: method, date and analyst, value, qualifier and DL.

    A value outside the instrument range the site file sets for the analyte is refused
    (422, type ``instrument_range``); outside its plausible range it needs
    ``plausibility`` (422, type ``implausible``, without it).
    """
    key = client_key(request, body, sample_id=sample_id)
    async with transaction(request, user) as conn:
        sample = await _existing_sample(conn, sample_id)
        made = await samples.add_result(
            conn,
            user,
            sample,
            body,
            request_detail(body),
            key,
            range_source(request),
            body.plausibility,
        )
        found = await store.one_sample(conn, sample_id)
        return json_response(found, 201, REPLAY if made.replayed else None)


@router.post(
    "/samples/{sample_id}/countersign",
    status_code=201,
    response_model=SampleOut,
    responses={404: {}, 409: {}, 429: {"description": "too many wrong passwords"}},
)
async def countersign_sample(
    sample_id: Id,
    body: CountersignIn,
    user: Annotated[Principal, Depends(acting("sample.countersign"))],
    request: Request,
) -> object:
    """An operator who did not take, analyse or record it verifies the sample's collection
    (or one result, ``result_id``), re-entering their password, as for an entry."""
    await confirm_password(
        request, user, body.password, "the password does not match; not countersigned"
    )
    async with transaction(request, user) as conn:
        sample = await _existing_sample(conn, sample_id)
        await signatures.countersign_sample(conn, user, sample, body.result_id)
        return json_response(await store.one_sample(conn, sample_id), 201)


async def _existing_sample(conn: Any, sample_id: int) -> dict[str, Any]:
    found = await store.one_sample(conn, sample_id)
    if found is None:
        raise not_found("sample", sample_id)
    return found


@router.get("/samples", response_model=SamplePage)
async def list_samples(
    user: Reader,
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[datetime | None, Query(alias="from", description="sampled_at >=")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="sampled_at <")] = None,
    person: Annotated[Id | None, Query(description="a sampler's person id")] = None,
    sample_point: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    clauses: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    async with transaction(request, user) as conn:
        if site is not None:
            site_id = await site_id_for(conn, site)
            require(user, "sample.read", site_id)
            clauses.append(sql.SQL("site_id = %s"))
            params.append(site_id)
        if (sites := readable(user, "sample.read")) is not None:
            clauses.append(sql.SQL("site_id = ANY(%s)"))
            params.append(sites)
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
async def get_sample(sample_id: Id, user: Reader, request: Request) -> object:
    async with transaction(request, user) as conn:
        found = await store.one_sample(conn, sample_id)
        if found is None:
            raise not_found("sample", sample_id)
        require(user, "sample.read", found["site_id"], subject="sample", subject_id=sample_id)
    return json_response(found)

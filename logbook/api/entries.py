"""Entries: typed records of what happened on a shift, and trainee countersignatures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from psycopg import sql
from pydantic import BaseModel, Field

from clearwell.authorize import acting, require
from clearwell.jsontext import dumps
from clearwell.params import Id, Instant
from clearwell.web import invalid, invalid_many, json_response, not_found, transaction
from logbook import kinds, search, store
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
from logbook.write import entries, signatures
from logbook.write.rules import now

router = APIRouter(prefix="/api", tags=["entries"])


class _EntryIn(BaseModel):
    shift_id: Id
    occurred_at: Instant | None = Field(
        None, description="when it happened (default: now); may be earlier, within the site's limit"
    )
    client_key: ClientKey | None = Field(
        None, description="retries with the same key return the same record"
    )
    plausibility: Confirmation | None = PLAUSIBILITY


class ReadingIn(_EntryIn):
    kind: Literal["reading"]
    data: kinds.Reading


class ChemicalAdditionIn(_EntryIn):
    kind: Literal["chemical_addition"]
    data: kinds.ChemicalAddition


class ProcessAdjustmentIn(_EntryIn):
    kind: Literal["process_adjustment"]
    data: kinds.ProcessAdjustment


class MaintenanceIn(_EntryIn):
    kind: Literal["maintenance"]
    data: kinds.Maintenance


class InspectionIn(_EntryIn):
    kind: Literal["inspection"]
    data: kinds.Inspection


class CleaningIn(_EntryIn):
    kind: Literal["cleaning"]
    data: kinds.Cleaning


class AlarmAckIn(_EntryIn):
    kind: Literal["alarm_ack"]
    data: kinds.AlarmAck


class ObservationIn(_EntryIn):
    kind: Literal["observation"]
    data: kinds.Observation


class SafetyIn(_EntryIn):
    kind: Literal["safety"]
    data: kinds.Safety


class NoteIn(_EntryIn):
    kind: Literal["note"]
    data: kinds.Note


EntryIn = Annotated[
    ReadingIn
    | ChemicalAdditionIn
    | ProcessAdjustmentIn
    | MaintenanceIn
    | InspectionIn
    | CleaningIn
    | AlarmAckIn
    | ObservationIn
    | SafetyIn
    | NoteIn,
    Field(discriminator="kind"),
]


class CountersignIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class EntryOut(BaseModel):
    id: int
    site_id: int
    shift_id: int
    kind: str
    operational: bool
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: int
    by_trainee: bool
    event_id: int | None
    data: dict[str, Any] = Field(description="current values (amendments applied)")
    countersignature: dict[str, Any] | None
    needs_countersignature: bool
    staffing: dict[str, Any] | None = Field(description="compliance stamp, when made")
    amended: bool
    original: dict[str, Any] | None
    history: list[dict[str, Any]]
    plausibility: list[PlausibilityOut] = Field(
        description="values confirmed outside their plausible range, with why"
    )


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    responses={
        409: {"description": "shift closed or signed, or key reused"},
        503: {"description": "the site's file, which sets its ranges, is not valid"},
    },
)
async def create_entry(
    body: EntryIn, user: Annotated[Principal, Depends(acting("entry.create"))], request: Request
) -> object:
    """Record an entry on an open shift. Idempotent with ``Idempotency-Key`` or client_key.

    A number outside the instrument range the site file sets is refused (422, type
    ``instrument_range``); outside its plausible range it needs ``plausibility``
    (422, type ``implausible``, without it).
    """
    # The sha covers the request as sent, so a retry without occurred_at still matches.
    key = client_key(request, body)
    recorded = now()
    async with transaction(request, user) as conn:
        made, entry = await entries.record_entry(
            conn,
            user,
            body.shift_id,
            body.kind,
            body.data,
            body.occurred_at,
            recorded,
            key,
            range_source(request),
            body.plausibility,
        )
    return json_response(entry, 201, REPLAY if made.replayed else None)


# The listing's query parameters: any other is refused rather than silently ignored,
# so that a misspelt filter never answers the whole log.
LISTING_PARAMETERS = frozenset(
    {"site", "from", "to", "kind", "person", "tag", "shift_id", "operational", "q"}
    | {"limit", "cursor"}
)


@router.get("/entries", response_model=EntryPage)
async def list_entries(
    user: Annotated[Principal, Depends(acting("entry.read"))],
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[Instant | None, Query(alias="from", description="occurred_at >=")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="occurred_at <")] = None,
    kind: Annotated[list[str] | None, Query(description="one or more kinds")] = None,
    person: Annotated[Id | None, Query(description="recorded_by person id")] = None,
    tag: Annotated[
        Id | None,
        Query(description="tag id: readings of the tag (as recorded or amended), its alarms' acks"),
    ] = None,
    shift_id: Id | None = None,
    operational: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            description="text to search for: every word must begin a word of the entry or of"
            f" an amendment of it (its changes or reason); 1 to {search.MAX_QUERY} characters"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    """Entries in time order with their current values, history and countersignatures;
    with ``q``, those whose text (or an amendment's) has its words, in the same order; of
    the sites you may read."""
    unknown = sorted(set(request.query_params) - LISTING_PARAMETERS)
    if unknown:
        known = ", ".join(sorted(LISTING_PARAMETERS))
        raise invalid_many([(u, f"unknown parameter; known: {known}") for u in unknown], "query")
    clauses: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    for k in kind or []:
        if k not in kinds.KINDS:
            raise invalid("kind", f"unknown kind {k!r}", where="query")
    if q is not None:
        try:
            search.search_text(q)
        except search.SearchRefused as exc:
            raise invalid("q", str(exc), where="query") from None
    if tag is not None:
        about, tag_params = search.tag_clause(tag)
        clauses.append(about)
        params += tag_params
    async with transaction(request, user) as conn:
        if site is not None:
            site_id = await site_id_for(conn, site)
            require(user, "entry.read", site_id)
            clauses.append(sql.SQL("e.site_id = %s"))
            params.append(site_id)
        if (sites := readable(user, "entry.read")) is not None:
            clauses.append(sql.SQL("e.site_id = ANY(%s)"))
            params.append(sites)
        filters: list[tuple[str, Any]] = [
            ("e.occurred_at >= %s", start),
            ("e.occurred_at < %s", end),
            ("e.kind = ANY(%s)", kind or None),
            ("e.recorded_by = %s", person),
            ("e.shift_id = %s", shift_id),
            ("e.operational = %s", operational),
        ]
        for clause, value in filters:
            if value is not None:
                clauses.append(sql.SQL(clause))
                params.append(value)
        if cursor:
            at, ident = decode_cursor(cursor)
            clauses.append(sql.SQL("(e.occurred_at, e.id) > (%s, %s)"))
            params += [at, ident]
        where: sql.Composable = sql.SQL(" AND ").join(clauses)
        if q is not None:
            where, params = search.search_clause(q, where, params, limit + 1)
        texts, rows = await store.entries_json(conn, where, params, limit + 1)
    next_cursor = None
    if len(texts) > limit:
        texts = texts[:limit]
        next_cursor = encode_cursor(rows[limit - 1][1], rows[limit - 1][0])
    # The items are JSON already; only the envelope is written here.
    body = '{"items":[' + ",".join(texts) + '],"next_cursor":' + dumps(next_cursor) + "}"
    return Response(body.encode(), media_type="application/json")


@router.get("/entries/{entry_id}", response_model=EntryOut, responses={404: {}})
async def get_entry(
    entry_id: Id, user: Annotated[Principal, Depends(acting("entry.read"))], request: Request
) -> object:
    """An entry's current value and its full history of amendments."""
    async with transaction(request, user) as conn:
        found = await store.entry(conn, entry_id)
        if found is None:
            raise not_found("entry", entry_id)
        require(user, "entry.read", found["site_id"], subject="entry", subject_id=entry_id)
    return json_response(found)


@router.post(
    "/entries/{entry_id}/countersign",
    status_code=201,
    response_model=EntryOut,
    responses={404: {}, 409: {}, 429: {"description": "too many wrong passwords"}},
)
async def countersign(
    entry_id: Id,
    body: CountersignIn,
    user: Annotated[Principal, Depends(acting("entry.countersign"))],
    request: Request,
) -> object:
    """A certified operator on duty countersigns a trainee's entry, re-entering their
    password (counted and limited as a login)."""
    await confirm_password(
        request, user, body.password, "the password does not match; not countersigned"
    )
    async with transaction(request, user) as conn:
        found = await store.entry(conn, entry_id)
        if found is None:
            raise not_found("entry", entry_id)
        state = await store.shift_state(conn, found["shift_id"], "share")
        assert state is not None
        await signatures.countersign(conn, user, found, state)
        return json_response(await store.entry(conn, entry_id), 201)

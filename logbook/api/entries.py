"""Entries: typed records of what happened on a shift, and trainee countersignatures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, Field

from clearwell import hooks
from clearwell.jsontext import dumps
from clearwell.web import Denied, conflict, invalid, json_response, not_found, transaction
from logbook import audit, kinds, store
from logbook.api.common import (
    CLOCK_SKEW,
    DEFAULT_PAGE,
    MAX_PAGE,
    check_replay,
    check_site,
    client_key,
    decode_cursor,
    encode_cursor,
    now,
    request_sha,
    site_id_for,
)
from logbook.api.shifts import check_open
from logbook.auth.deps import CurrentUser, Writer
from logbook.auth.sessions import check_secret, current_secret_hash
from logbook.canonical import content_hash

router = APIRouter(prefix="/api", tags=["entries"])

ClientKey = Annotated[str, Field(min_length=1, max_length=200)]


class _EntryIn(BaseModel):
    shift_id: int
    occurred_at: AwareDatetime | None = Field(
        None, description="when it happened (default: now); may be earlier, within the site's limit"
    )
    client_key: ClientKey | None = Field(
        None, description="retries with the same key return the same record"
    )


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


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


async def _check_links(conn: Any, body: Any, site_id: int) -> int | None:
    """The alarm event an entry acknowledges, checked; and a reading's tag."""
    if body.kind == "reading" and body.data.tag_id is not None:
        cur = await conn.execute(
            "SELECT 1 FROM tags WHERE id = %s AND site_id = %s", (body.data.tag_id, site_id)
        )
        if await cur.fetchone() is None:
            raise invalid("data.tag_id", f"no tag {body.data.tag_id} at this shift's facility")
    if body.kind == "alarm_ack":
        event_id = int(body.data.event_id)
        cur = await conn.execute(
            "SELECT 1 FROM events WHERE id = %s AND site_id = %s", (event_id, site_id)
        )
        if await cur.fetchone() is None:
            raise invalid("data.event_id", f"no event {event_id} at this shift's facility")
        return event_id
    return None


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    responses={409: {"description": "shift closed or signed, or key reused"}},
)
async def create_entry(body: EntryIn, user: Writer, request: Request) -> object:
    """Record an entry on an open shift. Idempotent with ``Idempotency-Key`` or client_key."""
    key = client_key(request, body.client_key)
    recorded = now()
    occurred = body.occurred_at or recorded
    # The hash covers the request as sent, so a retry without occurred_at still matches.
    sha = request_sha(body)
    async with transaction(request, user) as conn:
        target = await store.entry_target(conn, body.shift_id, user.id, key)
        if target.seen_id is not None:
            check_replay(target.seen_sha, sha)
            return await _replay(conn, target.seen_id)
        state = target.shift
        if state is None:
            raise invalid("shift_id", f"no shift with id {body.shift_id}")
        check_site(user, state.site_id)
        check_open(state)
        if occurred > recorded + CLOCK_SKEW:
            raise invalid("occurred_at", "is in the future")
        if occurred < recorded - target.backdate_limit:
            hours = target.backdate_limit.total_seconds() / 3600
            raise invalid(
                "occurred_at", f"is more than {hours:g} h before now, the limit this site sets"
            )
        event_id = await _check_links(conn, body, state.site_id)
        data = body.data.model_dump(mode="json")
        operational = kinds.is_operational(body.kind)
        by_trainee = user.role == "trainee"
        cur = await conn.execute(
            "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
            " recorded_at, recorded_by, by_trainee, event_id, client_key, request_sha)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (recorded_by, client_key) DO NOTHING RETURNING id",
            (
                state.site_id,
                state.id,
                body.kind,
                _jsonb(data),
                operational,
                occurred,
                recorded,
                user.id,
                by_trainee,
                event_id,
                key,
                sha,
            ),
        )
        row = await cur.fetchone()
        if row is None:
            # A concurrent request with the same key won the insert; answer as it did.
            cur = await conn.execute(
                "SELECT id, request_sha FROM entries WHERE recorded_by = %s AND client_key = %s",
                (user.id, key),
            )
            seen = await cur.fetchone()
            assert seen is not None
            check_replay(seen[1], sha)
            return await _replay(conn, seen[0])
        # Compliance stamps who was on duty, in this transaction (clearwell.hooks says why).
        for hook in hooks.entries_written():
            await hook(conn, [row[0]])
        await audit.append(
            conn,
            user.actor,
            "entry.create",
            "entry",
            row[0],
            state.site_id,
            {"shift_id": state.id, "kind": body.kind, "data": data, "occurred_at": occurred},
        )
    created = store.new_entry(
        row[0],
        state,
        body.kind,
        data,
        operational,
        occurred,
        recorded,
        user.id,
        by_trainee,
        event_id,
    )
    return json_response(created, 201)


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


async def _replay(conn: Any, entry_id: int) -> object:
    found = await store.entry(conn, entry_id)
    return json_response(found, 201, {"Idempotent-Replay": "true"})


@router.get("/entries", response_model=EntryPage)
async def list_entries(
    user: CurrentUser,
    request: Request,
    site: Annotated[str | None, Query(description="site code")] = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="occurred_at >=")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="occurred_at <")] = None,
    kind: Annotated[list[str] | None, Query(description="one or more kinds")] = None,
    person: Annotated[int | None, Query(description="recorded_by person id")] = None,
    shift_id: int | None = None,
    operational: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: str | None = None,
) -> object:
    """Entries in time order with their current values, history and countersignatures."""
    clauses: list[sql.Composable] = [sql.SQL("true")]
    params: list[Any] = []
    for k in kind or []:
        if k not in kinds.KINDS:
            raise invalid("kind", f"unknown kind {k!r}", where="query")
    async with transaction(request, user) as conn:
        if site is not None:
            clauses.append(sql.SQL("e.site_id = %s"))
            params.append(await site_id_for(conn, site))
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
        texts, rows = await store.entries_json(
            conn, sql.SQL(" AND ").join(clauses), params, limit + 1
        )
    next_cursor = None
    if len(texts) > limit:
        texts = texts[:limit]
        next_cursor = encode_cursor(rows[limit - 1][1], rows[limit - 1][0])
    # The items are JSON already; only the envelope is written here.
    body = '{"items":[' + ",".join(texts) + '],"next_cursor":' + dumps(next_cursor) + "}"
    return Response(body.encode(), media_type="application/json")


@router.get("/entries/{entry_id}", response_model=EntryOut, responses={404: {}})
async def get_entry(entry_id: int, user: CurrentUser, request: Request) -> object:
    """An entry's current value and its full history of amendments."""
    async with transaction(request, user) as conn:
        found = await store.entry(conn, entry_id)
    if found is None:
        raise not_found("entry", entry_id)
    return json_response(found)


@router.post(
    "/entries/{entry_id}/countersign",
    status_code=201,
    response_model=EntryOut,
    responses={404: {}, 409: {}},
)
async def countersign(entry_id: int, body: CountersignIn, user: Writer, request: Request) -> object:
    """A certified operator on duty countersigns a trainee's entry, re-entering their password."""
    async with transaction(request, user) as conn:
        found = await store.entry(conn, entry_id)
        if found is None:
            raise not_found("entry", entry_id)
        state = await store.shift_state(conn, found["shift_id"], "share")
        assert state is not None
        check_site(user, state.site_id)
        if not found["by_trainee"]:
            raise conflict(f"entry {entry_id} is not a trainee's entry")
        if state.signed:
            check_open(state)
        cur = await conn.execute(
            "SELECT 1 FROM shift_crew WHERE shift_id = %s AND person_id = %s"
            " AND shift_role <> 'trainee'",
            (state.id, user.id),
        )
        on_duty = await cur.fetchone() is not None
        if user.role not in ("operator", "chief_operator") or not on_duty:
            raise Denied(
                "only an operator on duty on this shift may countersign",
                "entry",
                entry_id,
                state.site_id,
            )
        if not await check_secret(await current_secret_hash(conn, user.id), body.password):
            raise Denied(
                "the password does not match; not countersigned", "entry", entry_id, state.site_id
            )
        digest = content_hash(
            {k: found[k] for k in ("id", "kind", "data", "occurred_at", "recorded_by")}
        )
        cur = await conn.execute(
            "INSERT INTO entry_countersignatures (entry_id, person_id, content_sha256)"
            " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING entry_id",
            (entry_id, user.id, digest),
        )
        if await cur.fetchone() is None:
            raise conflict(f"entry {entry_id} is already countersigned")
        await audit.append(
            conn,
            user.actor,
            "entry.countersign",
            "entry",
            entry_id,
            state.site_id,
            {"content_sha256": digest},
        )
        return json_response(await store.entry(conn, entry_id), 201)

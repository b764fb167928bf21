"""Corrections, never edits: an amendment names a record, the new values and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from clearwell.web import Denied, invalid, invalid_many, json_response, not_found, transaction
from logbook import audit, kinds, store
from logbook.amend import check_fields, merge
from logbook.api.common import CLOCK_SKEW, check_replay, check_site, client_key, request_sha
from logbook.auth.deps import CurrentUser, Writer
from logbook.canonical import normalise
from logbook.samples import ResultFields, SampleFields

router = APIRouter(prefix="/api", tags=["amendments"])

Target = Literal["entry", "sample", "result", "crew"]


class AmendmentIn(BaseModel):
    target: Target
    target_id: int
    changes: dict[str, Any] = Field(
        min_length=1,
        description="new values of the fields to change; for an entry, 'data' holds the"
        " kind's fields to change and 'occurred_at' the corrected time",
    )
    reason: Annotated[str, Field(min_length=3, max_length=2000)]
    client_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AmendmentOut(BaseModel):
    id: int
    target: str
    target_id: int
    changes: dict[str, Any]
    reason: str
    amended_by: int
    amended_at: datetime
    after_signing: bool


def _pydantic_errors(exc: ValidationError, prefix: str) -> Exception:
    return invalid_many(
        [(".".join(str(p) for p in (prefix, *e["loc"])) or prefix, e["msg"]) for e in exc.errors()]
    )


async def _entry_target(conn: Any, body: AmendmentIn) -> tuple[int, int | None, dict[str, Any]]:
    """(site_id, shift_id, normalised changes) after validating the merged entry."""
    found = await store.entry(conn, body.target_id)
    if found is None:
        raise not_found("entry", body.target_id)
    changes = dict(body.changes)
    if "data" in changes:
        if not isinstance(changes["data"], dict) or not changes["data"]:
            raise invalid("changes.data", "must be an object of the fields to change")
        merged = merge({"data": found["data"]}, {"data": changes["data"]})["data"]
        try:
            kinds.validate_entry_data(found["kind"], merged)
        except kinds.KindError as exc:
            raise invalid_many([(f"changes.{f}", r) for f, r in exc.errors]) from None
        if found["kind"] == "alarm_ack" and merged.get("event_id") != found["event_id"]:
            raise invalid("changes.data.event_id", "an acknowledgement's event cannot change")
    if "occurred_at" in changes:
        try:
            occurred = datetime.fromisoformat(str(changes["occurred_at"]))
        except ValueError:
            raise invalid("changes.occurred_at", "not an ISO 8601 timestamp") from None
        if occurred.tzinfo is None:
            raise invalid("changes.occurred_at", "needs a time zone offset")
        if occurred > found["recorded_at"] + CLOCK_SKEW:
            raise invalid("changes.occurred_at", "is after the entry was recorded")
        changes["occurred_at"] = normalise(occurred)
    return found["site_id"], found["shift_id"], changes


async def _sample_target(conn: Any, body: AmendmentIn) -> tuple[int, int | None, dict[str, Any]]:
    found = await store.one_sample(conn, body.target_id)
    if found is None:
        raise not_found("sample", body.target_id)
    fields = {k: found[k] for k in SampleFields.model_fields}
    try:
        merged = SampleFields.model_validate(merge(fields, body.changes))
    except ValidationError as exc:
        raise _pydantic_errors(exc, "changes") from None
    dumped = merged.model_dump(mode="json")
    return found["site_id"], found["shift_id"], {k: dumped[k] for k in body.changes}


async def _result_target(conn: Any, body: AmendmentIn) -> tuple[int, int | None, dict[str, Any]]:
    cur = await conn.execute(
        "SELECT sample_id FROM sample_results WHERE id = %s", (body.target_id,)
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("result", body.target_id)
    sample = await store.one_sample(conn, row[0])
    assert sample is not None
    result = next(r for r in sample["results"] if r["id"] == body.target_id)
    fields = {k: result[k] for k in ResultFields.model_fields}
    try:
        merged = ResultFields.model_validate(merge(fields, body.changes))
    except ValidationError as exc:
        raise _pydantic_errors(exc, "changes") from None
    if merged.analyzed_at < sample["sampled_at"]:
        raise invalid("changes.analyzed_at", "is before the sample was taken")
    dumped = merged.model_dump(mode="json")
    return sample["site_id"], sample["shift_id"], {k: dumped[k] for k in body.changes}


_SHIFT_ROLES = ("drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee")


async def _crew_target(
    conn: Any, body: AmendmentIn, user: Any
) -> tuple[int, int | None, dict[str, Any]]:
    cur = await conn.execute(
        "SELECT c.shift_id, s.site_id FROM shift_crew c JOIN shifts s ON s.id = c.shift_id"
        " WHERE c.id = %s",
        (body.target_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found("crew member", body.target_id)
    member = next(c for c in await store.crew(conn, row[0]) if c["id"] == body.target_id)
    changes = dict(body.changes)
    if "shift_role" in changes:
        if changes["shift_role"] not in _SHIFT_ROLES:
            raise invalid("changes.shift_role", f"one of {', '.join(_SHIFT_ROLES)}")
        if (changes["shift_role"] == "drc" or member["shift_role"] == "drc") and user.role not in (
            "chief_operator",
            "admin",
        ):
            raise Denied(
                "only a chief operator or admin designates the DRC", "crew", body.target_id, row[1]
            )
        if (changes["shift_role"] == "trainee") != (member["shift_role"] == "trainee"):
            raise invalid(
                "changes.shift_role", "a trainee serves as 'trainee', and only trainees do"
            )
    times = {}
    for name in ("arrived_at", "left_at"):
        if name in changes:
            try:
                times[name] = datetime.fromisoformat(str(changes[name]))
            except ValueError:
                raise invalid(f"changes.{name}", "not an ISO 8601 timestamp") from None
            if times[name].tzinfo is None:
                raise invalid(f"changes.{name}", "needs a time zone offset")
            changes[name] = normalise(times[name])
    arrived = times.get("arrived_at", member["arrived_at"])
    left = times.get("left_at", member["left_at"])
    if left is not None and left < arrived:
        raise invalid("changes.left_at", "is before the person arrived")
    return row[1], row[0], changes


@router.post(
    "/amendments", status_code=201, response_model=AmendmentOut, responses={404: {}, 409: {}}
)
async def amend(body: AmendmentIn, user: Writer, request: Request) -> object:
    """Correct a record. The original stays; reading the record shows both.

    An amendment to a record on a signed shift is accepted and marked as made after signing.
    """
    errors = check_fields(body.target, body.changes)
    if errors:
        raise invalid_many(errors)
    key = client_key(request, body.client_key)
    sha = request_sha(body)
    async with transaction(request, user) as conn:
        if key is not None:
            cur = await conn.execute(
                "SELECT id, request_sha FROM amendments WHERE amended_by = %s AND client_key = %s",
                (user.id, key),
            )
            seen = await cur.fetchone()
            if seen is not None:
                check_replay(seen[1], sha)
                return json_response(await _one(conn, seen[0]), 201, {"Idempotent-Replay": "true"})
        if body.target == "entry":
            site_id, shift_id, changes = await _entry_target(conn, body)
        elif body.target == "sample":
            site_id, shift_id, changes = await _sample_target(conn, body)
        elif body.target == "result":
            site_id, shift_id, changes = await _result_target(conn, body)
        else:
            site_id, shift_id, changes = await _crew_target(conn, body, user)
        check_site(user, site_id)
        after_signing = False
        if shift_id is not None:
            # Shares the shift row with other additions; signing takes it exclusively,
            # so after_signing is exact.
            state = await store.shift_state(conn, shift_id, "share")
            after_signing = bool(state and state.signed)
        cur = await conn.execute(
            "INSERT INTO amendments (target, target_id, changes, reason, amended_by,"
            " after_signing, client_key, request_sha) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (amended_by, client_key) DO NOTHING RETURNING id",
            (
                body.target,
                body.target_id,
                _jsonb(changes),
                body.reason,
                user.id,
                after_signing,
                key,
                sha,
            ),
        )
        row = await cur.fetchone()
        if row is None:
            cur = await conn.execute(
                "SELECT id, request_sha FROM amendments WHERE amended_by = %s AND client_key = %s",
                (user.id, key),
            )
            seen = await cur.fetchone()
            assert seen is not None
            check_replay(seen[1], sha)
            return json_response(await _one(conn, seen[0]), 201, {"Idempotent-Replay": "true"})
        await audit.append(
            conn,
            user.actor,
            "amendment.create",
            body.target,
            body.target_id,
            site_id,
            {
                "amendment_id": row[0],
                "changes": changes,
                "reason": body.reason,
                "after_signing": after_signing,
            },
        )
        return json_response(await _one(conn, row[0]), 201)


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


_COLS = "id, target, target_id, changes, reason, amended_by, amended_at, after_signing"
_KEYS = tuple(_COLS.split(", "))


async def _one(conn: Any, amendment_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT id, target, target_id, changes, reason, amended_by, amended_at, after_signing"
        " FROM amendments WHERE id = %s",
        (amendment_id,),
    )
    row = await cur.fetchone()
    return dict(zip(_KEYS, row, strict=True)) if row else None


@router.get("/amendments", response_model=list[AmendmentOut])
async def list_amendments(
    user: CurrentUser,
    request: Request,
    target: Target | None = None,
    target_id: int | None = None,
    person: Annotated[int | None, Query(description="amended_by person id")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> object:
    async with transaction(request, user) as conn:
        cur = await conn.execute(
            "SELECT id, target, target_id, changes, reason, amended_by, amended_at,"
            " after_signing FROM amendments"
            " WHERE (%(t)s::text IS NULL OR target = %(t)s)"
            " AND (%(i)s::bigint IS NULL OR target_id = %(i)s)"
            " AND (%(p)s::int IS NULL OR amended_by = %(p)s) ORDER BY id LIMIT %(l)s",
            {"t": target, "i": target_id, "p": person, "l": limit},
        )
        rows = await cur.fetchall()
    return json_response([dict(zip(_KEYS, r, strict=True)) for r in rows])


@router.get("/amendments/{amendment_id}", response_model=AmendmentOut, responses={404: {}})
async def get_amendment(amendment_id: int, user: CurrentUser, request: Request) -> object:
    async with transaction(request, user) as conn:
        found = await _one(conn, amendment_id)
    if found is None:
        raise not_found("amendment", amendment_id)
    return json_response(found)

"""HTTP helpers every package's routers share: a transaction per request, refusals
audited, errors in FastAPI's own shape, JSON written once.

Routers raise ``Denied`` inside ``transaction``: the work is rolled back, and the
refusal is recorded by the reaction ``clearwell.hooks.REQUEST_DENIED`` names (the
logbook's audit), so this module needs no domain package.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from clearwell import hooks
from clearwell.jsontext import dumps


class Denied(Exception):
    """A rule refuses this person this action: becomes an audited 403."""

    def __init__(
        self,
        reason: str,
        subject: str | None = None,
        subject_id: object = None,
        site_id: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject = subject
        self.subject_id = subject_id
        self.site_id = site_id


@asynccontextmanager
async def transaction(
    request: Request, user: Any | None = None
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A pooled connection in a transaction; a Denied inside rolls back, then is audited.

    The connection is in pipeline mode: statements whose results are not read wait
    and travel with the next one that is, and the audit append, which reads nothing,
    goes out together with the COMMIT. So the audit chain's lock is held for the
    database's own work, never for a round trip to this process.

    The COMMIT is queued, not ``conn.commit()``, which would sync the pipeline once
    more before leaving it syncs again: the pipeline's exit sends it, and raises if it
    fails.
    """
    try:
        async with request.app.state.pool.connection() as conn, conn.pipeline():
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    await conn.rollback()
                raise
            await conn.execute("COMMIT")
    except Denied as d:
        if user is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, d.reason) from None
        raise await hooks.request_denied()(
            request, user, d.reason, d.subject, d.subject_id, d.site_id
        ) from None


def invalid(field: str | Sequence[str], reason: str, where: str = "body") -> RequestValidationError:
    """A 422 naming the field, in FastAPI's own error shape."""
    parts = field.split(".") if isinstance(field, str) else field
    loc = (where, *(p for p in parts if p))
    return RequestValidationError([{"loc": loc, "msg": reason, "type": "value_error"}])


def invalid_many(errors: list[tuple[str, str]], where: str = "body") -> RequestValidationError:
    return RequestValidationError(
        [{"loc": (where, *f.split(".")), "msg": r, "type": "value_error"} for f, r in errors]
    )


def not_found(what: str, ident: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} {ident} not found")


def conflict(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, reason)


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """JSON without a second pass through pydantic: listings are large and already shaped."""
    return Response(
        dumps(body).encode(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )

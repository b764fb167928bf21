"""Signing a shift: a closed shift, by an operator who worked it, re-entering their password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from clearwell.authorize import acting
from clearwell.params import Id
from clearwell.web import json_response, transaction
from logbook.api.common import confirm_password
from logbook.api.shift_models import ShiftOut, locked_shift, shift_body
from logbook.auth.sessions import Principal
from logbook.write import signatures

router = APIRouter(prefix="/api", tags=["shifts"])


class SignIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    meaning: Annotated[str, Field(min_length=1, max_length=200)] = (
        "reviewed and attest this shift record"
    )


@router.post(
    "/shifts/{shift_id}/sign",
    status_code=201,
    response_model=ShiftOut,
    responses={404: {}, 409: {}, 429: {"description": "too many wrong passwords"}},
)
async def sign_shift(
    shift_id: Id,
    body: SignIn,
    user: Annotated[Principal, Depends(acting("shift.sign"))],
    request: Request,
) -> object:
    """Sign a closed shift you worked, re-entering your password (counted and limited as a
    login); the shift is then frozen.

    The signature is bound to the sha256 of the shift's content at this moment.
    """
    await confirm_password(
        request, user, body.password, "the password does not match; the shift is not signed"
    )
    async with transaction(request, user) as conn:
        state = await locked_shift(conn, shift_id, "update")
        await signatures.sign_shift(conn, user, state, body.meaning)
        state = await locked_shift(conn, shift_id, "update")
        return json_response(await shift_body(conn, state), 201)

"""All the logbook's routers as one, so the app names a single module for them."""

from __future__ import annotations

from fastapi import APIRouter

from logbook.api import (
    amendments,
    audit,
    auth,
    crew,
    entries,
    handoffs,
    people,
    samples,
    shifts,
    signatures,
)

router = APIRouter()
for _module in (
    auth,
    people,
    shifts,
    crew,
    handoffs,
    signatures,
    entries,
    samples,
    amendments,
    audit,
):
    router.include_router(_module.router)

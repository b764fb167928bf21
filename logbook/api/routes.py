"""All the logbook's routers as one, so the app names a single module for them."""

from __future__ import annotations

from fastapi import APIRouter

from logbook.api import amendments, audit, auth, entries, people, samples, shifts

router = APIRouter()
for _module in (auth, people, shifts, entries, samples, amendments, audit):
    router.include_router(_module.router)

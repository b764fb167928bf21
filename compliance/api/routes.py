"""All the compliance routers as one, so the app names a single module for them."""

from __future__ import annotations

from fastapi import APIRouter

from compliance.api import certificates, coverage, expiries, profiles, training

router = APIRouter()
for _module in (coverage, certificates, training, expiries, profiles):
    router.include_router(_module.router)

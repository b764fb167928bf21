"""All the compliance routers as one, so the app names a single module for them."""

from __future__ import annotations

from fastapi import APIRouter

from compliance.api import certificates, coverage, expiries, levels, policy, profiles, training

router = APIRouter()
for _module in (coverage, certificates, training, expiries, profiles, levels, policy):
    router.include_router(_module.router)

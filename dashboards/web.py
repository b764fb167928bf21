"""The dashboards' part of the web app: JSON API, pages, static files, rollup refresher.

This module's ``router`` is the one listed in ``clearwell.app.ROUTER_MODULES``;
its lifespan runs the rollup refresh in the background while the app serves.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from dashboards import api, chief, entries_marks, floor, login, pages, regulator
from dashboards.assets import STATIC_DIR
from dashboards.exports.web import router as exports_router
from dashboards.rollup_job import refresher_lifespan

router = APIRouter(lifespan=refresher_lifespan)
router.include_router(api.router)
router.include_router(pages.router)
router.include_router(login.router)
router.include_router(floor.router)
router.include_router(chief.router)
router.include_router(regulator.router)
router.include_router(entries_marks.router)
router.include_router(exports_router)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

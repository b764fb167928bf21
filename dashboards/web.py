"""The dashboards' part of the web app: JSON API, pages, static files, rollup refresher.

This module's ``router`` is the one listed in ``clearwell.app.ROUTER_MODULES``;
its lifespan runs the rollup refresh in the background while the app serves.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from dashboards import login
from dashboards.assets import STATIC_DIR
from dashboards.chief import routes as chief
from dashboards.exports import routes as exports
from dashboards.floor import routes as floor
from dashboards.regulator import routes as regulator
from dashboards.trends import routes as trends
from dashboards.trends.rollup_job import refresher_lifespan

router = APIRouter(lifespan=refresher_lifespan)
router.include_router(trends.router)
router.include_router(login.router)
router.include_router(floor.router)
router.include_router(chief.router)
router.include_router(regulator.router)
router.include_router(exports.router)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

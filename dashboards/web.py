"""The dashboards' part of the web app: JSON API, pages, static files, rollup refresher,
and the pages of the top bar with the roles that may open each.

This module's ``router`` is the one listed in ``clearwell.app.ROUTER_MODULES``;
its lifespan runs the rollup refresh in the background while the app serves.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from clearwell.access import roles_for
from dashboards import login
from dashboards.assets import STATIC_DIR, templates
from dashboards.chief import routes as chief
from dashboards.exports import routes as exports
from dashboards.floor import routes as floor
from dashboards.nav import Page, links_for
from dashboards.regulator import routes as regulator
from dashboards.trends import routes as trends
from dashboards.trends.rollup_job import refresher_lifespan

# The top bar of every page (base.html): each page with the roles the access matrix lets
# take its route's action somewhere.
PAGES = (
    Page("Floor", "/floor", roles_for("floor.read")),
    Page("Trends", "/trends", roles_for("plant.read")),
    Page("Chief", "/chief", roles_for("chief.read")),
    Page("Records", "/regulator", roles_for("records.read"), also=("/records",)),
    Page("Exports", "/exports", roles_for("exports.read")),
)
templates.env.globals["nav_links"] = partial(links_for, PAGES)

router = APIRouter(lifespan=refresher_lifespan)
router.include_router(trends.router)
router.include_router(login.router)
router.include_router(floor.router)
router.include_router(chief.router)
router.include_router(regulator.router)
router.include_router(exports.router)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

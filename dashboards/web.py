"""The dashboards' part of the web app: JSON API, pages, static files, rollup refresher,
and the pages of the top bar with the roles that may open each.

This module's ``router`` is the one listed in ``clearwell.app.ROUTER_MODULES``;
its lifespan runs the rollup refresh and retention in the background while the app
serves.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

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
from dashboards.shiftreport import routes as shift_report
from dashboards.trends import routes as trends
from dashboards.trends.retention_job import retention_lifespan
from dashboards.trends.rollup_job import refresher_lifespan

# The top bar of every page (base.html): each page with the roles the access matrix lets
# take its route's action somewhere.
PAGES = (
    Page("Floor", "/floor", roles_for("floor.read"), at_site="/floor/{site}"),
    Page("Trends", "/trends", roles_for("plant.read"), at_site="/trends?site={site}"),
    Page("Chief", "/chief", roles_for("chief.read"), at_site="/chief?facility={site}"),
    Page(
        "Records",
        "/regulator",
        roles_for("records.read"),
        also=("/records",),
        at_site="/regulator?facility={site}",
    ),
    Page("Exports", "/exports", roles_for("exports.read"), at_site="/exports?site={site}"),
)
templates.env.globals["nav_links"] = partial(links_for, PAGES)


@contextlib.asynccontextmanager
async def _background(app: Any) -> AsyncIterator[None]:
    async with refresher_lifespan(app), retention_lifespan(app):
        yield


router = APIRouter(lifespan=_background)
router.include_router(trends.router)
router.include_router(login.router)
router.include_router(floor.router)
router.include_router(chief.router)
router.include_router(regulator.router)
router.include_router(exports.router)
router.include_router(shift_report.router)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

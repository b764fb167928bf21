"""Where the pages' templates and static files are, and whether the npm build ran."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
# Copied from node_modules by `npm run build` (dashboards/frontend/copy-vendor.mjs).
VENDOR_FILES = ("htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css")
BUILD_HINT = "run scripts/setup-browser.sh (npm ci && npm run build at the repository root)"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def missing_vendor_files() -> list[str]:
    return [name for name in VENDOR_FILES if not (STATIC_DIR / "vendor" / name).is_file()]


templates.env.globals["missing_vendor_files"] = missing_vendor_files
templates.env.globals["build_hint"] = BUILD_HINT

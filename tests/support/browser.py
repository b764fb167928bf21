"""What the browser tests share: Debian's Chromium driven by Playwright, and where screenshots go.

A missing browser or front-end build fails the test rather than skipping it: `make test`
installs both (scripts/setup-browser.sh), and a skipped browser test would let a broken
page pass unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.assets import BUILD_HINT, missing_vendor_files

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Saved by the tests as artifacts of the run (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def need_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-browser.sh (make test does)")
    if missing_vendor_files():
        pytest.fail(f"front-end libraries are missing: {BUILD_HINT}")

"""What the browser tests share: Debian's Chromium driven by Playwright, and where screenshots go.

A missing browser or front-end build fails the test rather than skipping it: `make test`
installs both (scripts/setup-browser.sh), and a skipped browser test would let a broken
page pass unseen.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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


# axe-core from npm (package.json's devDependencies, installed by `npm ci`): the
# accessibility rules a person with a screen reader or a keyboard depends on.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# What the pages must never have; "moderate" and "minor" are reported (as warnings in the
# run's summary), not failed.
AXE_FAILING = ("serious", "critical")


class AxeNotice(UserWarning):
    """An axe-core violation of impact moderate or minor: worth fixing, not failing."""


def axe_run(page: object) -> list[dict[str, object]]:
    """Runs axe-core on the page as it is now; every violation, with up to five nodes each
    (their selectors, and what axe says is wrong with the first).

    ``page`` is a Playwright page (sync API)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci at the repository root (make test does)")
    # Evaluated, not added as a script tag: the pages' Content-Security-Policy runs no
    # inline script (issue 17), and evaluation from the test is not the page's own.
    page.evaluate(AXE.read_text())  # type: ignore[attr-defined]
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),"
        " summary: (v.nodes[0] && v.nodes[0].failureSummary || '').split('\\n').slice(1)"
        ".join(' ').trim()}))"
    )


def axe_violations(page: object) -> list[dict[str, object]]:
    """The violations of impact serious or critical on the page as it is now."""
    return [v for v in axe_run(page) if v.get("impact") in AXE_FAILING]


def _line(v: dict[str, object]) -> str:
    return f"  {v['impact']} {v['id']}: {v['help']} at {v['nodes']} ({v['summary']})"


def assert_accessible(page: object, where: str = "") -> None:
    """No serious or critical axe-core violation on the page; the message lists each. The
    lesser ones are reported as an ``AxeNotice`` warning."""
    found = axe_run(page)
    failing = [v for v in found if v.get("impact") in AXE_FAILING]
    where = where or "the page"
    for v in found:
        if v not in failing:
            warnings.warn(AxeNotice(f"axe-core on {where}:\n{_line(v)}"), stacklevel=2)
    assert not failing, f"axe-core on {where}:\n" + "\n".join(_line(v) for v in failing)


@contextmanager
def no_threads_left_but(*kept: str) -> Iterator[None]:
    """Fails if the code inside leaves threads running (as tests/conftest.py checks every
    test), but those named with one of ``kept`` prefixes: what a module's browser or app
    keeps for as long as the module runs (Playwright's loop is ``asyncio_N``)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(kept)
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"test leaked threads: {[t.name for t in leaked]}")

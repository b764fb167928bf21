"""The ``clearwell`` command run as a site runs it: a process of its own, configured by
the database URL and the data directory alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest


def run_cli(
    *args: str, url: str, data_dir: Path, owner: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``clearwell ARGS`` as the runtime role ``url``, with the schema's ``owner`` URL (for
    migrations, backups and restores) and ``stdin`` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=url, CLEARWELL_DATA_DIR=str(data_dir))
    if owner is not None:
        env["CLEARWELL_OWNER_DATABASE_URL"] = owner
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def skip_unless_superuser(url: str) -> None:
    """Restoring TimescaleDB needs a superuser; CLEARWELL_TEST_DATABASE_URL's role need
    only create databases."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not row.fetchone()[0]:  # type: ignore[index]
            pytest.skip("the tests' server role is not a superuser, which a restore needs")

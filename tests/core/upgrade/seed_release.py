"""Fills a database with a small plant using a release's own code: run by
``make_fixture.py`` as ``python seed_release.py URL DATA_DIR BUNDLE_DIR`` with that
release's source first on PYTHONPATH, so only what every release since issue 19 has
is used here (the demo's seeders and its history generator, the export command).

A day and a half at the demo plant: readings, limit events, shifts with crews, entries
with amendments, countersignatures and shift signatures, lab samples, operator
certificates and the facility's profile, compliance stamps, trend rollups, and the
month's export bundle (its audit rows, the site key in the data directory).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from clearwell.migrate import migrate
from clearwell.settings import Settings
from compliance.demo import seed_async as seed_compliance
from demo.history.write import generate
from demo.steps import seed_site_file
from logbook.demo import seed_async as seed_people
from simulators.address_map import DEFAULT_MAP
from sitefile.load import load_config

END = datetime(2026, 2, 4, 6, tzinfo=ZoneInfo("America/Denver"))
DAYS = 1.0
MONTH = "2026-02"


def main(url: str, data_dir: Path, bundle_dir: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    asyncio.run(seed_people(url))
    asyncio.run(seed_compliance(url))
    seed_site_file(Settings(database_url=url, data_dir=data_dir))
    written = asyncio.run(generate(url, load_config(DEFAULT_MAP), END, DAYS))
    print(f"seeded: {written}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=url, CLEARWELL_DATA_DIR=str(data_dir))
    subprocess.run(
        [sys.executable, "-m", "clearwell.cli", "export", "bundle", "--site", "demo-wwtp",
         "--month", MONTH, "--as", "chief", "--out", str(bundle_dir)],
        env=env,
        check=True,
    )  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))

"""The ``clearwell`` command run as a site runs it: a process of its own, configured by
the database URL and the data directory alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=url, CLEARWELL_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

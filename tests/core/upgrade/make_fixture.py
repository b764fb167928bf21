"""Makes the upgrade fixture: a database filled by a release's own code, kept as a
``clearwell backup`` directory that the upgrade test restores and migrates forward.

    ./run python -m tests.core.upgrade.make_fixture COMMIT

COMMIT's tree is exported with ``git archive`` (the repository is not touched), a
throwaway cluster is started, ``seed_release.py`` runs with that tree first on
PYTHONPATH, and this checkout's ``clearwell backup`` writes ``release/`` here, with the
commit in ``release/RELEASE`` and the month's export bundle beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from clearwell.backup import backup
from tests.support.pg_cluster import LocalCluster

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "release"


def main(commit: str) -> None:
    repo = HERE.parents[2]
    full = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="clearwell-release-") as tmp:
        src, data_dir, bundle_dir = Path(tmp) / "src", Path(tmp) / "data", Path(tmp) / "out"
        src.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", full], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        with LocalCluster() as cluster:
            with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE clearwell")
            url = cluster.url("clearwell")
            env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
            env["PYTHONPATH"] = str(src)
            subprocess.run(
                [sys.executable, str(HERE / "seed_release.py"), url, str(data_dir),
                 str(bundle_dir)],
                env=env, check=True, cwd=tmp,
            )  # fmt: skip
            shutil.rmtree(FIXTURE, ignore_errors=True)
            manifest = backup(url, data_dir, FIXTURE)
        (FIXTURE / "RELEASE").write_text(full + "\n")
        for bundle in bundle_dir.glob("*.zip"):
            shutil.copy(bundle, FIXTURE / bundle.name)
    size = sum(p.stat().st_size for p in FIXTURE.iterdir())
    print(f"{FIXTURE}: release {full[:12]}, {sum(manifest.rows.values()):,} rows, {size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])

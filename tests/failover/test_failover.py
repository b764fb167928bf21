"""The central primary killed while two plants' collectors and an operator write: no
reading lost or doubled, no logbook entry lost, and the pages answer again.

The scenario is the failover benchmark's (``bench/bench_failover.py``) at a short size,
on a pg_auto_failover cluster on loopback (``scripts/failover-cluster.sh``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bench import bench_failover
from tests.support import failover

pytestmark = pytest.mark.slow

# The monitor declares a node lost after 2 s without an answer (the script's settings)
# and waits 3 s for a demotion that cannot come; the rest is the promotion. More than
# this on a loaded machine is a failover that waits for something it should not.
NO_PRIMARY_MAX_S = 30


def cluster_processes(root: Path) -> list[str]:
    """Command lines of the processes still running out of the cluster's directory."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(root) in text:
            found.append(text)
    return found


async def test_the_primary_killed_during_ingest_and_logbook_writes(tmp_path: Path) -> None:
    missing = failover.available()
    assert missing is None, missing
    cluster = failover.FailoverCluster(nodes=2)
    await asyncio.to_thread(cluster.__enter__)
    try:
        url = await asyncio.to_thread(cluster.create_database, "clearwell")
        figures = await bench_failover.run(cluster, url, tmp_path, before=4, after=4)
    finally:
        await asyncio.to_thread(cluster.__exit__, None, None, None)
    assert cluster_processes(cluster.root) == []
    text = "\n".join(bench_failover.report(figures))
    print(text)  # the figures, for bench/README.md (pytest -s)
    assert figures.new_primary != figures.old_primary, text
    assert 0 < figures.no_primary_s < NO_PRIMARY_MAX_S, text
    for plant in figures.plants:
        # Readings in every phase: before the kill, spooled without a primary, after.
        assert len(plant.taken) > 100, text
        assert plant.lost == 0, text
        assert plant.duplicated == 0, text
        assert sorted(plant.stored) == sorted(set(plant.taken)), text
    # Every note the operator wrote is stored once, refused tries included.
    assert figures.outbox.made == len(figures.outbox.sent), text
    assert sorted(figures.notes_stored) == sorted(figures.outbox.sent), text
    assert figures.notes_lost == 0 and figures.notes_doubled == 0, text
    # The page failed at most while there was no primary, and answers now.
    assert figures.pages_back_s < figures.no_primary_s + 10, text
    assert re.search(r"^seconds without a primary: [\d.]+ s$", text, re.M), text

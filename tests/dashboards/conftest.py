"""Fixtures the dashboards' test folders share.

``api`` (and its autouse ``cheap_hashing``) is the logbook tests' own: the app in
process on a fresh database with the demo site and people, and a client that logs in as
any of them; the chief's, the regulator's and the trend entries' tests record through it.
``served`` is the gap scenario behind ``clearwell serve``, made once for the browser
tests of those pages (tests/dashboards/browsing.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dashboards.browsing import Served, gap_served
from tests.logbook.conftest import api, cheap_hashing  # noqa: F401 (fixtures)
from tests.support.database import DatabaseServer


@pytest.fixture(scope="session")
def served(db_server: DatabaseServer) -> Iterator[Served]:
    with gap_served(db_server) as s:
        yield s

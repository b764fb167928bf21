"""Fixtures the dashboards' test folders share.

``served`` is the gap scenario behind ``clearwell serve``, made once for the browser
tests of the chief's, the regulator's, the trend, the exports and the login pages
(tests/dashboards/browsing.py).
The chief's, the regulator's and the trend entries' tests record through ``api``, which
tests/conftest.py gives every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dashboards.browsing import Served, gap_served
from tests.support.database import DatabaseServer


@pytest.fixture(scope="session")
def served(db_server: DatabaseServer) -> Iterator[Served]:
    with gap_served(db_server) as s:
        yield s

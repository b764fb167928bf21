"""The generated month in a database shared by the exports' database tests."""

from __future__ import annotations

import pytest

from tests.dashboards.exports import month as m


@pytest.fixture(scope="package")
def data(db_server, tmp_path_factory):
    """(database URL, data directory with the site file, expected values)."""
    url = db_server.make_database()
    data_dir = tmp_path_factory.mktemp("data")
    expected = m.populate(url, data_dir)
    yield url, data_dir, expected
    db_server.drop_database(url)

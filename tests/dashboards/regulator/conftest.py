"""The logbook's fixtures: a real app on a fresh database, the demo site and people."""

from tests.logbook.conftest import api, cheap_hashing  # noqa: F401 (fixtures)

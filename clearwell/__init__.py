"""Clearwell's shared core: settings, database access, migrations and the command line.

Nothing domain-specific lives here; the domain is in ``ingest``, ``logbook``,
``compliance``, ``dashboards`` and ``simulators``.
"""

__version__ = "0.1.0"

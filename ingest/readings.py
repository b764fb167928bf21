"""The shape of a reading as it travels from a collector to the writer.

A row is ``(time, tag_id, value, status)``: the time the value was read (UTC),
the tag's id in the ``tags`` table, the engineering value (None when there is
none, e.g. the device stopped answering) and the quality status
(:mod:`ingest.status_codes`). Plain tuples, because hundreds of thousands of
them a second go through the writer's binary COPY.
"""

from __future__ import annotations

from datetime import datetime

Row = tuple[datetime, int, float | None, int]

COLUMNS = ("time", "tag_id", "value", "status")
COPY_TYPES = ("timestamptz", "int4", "float8", "int4")

"""The shape of a reading as it travels from a collector to the writer.

A row is ``(time, tag_id, value, status, server_time)``: the time the value is
for (UTC: the source timestamp where the device gives one, else the time it was
read), the tag's id in the ``tags`` table, the engineering value (None when
there is none, e.g. the device stopped answering), the quality status
(:mod:`ingest.status_codes`) and the OPC UA server timestamp (None for Modbus).
Plain tuples, because hundreds of thousands of them a second go through the
writer's binary COPY.
"""

from __future__ import annotations

from datetime import datetime

Row = tuple[datetime, int, float | None, int, datetime | None]

# Until the database has given a tag its id (the collector started while the database
# was away), its readings carry a provisional one: negative, kept by the spool
# (:meth:`ingest.spool.Spool.provisional_ids`), translated by the writer once known.
# Events of that time name this site id, which no site has.
PROVISIONAL_SITE_ID = 0


def is_provisional(tag_id: int) -> bool:
    return tag_id < 0


COLUMNS = ("time", "tag_id", "value", "status", "server_time")
COPY_TYPES = ("timestamptz", "int4", "float8", "int4", "timestamptz")

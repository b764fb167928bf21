"""The site's ranges at write time: read from the site's file, checked against a record's
numbers, and the confirmations of implausible values recorded with the record.

The one source of a site's ranges is its file in the data directory
(:mod:`sitefile.datadir`), read again when it changes. A site without that file has no
ranges; a file there that is not valid refuses the writes that need it (503, with the
file's own error), so a terminal keeps them and sends them again once it is fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError

from clearwell.errors import ConfigError
from logbook.plausibility import Confirmation, Confirmed, Value, check_entry_fields, judged
from sitefile.datadir import cached_ranges, read_ranges
from sitefile.ranges import NO_RANGES, SiteRanges

_CHECKS = (check_entry_fields,)


async def site_ranges(data_dir: Path, code: str) -> SiteRanges:
    """The ranges of the site's file under ``data_dir``, by the file's rules and the
    logbook's; raises ``ConfigError`` when that file is not valid."""
    found = cached_ranges(data_dir, code, _CHECKS)
    if found is None:
        # A large file takes a while to read: not on the event loop.
        found = await asyncio.to_thread(read_ranges, data_dir, code, _CHECKS)
    return found


@dataclass(frozen=True)
class RangeSource:
    """Where writes find a site's ranges: the sites' files under ``data_dir``."""

    data_dir: Path

    async def of_code(self, code: str) -> SiteRanges:
        try:
            return await site_ranges(self.data_dir, code)
        except ConfigError as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the ranges of site {code} cannot be checked until its site file is fixed: {exc}",
            ) from None

    async def of_site(self, conn: psycopg.AsyncConnection[Any], site_id: int) -> SiteRanges:
        cur = await conn.execute("SELECT code FROM sites WHERE id = %s", (site_id,))
        row = await cur.fetchone()
        assert row is not None
        return await self.of_code(str(row[0]))


async def check_values(
    conn: psycopg.AsyncConnection[Any],
    source: RangeSource | None,
    site_id: int,
    values: Callable[[SiteRanges], Sequence[Value]],
    confirmation: Confirmation | None,
) -> list[Confirmed]:
    """The record's ``values`` (made from the site's ranges) judged: a 422 naming each
    value refused, else the values taken on the person's confirmation, to record.

    Without a source (the demo's history, benchmarks) nothing is judged.
    """
    # A record without numbers needs no ranges (and no site file to read them from).
    if source is None or not values(NO_RANGES):
        return []
    wanted = values(await source.of_site(conn, site_id))
    result = judged(wanted, confirmation)
    if result.errors:
        raise RequestValidationError(result.errors)
    return result.confirmed


_INSERT = (
    "INSERT INTO plausibility_confirmations (entry_id, result_id, amendment_id, field, value,"
    " plausible_low, plausible_high, unit, subject, reason, confirmed_by)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, confirmed_at"
)


async def record_confirmations(
    conn: psycopg.AsyncConnection[Any],
    person_id: int,
    confirmed: Sequence[Confirmed],
    reason: str,
    *,
    entry_id: int | None = None,
    result_id: int | None = None,
    amendment_id: int | None = None,
) -> list[dict[str, Any]]:
    """Records each value confirmed, on its entry or result (and amendment); returns them
    as the record's ``plausibility`` shows them."""
    out = []
    for c in confirmed:
        assert c.ranges.plausible is not None
        low, high = c.ranges.plausible
        cur = await conn.execute(
            _INSERT,
            (
                entry_id,
                result_id,
                amendment_id,
                c.field,
                c.value,
                low,
                high,
                c.ranges.unit,
                c.ranges.of,
                reason,
                person_id,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        out.append(
            {
                "id": row[0],
                "field": c.field,
                "value": c.value,
                "plausible": [low, high],
                "unit": c.ranges.unit,
                "of": c.ranges.of,
                "reason": reason,
                "confirmed_by": person_id,
                "confirmed_at": row[1],
                "amendment_id": amendment_id,
            }
        )
    return out


def audited(confirmations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the audit log keeps of confirmations: each value, the range it broke, why."""
    return [
        {k: c[k] for k in ("id", "field", "value", "plausible", "unit", "reason")}
        for c in confirmations
    ]

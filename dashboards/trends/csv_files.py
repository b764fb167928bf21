"""A trend as CSV files: the buckets a chart shows, and the raw readings of its range.
Pure, no I/O: the routes read the rows and send what these write.

* Buckets: a row per bucket of the chart's grid, its start in UTC and on the site's clock
  (with the offset, so the hour the clocks repeat is told apart), then per pen its lowest,
  mean and highest good sample, empty where the bucket holds none.
* Raw readings: a row per reading, pen after pen, each in time order: the time both ways,
  the tag, the value as stored, its unit, its quality in words and the OPC UA status code.

Numbers are written as Python's shortest exact form, so a value read back is the value
stored. A text cell starting like a formula (``=``, ``+``, ``-``, ``@``) gets a leading
apostrophe, which spreadsheets show and do not run.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboards.trends.quality import quality_of
from dashboards.trends.series import Series

RAW_COLUMNS = ("tag", "value", "unit", "quality", "status")


@dataclass(frozen=True, slots=True)
class Column:
    """A pen's part of the buckets file."""

    name: str
    unit: str
    series: Series


def text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def number(value: float | None) -> str:
    return repr(float(value)) if value is not None and math.isfinite(value) else ""


def utc(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat()


def _rows_to_text(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def buckets_csv(t: Sequence[int], columns: Sequence[Column], zone: ZoneInfo) -> str:
    """The chart's buckets: ``t`` the grid's starts (epoch seconds), one column triple per pen."""
    head = ["time (UTC)", f"time ({zone.key})"]
    for c in columns:
        head += [text(f"{c.name} {stat}{_unit(c.unit)}") for stat in ("min", "avg", "max")]
    rows: list[list[str]] = [head]
    for i, start in enumerate(t):
        at = datetime.fromtimestamp(start, UTC)
        row = [utc(at), local(at, zone)]
        for c in columns:
            s = c.series
            row += [number(s.min[i]), number(s.avg[i]), number(s.max[i])]
        rows.append(row)
    return _rows_to_text(rows)


def raw_header(zone: ZoneInfo | None) -> str:
    """The raw file's first line; ``zone`` None when the pens' sites keep different clocks
    (each row's local time is then on its own site's)."""
    where = zone.key if zone else "the tag's site"
    return _rows_to_text([["time (UTC)", f"time ({where})", *RAW_COLUMNS]])


def raw_rows(
    readings: Iterable[tuple[datetime, float | None, int]], name: str, unit: str, zone: ZoneInfo
) -> str:
    """Readings of one tag (time, value, status) as the raw file's lines."""
    tag, unit_cell = text(name), text(unit)
    return _rows_to_text(
        [
            utc(at),
            local(at, zone),
            tag,
            number(value),
            unit_cell,
            quality_of(status, value is not None).value,
            str(status),
        ]
        for at, value, status in readings
    )


def filename(kind: str, site: str, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``trend-plant1-20260301T0600-20260302T0600.csv``: the range on the site's clock."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", site) or "site"
    a, b = (x.astimezone(zone).strftime("%Y%m%dT%H%M") for x in (start, end))
    return f"{kind}-{safe}-{a}-{b}.csv"

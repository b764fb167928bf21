"""The trend's CSV files, written from buckets and readings (pure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboards.trends.csv_files import Column, buckets_csv, filename, raw_header, raw_rows
from dashboards.trends.series import Series

DENVER = ZoneInfo("America/Denver")
BAD_COMM = -2147155968


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_buckets_a_row_each_with_every_pens_min_mean_max():
    t = [1772323200, 1772326800]  # 2026-03-01 00:00 and 01:00 UTC
    a = Series(t=t, min=[1.0, None], max=[3.0, None], avg=[2.0, None])
    b = Series(t=t, min=[0.1, 0.2], max=[0.30000000000000004, 0.2], avg=[0.2, 0.2])
    text = buckets_csv(t, [Column("DO.Basin1", "mg/L", a), Column("Flow", "", b)], DENVER)
    assert text.endswith("\r\n")
    assert rows(text) == [
        ["time (UTC)", "time (America/Denver)",
         "DO.Basin1 min (mg/L)", "DO.Basin1 avg (mg/L)", "DO.Basin1 max (mg/L)",
         "Flow min", "Flow avg", "Flow max"],
        ["2026-03-01T00:00:00Z", "2026-02-28T17:00:00-07:00",
         "1.0", "2.0", "3.0", "0.1", "0.2", "0.30000000000000004"],
        # No good sample in the bucket: empty cells, never a zero.
        ["2026-03-01T01:00:00Z", "2026-02-28T18:00:00-07:00", "", "", "", "0.2", "0.2", "0.2"],
    ]  # fmt: skip


def test_the_hour_the_clocks_repeat_is_told_apart_by_its_offset():
    # 2026-11-01 01:30 happens twice in Denver: 07:30 UTC (MDT) and 08:30 UTC (MST).
    t = [1793518200, 1793521800]
    s = Series(t=t, min=[1.0, 2.0], max=[1.0, 2.0], avg=[1.0, 2.0])
    got = [r[1] for r in rows(buckets_csv(t, [Column("X", "", s)], DENVER))[1:]]
    assert got == ["2026-11-01T01:30:00-06:00", "2026-11-01T01:30:00-07:00"]


def test_raw_readings_as_stored_with_their_quality():
    at = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    text = raw_header(DENVER) + raw_rows(
        [(at, 6.125, 0), (at, None, BAD_COMM), (at, 5.0, 0x40000000), (at, float("nan"), 0)],
        "DO.Basin1",
        "mg/L",
        DENVER,
    )
    assert rows(text) == [
        ["time (UTC)", "time (America/Denver)", "tag", "value", "unit", "quality", "status"],
        ["2026-03-01T12:00:00.250000Z", "2026-03-01T05:00:00.250000-07:00", "DO.Basin1",
         "6.125", "mg/L", "good", "0"],
        ["2026-03-01T12:00:00.250000Z", "2026-03-01T05:00:00.250000-07:00", "DO.Basin1",
         "", "mg/L", "bad", str(BAD_COMM)],
        ["2026-03-01T12:00:00.250000Z", "2026-03-01T05:00:00.250000-07:00", "DO.Basin1",
         "5.0", "mg/L", "uncertain", str(0x40000000)],
        ["2026-03-01T12:00:00.250000Z", "2026-03-01T05:00:00.250000-07:00", "DO.Basin1",
         "", "mg/L", "good", "0"],
    ]  # fmt: skip


def test_sites_on_different_clocks_say_so_in_the_header():
    assert rows(raw_header(None))[0][1] == "time (the tag's site)"


def test_text_that_a_spreadsheet_would_run_is_quoted_out():
    t = [0]
    s = Series(t=t, min=[-1.0], max=[-1.0], avg=[-1.0])
    got = rows(buckets_csv(t, [Column("=HYPERLINK(1)", "+x", s)], ZoneInfo("UTC")))
    assert got[0][2] == "'=HYPERLINK(1) min (+x)"
    assert got[1][2:] == ["-1.0", "-1.0", "-1.0"]  # numbers stay numbers
    raw = rows(raw_rows([(datetime(2026, 1, 1, tzinfo=UTC), 1.0, 0)], "@tag", "-u", DENVER))
    assert raw[0][2] == "'@tag" and raw[0][4] == "'-u"


def test_a_file_is_named_by_its_site_and_range_on_the_site_clock():
    start = datetime(2026, 3, 1, 13, tzinfo=UTC)
    end = datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert filename("trend", "plant 1/x", start, end, DENVER) == (
        "trend-plant_1_x-20260301T0600-20260302T0600.csv"
    )

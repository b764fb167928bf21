"""The floor terminal's tile and alarm rules, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.floor.view import (
    SOURCE_SILENT_S,
    Alarm,
    Latest,
    TileState,
    age_text,
    area_of,
    format_value,
    group_by_area,
    is_on_off,
    label_of,
    limit_of,
    order_alarms,
    source_of,
    sparkline,
    state_words,
    tile_for,
    unit_text,
)

BAD = -2147155968  # BadCommunicationError
UNCERTAIN = 0x40000000


@pytest.mark.parametrize(
    ("name", "area"),
    [
        ("aeration.do", "Aeration"),
        ("disinfection.cl2.residual", "Disinfection"),
        ("lift_station.pump1.running", "Lift Station"),
        ("DO.Basin1", "Do"),
        ("Flow", "Other"),
        (".hidden", "Other"),
    ],
)
def test_area_is_the_first_part_of_the_tag_name(name, area):
    assert area_of(name) == area


@pytest.mark.parametrize(
    ("value", "text"),
    [(7.2146, "7.21"), (0.0, "0"), (12.345, "12.3"), (123.45, "123"), (1234.5, "1,234"),
     (12345.6, "12,346"), (-3.5, "-3.50"), (0.42, "0.420"), (0.0999, "0.0999"),
     (9.996, "10.0"), (999.6, "1,000"), (0.00012, "0.00012"), (float("nan"), "")],
)  # fmt: skip
def test_values_have_three_significant_figures(value, text):
    """A plant's instruments read no finer than three figures: "7.21 pH", not "7.210"."""
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("unit", "text"), [("m3/h", "m³/h"), ("degC", "°C"), ("mg/L", "mg/L"), ("", "")]
)
def test_units_as_people_write_them(unit, text):
    assert unit_text(unit) == text


@pytest.mark.parametrize(
    ("age", "text"), [(4.4, "4 s ago"), (89, "89 s ago"), (600, "10 min ago"),
                      (7200, "2 h ago"), (3 * 86400, "3 d ago")],
)  # fmt: skip
def test_age_in_few_words(age, text):
    assert age_text(age) == text


@pytest.mark.parametrize(
    ("value", "limits", "flag"),
    [
        (5.0, (1, 2, 8, 9), ""),
        (8.0, (1, 2, 8, 9), "HI"),
        (9.5, (1, 2, 8, 9), "HI-HI"),
        (1.5, (1, 2, 8, 9), "LO"),
        (0.5, (1, 2, 8, 9), "LO-LO"),
        (100.0, (None, None, None, None), ""),
        (9.5, (None, None, 8, None), "HI"),
    ],
)
def test_limit_flags(value, limits, flag):
    assert limit_of(value, *limits) == flag


def latest(value, status, age, interval=60.0, **kw):
    return Latest(
        tag_id=1, name="effluent.ph", description="", unit="pH", expected_interval_s=interval,
        value=value, status=status, age_s=age, time_text="10:31", **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("reading", "state", "value", "note"),
    [
        (latest(7.21, 0, 5), TileState.GOOD, "7.21", ""),
        (latest(7.21, UNCERTAIN, 5), TileState.UNCERTAIN, "7.21", "UNCERTAIN"),
        # Stale: the number never appears as the big current value.
        (latest(7.21, 0, 600), TileState.STALE, "", "STALE · last 7.21 pH at 10:31 (10 min ago)"),
        (latest(7.21, 0, 4, interval=1), TileState.STALE, "",
         "STALE · last 7.21 pH at 10:31 (4 s ago)"),
        (latest(None, BAD, 2), TileState.BAD, "", "BAD signal"),
        (latest(3.0, BAD, 2), TileState.BAD, "", "BAD signal"),
        (latest(None, 0, 2), TileState.BAD, "", "BAD signal"),
        (latest(None, None, None), TileState.NONE, "", "no data"),
    ],
)  # fmt: skip
def test_a_tile_shows_a_number_as_current_only_when_good_and_fresh(reading, state, value, note):
    tile = tile_for(reading)
    assert (tile.state, tile.value, tile.note) == (state, value, note)
    assert tile.label == "ph" and tile.unit == "pH"


def test_a_tile_flags_a_limit_only_on_a_current_value():
    limits = (None, None, 8.0, None)
    assert tile_for(latest(8.5, 0, 5, limits=limits)).limit == "HI"
    assert tile_for(latest(8.5, 0, 600, limits=limits)).limit == ""


def test_tiles_grouped_by_area_other_last():
    names = ["zeta", "effluent.ph", "aeration.do", "effluent.flow", "aeration.airflow"]
    tiles = [tile_for(Latest(i, n, "", "", 60, 1.0, 0, 1)) for i, n in enumerate(names)]
    grouped = [(area, [t.name for t in ts]) for area, ts in group_by_area(tiles)]
    assert grouped == [
        ("Aeration", ["aeration.do", "aeration.airflow"]),
        ("Effluent", ["effluent.ph", "effluent.flow"]),
        ("Other", ["zeta"]),
    ]


def test_sparkline_scales_to_the_box_and_breaks_at_gaps_and_missing_values():
    points = [(0.0, 1.0), (60.0, 3.0), (120.0, None), (180.0, 2.0), (240.0, 2.0), (600.0, 1.0)]
    lines = sparkline(points, 0.0, 600.0, gap_s=180.0, width=100.0, height=20.0)
    # The None at 120 breaks the line; 240 -> 600 is longer than the gap: a new run.
    assert lines == (
        "0.0,18.0 10.0,2.0",
        "30.0,10.0 40.0,10.0",
        "100.0,18.0 102.0,18.0",
    )


@pytest.mark.parametrize(
    "points",
    [[], [(0.0, None)], [(-100.0, 1.0)]],
)
def test_sparkline_of_nothing_draws_nothing(points):
    assert sparkline(points, 0.0, 600.0, gap_s=180.0) == ()


def test_sparkline_of_a_flat_signal_is_a_level_line():
    lines = sparkline([(0.0, 5.0), (300.0, 5.0)], 0.0, 300.0, 600.0, width=10.0, height=10.0)
    assert lines == ("0.0,5.0 10.0,5.0",)


def test_alarms_most_severe_then_active_then_newest():
    t = datetime(2026, 3, 1, tzinfo=UTC)

    def alarm(i, sev, minutes, ended=False):
        start = t + timedelta(minutes=minutes)
        return Alarm(i, sev, "m", None, "", start, start if ended else None, 1)

    ordered = order_alarms([
        alarm(1, "warning", 50), alarm(2, "critical", 0), alarm(3, "alarm", 10, ended=True),
        alarm(4, "alarm", 5), alarm(5, "alarm", 20),
    ])  # fmt: skip
    assert [a.id for a in ordered] == [2, 5, 4, 3, 1]


@pytest.mark.parametrize(
    ("interval", "age", "silent", "state", "fresh"),
    [
        # A value stored by exception (a deadband: at least every 60 s) is fresh while
        # its device is heard from ...
        (60.0, 100.0, 5.0, TileState.GOOD, 25.0),
        # ... and stale once the collectors have not written its health for 30 s, long
        # before three intervals (180 s) pass.
        (60.0, 40.0, SOURCE_SILENT_S + 1, TileState.STALE, None),
        # A discrete tag polled every second goes stale by its own age.
        (1.0, 4.0, 2.0, TileState.STALE, None),
        (1.0, 1.0, 2.0, TileState.GOOD, 2.0),
        # A tag with no health on record (typed in, derived) goes by its age alone.
        (60.0, 100.0, None, TileState.GOOD, 80.0),
        (60.0, 181.0, None, TileState.STALE, None),
    ],
)
def test_every_tile_goes_stale_from_its_expected_interval_or_its_source(
    interval, age, silent, state, fresh
):
    tile = tile_for(latest(2.5, 0, age, interval=interval, source_silent_s=silent))
    assert (tile.state, tile.fresh_s) == (state, fresh)
    assert (tile.value == "") == (state is TileState.STALE)


def test_an_on_off_tag_says_its_state_in_words():
    def pump(value):
        return tile_for(Latest(7, "liftstation.pump1.running", "Lift pump 1 running", "", 1.0,
                               value, 0, 0.5, on_off=True))  # fmt: skip

    assert (pump(1.0).value, pump(1.0).unit) == ("Running", "")
    assert pump(0.0).value == "Stopped"
    assert state_words("aeration.do_low", "Low dissolved oxygen alarm") == ("ALARM", "Normal")
    assert state_words("inlet.gate", "Inlet gate open") == ("Open", "Closed")
    assert state_words("uv.lamp", "UV lamp") == ("On", "Off")


@pytest.mark.parametrize(
    ("address", "unit", "eng", "on_off"),
    [
        ("plc-process;coil;0", "", (None, None), True),
        ("plc-process;discrete;3", "", (None, None), True),
        ("plc-process;holding;0", "m3/h", (0, 2500), False),
        ("ns=2;s=Pump.Run", "", (0, 1), True),
        ("", "mg/L", (0, 1), False),
    ],
)
def test_on_off_tags(address, unit, eng, on_off):
    assert is_on_off(address, unit, *eng) is on_off


@pytest.mark.parametrize(
    ("protocol", "address", "source"),
    [
        ("modbus", "plc-process;holding;0", "modbus:plc-process"),
        ("opcua", "scada;ns=2;s=Aeration.DO", "opcua:scada"),
        ("manual", "", None),
        ("modbus", "", None),
    ],
)
def test_a_tag_is_read_from_a_device_or_server(protocol, address, source):
    assert source_of(protocol, address) == source


def test_a_tile_is_named_by_its_description_else_its_name_past_the_area():
    assert label_of("aeration.do", "DO basin 1") == "DO basin 1"
    assert label_of("aeration.blower1.running", "") == "blower1 running"
    assert label_of("Flow", "") == "Flow"

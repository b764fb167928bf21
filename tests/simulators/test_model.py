"""Properties of the plant model: determinism, physical ranges, monotonic counters, alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.model.plant import (
    LEVEL_HIGH_OFF_M,
    LEVEL_HIGH_ON_M,
    VARIABLES,
    PlantModel,
)

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
COUNTERS = [v.name for v in VARIABLES if v.kind == "counter"]


def series(seed: int, steps: list[float], start: datetime = START, substep: float = 1.0):
    model = PlantModel(seed=seed, start=start, max_substep_s=substep)
    out = [model.values()]
    for dt in steps:
        model.step(dt)
        out.append(model.values())
    return model, out


def test_same_seed_same_series_and_other_seed_another():
    steps = [37.0] * 400
    _, a = series(5, steps, substep=10.0)
    _, b = series(5, steps, substep=10.0)
    _, c = series(6, steps, substep=10.0)
    assert a == b
    assert a != c


def test_clock_is_the_start_plus_every_step():
    model, _ = series(1, [0.5, 10.0, 3600.0])
    assert model.time == START + timedelta(seconds=3610.5)


def test_driving_signals_do_not_depend_on_step_size():
    fine, _ = series(3, [1.0] * 600)
    coarse, _ = series(3, [600.0])
    t = (START + timedelta(seconds=600)).timestamp()
    assert fine.time == coarse.time
    assert fine.influent_flow(t) == coarse.influent_flow(t)
    assert fine.values()["influent.ph"] == coarse.values()["influent.ph"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    steps=st.lists(st.floats(0.0, 900.0), min_size=20, max_size=60),
    hour=st.integers(0, 23 * 24),
)
def test_values_stay_in_range_and_counters_only_count_up(seed, steps, hour):
    _, out = series(seed, steps, START + timedelta(hours=hour), substep=10.0)
    variables = {v.name: v for v in VARIABLES}
    for values in out:
        assert set(values) == set(variables)
        for name, value in values.items():
            var = variables[name]
            if var.kind == "bool":
                assert isinstance(value, bool), name
            else:
                assert var.lo <= value <= var.hi, (name, value)
    for name in COUNTERS:
        seq = [v[name] for v in out]
        assert seq == sorted(seq), name


@pytest.mark.slow
def test_a_week_of_plant_raises_every_alarm_and_keeps_physics():
    # Coarse substeps make a week affordable; the dynamics stay the same.
    model = PlantModel(seed=1, start=datetime(2026, 1, 1, tzinfo=UTC), max_substep_s=20.0)
    seen = {
        "liftstation.wetwell.level_high": 0,
        "aeration.do_low": 0,
        "disinfection.cl2.residual_low": 0,
    }
    previous = model.values()
    starts = 0
    for _ in range(7 * 24 * 60):
        model.step(60.0)
        v = model.values()
        for alarm in seen:
            seen[alarm] += int(v[alarm] and not previous[alarm])
        if v["liftstation.wetwell.level_high"]:
            assert v["liftstation.wetwell.level"] >= LEVEL_HIGH_OFF_M
        else:
            assert v["liftstation.wetwell.level"] < LEVEL_HIGH_ON_M
        if v["aeration.do_low"]:
            assert v["aeration.do"] < 0.8
        if not v["liftstation.pump1.running"] and not v["liftstation.pump2.running"]:
            assert v["liftstation.discharge.flow"] == 0
        starts += int(v["liftstation.pump1.running"] and not previous["liftstation.pump1.running"])
        previous = v
    assert all(n >= 1 for n in seen.values()), seen
    assert 50 < starts < 700  # a lift pump cycles every hour or so, not every minute


def test_runtime_hours_count_only_while_running():
    model = PlantModel(seed=2, start=START)
    before = model.values()
    ran = 0.0
    for _ in range(1800):
        running = model.values()["liftstation.pump1.running"]
        model.step(1.0)
        ran += 1.0 if running else 0.0
    after = model.values()
    gained_h = after["liftstation.pump1.runtime"] - before["liftstation.pump1.runtime"]
    assert gained_h == pytest.approx(ran / 3600.0, abs=2 / 3600.0)


def test_totalizer_integrates_flow():
    model = PlantModel(seed=4, start=START)
    total0 = model.values()["influent.total"]
    integral = 0.0
    for _ in range(3600):
        model.step(1.0)
        integral += model.values()["influent.flow"] / 3600.0
    assert model.values()["influent.total"] - total0 == pytest.approx(integral, rel=1e-9)


def test_diurnal_curve_peaks_in_the_day():
    model = PlantModel(seed=9, start=START)
    day = datetime(2026, 5, 12, tzinfo=UTC)  # a dry day for seed 9 is not guaranteed: compare means
    local = [model.influent_flow((day + timedelta(hours=h)).timestamp()) for h in range(48)]
    # America/Denver is UTC-6 in May: 04:00 local is 10:00 UTC, 11:00 local is 17:00 UTC.
    night = min(local[10], local[34])
    late_morning = min(local[17], local[41])
    assert late_morning > night


@pytest.mark.parametrize("dt", [-1.0, float("nan"), float("inf")])
def test_step_refuses_bad_dt(dt):
    with pytest.raises(ValueError):
        PlantModel().step(dt)


def test_start_must_be_timezone_aware():
    with pytest.raises(ValueError):
        PlantModel(start=datetime(2026, 1, 1))

"""Compliance coverage report: a year of three shifts a day, 30 operators, 100,000 entries.

Times the pure engine (``compliance.engine.check``) on the whole year, and, in the same run,
two baselines: the engine on a tenth of the data (does it scale linearly?) and a naive
per-entry scan of every shift (what the sweep line replaces), on a sample of entries, whose
answers must agree with the engine's. Also times loading the scenario from JSON and writing
the report as JSON, which the CLI adds around the engine.

    .venv/bin/python -m bench compliance [--entries N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from compliance.engine import check
from compliance.model import Role, Scenario
from compliance.qualification import build_timeline
from compliance.rulesets import UT_2007
from compliance.scenario import load_scenario

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--entries", "2000", "--repeat", "1", "--naive-sample", "200")

TZ = ZoneInfo("America/Denver")
# The logbook's entry kinds, and those it flags operational.
KINDS = (
    "reading",
    "reading",
    "reading",
    "note",
    "observation",
    "inspection",
    "alarm_ack",
    "chemical_addition",
    "process_adjustment",
    "maintenance",
    "cleaning",
)
OPERATIONAL = {"chemical_addition", "process_adjustment", "maintenance", "cleaning"}


def local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def iso(t: datetime) -> str:
    return t.isoformat()


def make_scenario(n_entries: int, days: int = 365, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    operators: list[dict[str, Any]] = []
    for i in range(1, 31):
        oid = f"op{i:02d}"
        certs = []
        if i <= 10:  # DRC pool: grade III or IV; two of them lapsed until mid-year
            grade = "IV" if i % 2 else "III"
            lapsed = i in (4, 9)
            certs.append(
                {
                    "state": "UT",
                    "category": "treatment",
                    "grade": grade,
                    "kind": "full",
                    "issued": "2022-01-01" if lapsed else "2024-01-01",
                    "expires": "2024-12-31" if lapsed else "2026-12-31",
                }
            )
            if lapsed:  # renewed after a gap: not qualified January to June
                certs.append(
                    {
                        "state": "UT",
                        "category": "treatment",
                        "grade": grade,
                        "kind": "full",
                        "issued": "2025-07-01",
                        "expires": "2027-12-31",
                    }
                )
        elif i <= 20:  # shift operators: grade II, a few restricted III on top
            certs.append(
                {
                    "state": "UT",
                    "category": "treatment",
                    "grade": "II",
                    "kind": "full",
                    "issued": "2025-01-01",
                    "expires": "2027-12-31",
                }
            )
            if i % 4 == 0:
                certs.append(
                    {
                        "state": "UT",
                        "category": "treatment",
                        "grade": "III",
                        "kind": "restricted",
                        "issued": "2024-06-01",
                        "expires": "2026-12-31",
                    }
                )
        elif i <= 25:  # operators: grade I, one collection-only
            certs.append(
                {
                    "state": "UT",
                    "category": "collection" if i == 25 else "treatment",
                    "grade": "I",
                    "kind": "full",
                    "issued": "2024-01-01",
                    "expires": "2026-12-31",
                }
            )
        # Assessed levels: the DRC pool advanced, shift operators proficient, operators
        # developing (one of them only emerging), trainees none on record (emerging).
        level = (
            "advanced"
            if i <= 10
            else "proficient"
            if i <= 20
            else ("emerging" if i == 22 else "developing")
            if i <= 25
            else None
        )
        operator: dict[str, Any] = {"id": oid, "name": f"Operator {i}", "certificates": certs}
        if level is not None:
            operator["levels"] = [{"level": level, "assessed_on": "2024-01-01"}]
        operators.append(operator)

    shifts: list[dict[str, Any]] = []
    start_day = date(2025, 1, 1)
    for d in range(days):
        day = start_day + timedelta(days=d)
        for k, hour in enumerate((6, 14, 22)):
            start = local(day, hour)
            end = local(day + timedelta(days=1), 6) if hour == 22 else local(day, hour + 8)
            n = d * 3 + k
            drc = f"op{1 + n % 10:02d}"
            crew: list[dict[str, Any]] = [
                {"operator": drc, "role": "drc"},
                {"operator": f"op{11 + n % 10:02d}", "role": "shift_operator"},
                {"operator": f"op{21 + n % 5:02d}", "role": "operator"},
                {"operator": f"op{26 + n % 5:02d}", "role": "trainee"},
            ]
            if n % 7 == 0:  # the DRC leaves an hour early
                crew[0]["on_site"] = [[iso(start), iso(end - timedelta(hours=1))]]
            if n % 11 == 0:  # the shift operator takes a long break
                mid = start + timedelta(hours=3)
                crew[1]["on_site"] = [
                    [iso(start), iso(mid)],
                    [iso(mid + timedelta(hours=2)), iso(end)],
                ]
            shifts.append(
                {
                    "id": f"{day.isoformat()}-{'DSN'[k]}",
                    "start": iso(start),
                    "end": iso(end),
                    "crew": crew,
                }
            )

    entries: list[dict[str, Any]] = []
    for j in range(n_entries):
        sh = rng.choice(shifts)
        s = datetime.fromisoformat(sh["start"])
        e = datetime.fromisoformat(sh["end"])
        t = s + (e - s) * rng.random()
        member = rng.choice(sh["crew"])
        kind = rng.choice(KINDS)
        entry: dict[str, Any] = {
            "id": f"e{j}",
            "time": iso(t.astimezone(TZ)),
            "author": member["operator"],
            "kind": kind,
            "operational": kind in OPERATIONAL,
        }
        if member["role"] == "trainee" and rng.random() < 0.8:
            entry["countersigned_by"] = sh["crew"][0]["operator"]
        entries.append(entry)
    entries.sort(key=lambda x: x["time"])

    end_day = start_day + timedelta(days=days)
    return {
        "rules": "UT",
        "facility": {
            "id": "bench",
            "name": "Bench WRF",
            "timezone": "America/Denver",
            "category": "treatment",
            "class": "III",
        },
        "operators": operators,
        "shifts": shifts,
        "entries": entries,
        "period": {"start": iso(local(start_day, 0)), "end": iso(local(end_day, 0))},
    }


def naive_stamps(s: Scenario, sample: int) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Per entry: scan every shift and every crew member, check their certificates, and
    pick who holds charge (the first of UT's charge roles meeting the class; if none does,
    every one of them)."""
    fac = s.facility
    timelines = {o.id: build_timeline(o, fac, UT_2007) for o in s.operators}
    need = UT_2007.required(fac.classes[0].grade)
    roles = UT_2007.charge_roles
    out = []
    for e in s.entries[:sample]:
        t = e.time
        present: set[str] = set()
        candidates: set[tuple[int, str, Role]] = set()
        for sh in s.shifts:
            if not sh.start <= t < sh.end:
                continue
            for m in sh.crew:
                spans = m.on_site if m.on_site is not None else ((sh.start, sh.end),)
                if any(a <= t < b for a, b in spans):
                    present.add(m.operator)
                    if m.role in roles:
                        candidates.add((roles.index(m.role), m.operator, m.role))
        certified = tuple(sorted(op for op in present if timelines[op].certified(t)))
        ordered = sorted(candidates)
        qualified = [op for _, op, role in ordered if timelines[op].meets(t, need[role])]
        in_charge = (qualified[0],) if qualified else tuple(dict.fromkeys(o for _, o, _ in ordered))
        out.append((e.id, certified, in_charge))
    return out


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compliance")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-sample", type=int, default=5_000)
    args = parser.parse_args(argv)

    data = make_scenario(args.entries)
    text = json.dumps(data)
    load_s, scenario = timed(lambda: load_scenario(json.loads(text)), 3)
    engine_s, report = timed(lambda: check(scenario), args.repeat)
    dump_s, _ = timed(lambda: json.dumps(report.to_dict()), 3)

    tenth = make_scenario(args.entries // 10, days=365 // 10 + 1)
    tenth_scenario = load_scenario(tenth)
    tenth_s, _ = timed(lambda: check(tenth_scenario), args.repeat)

    sample = min(args.naive_sample, len(scenario.entries))
    naive_s, naive = timed(lambda: naive_stamps(scenario, sample), 1)
    engine_by_id = {st.id: (st.certified_on_duty, st.drc) for st in report.entries}
    mismatches = sum(1 for eid, c, d in naive if engine_by_id[eid] != (c, d))
    naive_full = naive_s * len(scenario.entries) / sample

    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    print(f"date            {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"data            {len(scenario.shifts)} shifts, {len(scenario.operators)} operators, "
        f"{len(scenario.entries)} entries; {len(report.coverage)} coverage intervals, "
        f"{len(report.findings)} findings {dict(sorted(counts.items()))}"
    )
    print(f"engine (year)   {engine_s * 1000:8.1f} ms   median of {args.repeat}")
    print(
        f"engine (1/10)   {tenth_s * 1000:8.1f} ms   ratio year/tenth "
        f"{engine_s / tenth_s:.1f}x (10x = linear)"
    )
    print(
        f"naive scan      {naive_s * 1000:8.1f} ms   for {sample} entries; "
        f"{naive_full:.1f} s extrapolated to {len(scenario.entries)} "
        f"= {naive_full / engine_s:.0f}x the engine; disagreements: {mismatches}"
    )
    print(f"load JSON       {load_s * 1000:8.1f} ms   (scenario loader, whole year)")
    print(f"report to JSON  {dump_s * 1000:8.1f} ms")
    print(f"target          engine < 1000 ms: {'met' if engine_s < 1.0 else 'NOT met'}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

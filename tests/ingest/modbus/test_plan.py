"""Request planning: golden files (configuration in, request list out) and properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.modbus.plan import plan_device
from sitefile.load import load_config, parse_config

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("plan_*.yaml"))


def planned(config_path: Path) -> dict[str, list[dict[str, object]]]:
    config = load_config(config_path)
    return {
        d.name: [r.as_dict() for r in plan_device(d, config.modbus_tags(d.name))]
        for d in config.modbus.devices
    }


@pytest.mark.parametrize("case", CASES)
def test_plan_matches_golden(case: str) -> None:
    expected = json.loads((GOLDEN / f"{case}.json").read_text())
    assert planned(GOLDEN / f"{case}.yaml") == expected


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3


@settings(max_examples=60, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 3000), st.sampled_from(["uint16", "float32", "float64"])),
        min_size=1,
        max_size=60,
    ),
    limit=st.integers(4, 125),
    gap=st.integers(0, 20),
)
def test_every_tag_read_exactly_once_within_limits(spans, limit, gap) -> None:
    width = {"uint16": 1, "float32": 2, "float64": 4}
    taken: list[tuple[int, int]] = []
    lines = []
    for addr, type_ in spans:
        end = addr + width[type_]
        if any(addr < e and s < end for s, e in taken):
            continue
        taken.append((addr, end))
        lines.append(
            f"  - {{name: t{addr}, modbus: {{device: d, register: holding,"
            f" address: {addr}, type: {type_}}}}}"
        )
    text = (
        "site: {code: p, name: P}\nmodbus:\n  devices:\n"
        f"    - {{name: d, host: h, max_registers_per_request: {limit}, gap_fill: {gap}}}\n"
        "tags:\n" + "\n".join(lines) + "\n"
    )
    config = parse_config(text)
    requests = plan_device(config.modbus.devices[0], config.tags)
    seen = [s.tag for r in requests for s in r.slots]
    assert sorted(seen) == sorted(t.name for t in config.tags)
    by_name = {t.name: t for t in config.tags}
    for r in requests:
        assert 1 <= r.count <= limit
        for s in r.slots:
            m = by_name[s.tag].modbus
            assert m is not None and r.address + s.offset == m.address
            assert s.offset + s.count <= r.count
    # Greedy coalescing never leaves two neighbouring requests that could have been one.
    for a, b in zip(requests, requests[1:], strict=False):
        assert b.address - (a.address + a.count) > gap or b.address + b.count - a.address > limit

"""Request planning: golden files (configuration in, request list out) and properties;
planning around what a device refuses, and narrowing a refused request down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.modbus.plan import ReadRequest, Slot, Span, between, covering, halves, plan_device
from sitefile.load import load_config, parse_config

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("plan_*.yaml"))
AVOID_CASES = sorted(p.stem for p in GOLDEN.glob("avoid_*.yaml"))


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
    assert len(AVOID_CASES) >= 1


@pytest.mark.parametrize("case", AVOID_CASES)
def test_plan_around_what_the_device_refuses_matches_golden(case: str) -> None:
    expected = json.loads((GOLDEN / f"{case}.json").read_text())
    config = load_config(GOLDEN / f"{case}.yaml")
    avoid = [Span(*s) for s in expected["avoid"]]
    for key, spans in (("plan", avoid), ("plan_without_avoid", [])):
        got = {
            d.name: [r.as_dict() for r in plan_device(d, config.modbus_tags(d.name), spans)]
            for d in config.modbus.devices
        }
        assert got == expected[key], key


def request(address: int, *slots: tuple[str, int, int], kind: str = "holding") -> ReadRequest:
    end = max(o + n for _, o, n in slots)
    return ReadRequest(kind, address, end, tuple(Slot(*s) for s in slots))


@pytest.mark.parametrize(
    ("whole", "left", "right", "gap"),
    [
        # Five tags: two and three; each half reads from its first tag to its last only.
        (
            request(96, ("a", 0, 2), ("b", 2, 1), ("c", 3, 2), ("d", 14, 1), ("e", 19, 1)),
            request(96, ("a", 0, 2), ("b", 2, 1)),
            request(99, ("c", 0, 2), ("d", 11, 1), ("e", 16, 1)),
            Span("holding", 99, 99),
        ),
        # Two tags with unread addresses between them: the gap is what lies between.
        (
            request(10, ("x", 0, 1), ("y", 6, 2)),
            request(10, ("x", 0, 1)),
            request(16, ("y", 0, 2)),
            Span("holding", 11, 16),
        ),
    ],
)
def test_a_request_is_narrowed_down_by_halves(
    whole: ReadRequest, left: ReadRequest, right: ReadRequest, gap: Span
) -> None:
    assert halves(whole) == (left, right)
    assert between(left, right) == gap
    with pytest.raises(ValueError):
        halves(request(0, ("alone", 0, 1)))


def test_spans_read_like_a_manual_and_know_what_they_cover() -> None:
    assert Span("holding", 98, 99).text() == "holding 98"
    assert Span("holding", 111, 115).text() == "holding 111-114"
    assert Span("input", 4, 4).text() == "input 3-4 (across 4)"
    # A span is touched by a read that overlaps it; a boundary by a read across it.
    assert Span("holding", 98, 99).covers(96, 99) and not Span("holding", 98, 99).covers(99, 101)
    assert Span("input", 4, 4).covers(0, 8)
    assert not Span("input", 4, 4).covers(0, 4) and not Span("input", 4, 4).covers(4, 8)


def test_a_refused_span_is_read_with_the_tags_inside_it() -> None:
    config = load_config(GOLDEN / "avoid_refused.yaml")
    tags = config.modbus_tags("plc")
    assert covering(Span("holding", 98, 99), tags) == request(98, ("b", 0, 1))
    assert covering(Span("holding", 96, 101), tags) == request(
        96, ("a", 0, 2), ("b", 2, 1), ("c", 3, 2)
    )
    assert covering(Span("coil", 5, 6), tags) == request(5, ("k5", 0, 1), kind="coil")


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


@settings(max_examples=60, deadline=None)
@given(
    addresses=st.sets(st.integers(0, 400), min_size=1, max_size=40),
    refused=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3)), max_size=6),
    gap=st.integers(0, 20),
)
def test_planning_around_refusals_reads_every_other_tag_once_and_never_a_refusal(
    addresses, refused, gap
) -> None:
    lines = [
        f"  - {{name: t{a}, modbus: {{device: d, register: holding, address: {a}}}}}"
        for a in sorted(addresses)
    ]
    text = (
        "site: {code: p, name: P}\nmodbus:\n  devices:\n"
        f"    - {{name: d, host: h, max_registers_per_request: 30, gap_fill: {gap}}}\n"
        "tags:\n" + "\n".join(lines) + "\n"
    )
    config = parse_config(text)
    avoid = [Span("holding", a, a + n) for a, n in refused]
    requests = plan_device(config.modbus.devices[0], config.tags, avoid)
    left_out = {a for a in addresses if any(s.covers(a, a + 1) for s in avoid if s.start < s.end)}
    assert sorted(s.tag for r in requests for s in r.slots) == sorted(
        f"t{a}" for a in addresses - left_out
    )
    for r in requests:
        assert not any(s.covers(r.address, r.end) for s in avoid), (r, avoid)

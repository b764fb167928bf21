"""The pens of a chart: colours and lines told apart, and a value axis per unit (pure)."""

from __future__ import annotations

import pytest

from dashboards.trends.pens import COLOURS, DASHED, MAX_PENS, SOLID, axis_json, pen_json, plan


def tag(ident: int, unit: str, name: str | None = None, description: str = "") -> dict:
    return {"id": ident, "name": name or f"T{ident}", "description": description, "unit": unit}


@pytest.mark.parametrize(
    ("units", "scales", "axes"),
    [
        pytest.param(["mg/L"], ["y0"], [("mg/L", "left", (1,))], id="one pen, one axis"),
        pytest.param(
            ["mg/L", "MGD", "mg/L"],
            ["y0", "y1", "y0"],
            [("mg/L", "left", (1, 3)), ("MGD", "right", (2,))],
            id="a unit's pens share its axis, in order of first use",
        ),
        pytest.param(
            ["mg/L", "MGD", "pH", "NTU", "ft", "°C", "mg/L", "MGD"],
            ["y0", "y1", "y2", "y3", "y4", "y5", "y0", "y1"],
            [
                ("mg/L", "left", (1, 7)),
                ("MGD", "right", (2, 8)),
                ("pH", "left", (3,)),
                ("NTU", "right", (4,)),
                ("ft", "left", (5,)),
                ("°C", "right", (6,)),
            ],
            id="eight pens in six units: six axes, left and right in turn",
        ),
        pytest.param(
            ["", "", " mg/L "],
            ["y0", "y1", "y2"],
            [("T1", "left", (1,)), ("T2", "right", (2,)), ("mg/L", "left", (3,))],
            id="no unit: an axis each, labelled by the tag; units trimmed",
        ),
    ],
)
def test_an_axis_per_unit(units, scales, axes):
    pens, planned = plan([tag(i + 1, u) for i, u in enumerate(units)])
    assert [p.scale for p in pens] == scales
    assert [(a.label, a.side, a.pen_ids) for a in planned] == axes
    assert [a.scale for a in planned] == [f"y{i}" for i in range(len(axes))]


def test_an_axis_of_one_pen_takes_its_colour_and_a_shared_one_none():
    pens, axes = plan([tag(1, "mg/L"), tag(2, "MGD"), tag(3, "mg/L")])
    assert axes[0].colour is None and axes[0].print_colour is None
    assert (axes[1].colour, axes[1].print_colour) == (pens[1].colour, pens[1].print_colour)


def test_eight_pens_differ_in_colour_and_the_last_four_in_line_too():
    pens, _ = plan([tag(i, "mg/L") for i in range(1, MAX_PENS + 1)])
    assert len({p.colour for p in pens}) == len({p.print_colour for p in pens}) == MAX_PENS
    assert [p.dash for p in pens] == [SOLID] * 4 + [DASHED] * 4
    assert [(p.colour, p.print_colour) for p in pens] == list(COLOURS)


def test_a_pen_is_named_as_people_call_it():
    pens, _ = plan([tag(7, "mg/L", "DO.Basin1", "Dissolved oxygen, basin 1"), tag(8, "ft", "L1")])
    assert [(p.name, p.label) for p in pens] == [
        ("DO.Basin1", "Dissolved oxygen, basin 1"),
        ("L1", "L1"),
    ]


def test_more_than_eight_pens_are_refused():
    with pytest.raises(ValueError, match="at most 8 pens, got 9"):
        plan([tag(i, "") for i in range(9)])


def test_the_page_gets_them_as_json():
    pens, axes = plan([tag(3, "mg/L", "A"), tag(4, "pH", "B")])
    assert pen_json(pens[1]) == {
        "id": 4,
        "name": "B",
        "label": "B",
        "unit": "pH",
        "colour": COLOURS[1][0],
        "print_colour": COLOURS[1][1],
        "dash": [],
        "scale": "y1",
    }
    assert axis_json(axes[1]) == {
        "scale": "y1",
        "label": "pH",
        "side": "right",
        "pens": [4],
        "colour": COLOURS[1][0],
        "print_colour": COLOURS[1][1],
    }

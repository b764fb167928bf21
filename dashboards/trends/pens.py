"""The pens of a trend chart: up to eight tags on one time axis, each with its colour and
line, and a value axis per unit. Pure, no I/O: the page draws what this plans.

Tags of one unit share an axis, so that 4 mg/L of one tag is level with 4 mg/L of another;
a tag without a unit gets an axis of its own (nothing says its numbers compare with any
other's). Axes alternate left and right, the first unit's on the left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

MAX_PENS = 8

# (on the dark screen, on paper): told apart by hue first, and pens 5 to 8 are dashed as
# well, so that two pens never differ by colour alone. None is the red of bad quality,
# the grey of no data or the yellow and white of the log entries' markers.
COLOURS: tuple[tuple[str, str], ...] = (
    ("#4fc3ff", "#00629e"),  # blue
    ("#ff9f43", "#b35600"),  # orange
    ("#5be37d", "#1b7a37"),  # green
    ("#ff6fb5", "#a8195f"),  # pink
    ("#b79cff", "#5b3cc4"),  # violet
    ("#3ee0d0", "#00736a"),  # teal
    ("#e0b872", "#7d5a00"),  # tan
    ("#c6e86b", "#4f6e00"),  # lime
)
SOLID: tuple[int, ...] = ()
DASHED: tuple[int, ...] = (12, 6)

Side = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class Pen:
    tag_id: int
    name: str
    label: str  # the tag as people call it: its description, else its name
    unit: str
    colour: str
    print_colour: str
    dash: tuple[int, ...]
    scale: str  # the key of its unit's value axis


@dataclass(frozen=True, slots=True)
class Axis:
    scale: str
    label: str  # the unit, or the one pen's label when it has none
    side: Side
    pen_ids: tuple[int, ...]
    # The pen's colour when the axis is one pen's, so that the axis says whose it is.
    colour: str | None
    print_colour: str | None


def plan(tags: Sequence[Mapping[str, Any]]) -> tuple[list[Pen], list[Axis]]:
    """The pens for ``tags`` (rows with ``id``, ``name``, ``description``, ``unit``), in
    their order, and the value axes they need, in order of first use."""
    if len(tags) > MAX_PENS:
        raise ValueError(f"a trend has at most {MAX_PENS} pens, got {len(tags)}")
    scales: dict[str, str] = {}
    pens: list[Pen] = []
    for i, tag in enumerate(tags):
        unit = (tag.get("unit") or "").strip()
        # A tag without a unit is keyed by itself: it shares its axis with no one.
        key = f"unit:{unit}" if unit else f"tag:{tag['id']}"
        scale = scales.setdefault(key, f"y{len(scales)}")
        colour, print_colour = COLOURS[i]
        pens.append(
            Pen(
                tag_id=int(tag["id"]),
                name=tag["name"],
                label=tag.get("description") or tag["name"],
                unit=unit,
                colour=colour,
                print_colour=print_colour,
                dash=SOLID if i < 4 else DASHED,
                scale=scale,
            )
        )
    axes: list[Axis] = []
    for n, scale in enumerate(scales.values()):
        on = [p for p in pens if p.scale == scale]
        alone = on[0] if len(on) == 1 else None
        axes.append(
            Axis(
                scale=scale,
                label=on[0].unit or on[0].label,
                side="left" if n % 2 == 0 else "right",
                pen_ids=tuple(p.tag_id for p in on),
                colour=alone.colour if alone else None,
                print_colour=alone.print_colour if alone else None,
            )
        )
    return pens, axes


def pen_json(pen: Pen) -> dict[str, Any]:
    return {
        "id": pen.tag_id,
        "name": pen.name,
        "label": pen.label,
        "unit": pen.unit,
        "colour": pen.colour,
        "print_colour": pen.print_colour,
        "dash": list(pen.dash),
        "scale": pen.scale,
    }


def axis_json(axis: Axis) -> dict[str, Any]:
    return {
        "scale": axis.scale,
        "label": axis.label,
        "side": axis.side,
        "pens": list(axis.pen_ids),
        "colour": axis.colour,
        "print_colour": axis.print_colour,
    }

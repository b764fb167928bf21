"""What the trend page shows: its pens, the links that add, remove and export them, and
its title. Pure, no I/O (``routes.trends_page`` reads the site's tags and renders this).

The page's state is all in its address (``/trends?site=S&tag=A&tag=B&period=7d``, or
``from=…&to=…`` on the plant's clock for a custom range), so that every view can be
linked to, reloaded and printed; each pen is a ``tag`` by name within the site.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dashboards.trends.pens import MAX_PENS, Axis, Pen, axis_json, pen_json, plan
from dashboards.trends.period import Period, describe, field_value, span

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class PenView:
    pen: Pen
    remove_href: str | None  # None for the only pen


@dataclass(frozen=True)
class TrendPage:
    pens: list[PenView]
    axes: list[Axis]
    addable: list[Mapping[str, Any]]  # the site's tags not on the chart, while there is room
    problems: list[str]
    title: str
    range_words: str
    span_words: str  # the ends, a preset's too: the print view's
    from_value: str  # the custom range's fields, the period shown when it is a preset
    to_value: str
    keep: Params  # the page's site and pens, which every form of the page carries
    self_params: Params  # the whole view: keep and its period
    print_href: str
    back_href: str  # from the print view to the page
    pens_json: str
    axes_json: str


def pick(tags: Sequence[Mapping[str, Any]], asked: Sequence[str]) -> tuple[list[Any], list[str]]:
    """The site's tags the page asked for by name, in order, each once and at most
    ``MAX_PENS``, else its first tag; and what could not be shown, in words."""
    by_name = {t["name"]: t for t in tags}
    chosen: list[Any] = []
    problems: list[str] = []
    unknown = [name for name in dict.fromkeys(asked) if name not in by_name]
    for name in dict.fromkeys(asked):
        if name in by_name and len(chosen) < MAX_PENS:
            chosen.append(by_name[name])
    known = [name for name in dict.fromkeys(asked) if name in by_name]
    if unknown:
        quoted = ", ".join(f"“{name}”" for name in unknown)
        tag_s = "tag named" if len(unknown) == 1 else "tags named"
        shown = "" if known or not tags else f"; showing {tags[0]['name']}"
        problems.append(f"No {tag_s} {quoted} at this site{shown}.")
    if len(known) > MAX_PENS:
        problems.append(
            f"A chart has at most {MAX_PENS} pens; left out: {', '.join(known[MAX_PENS:])}."
        )
    if not chosen and tags:
        chosen = [tags[0]]
    return chosen, problems


def href(path: str, params: Params) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def period_params(period: Period, zone: ZoneInfo) -> Params:
    if period.custom:
        return [("from", field_value(period.start, zone)), ("to", field_value(period.end, zone))]
    return [("period", period.code)]


def title(pens: Sequence[Pen]) -> str:
    if not pens:
        return "Trends"
    if len(pens) == 1:
        return pens[0].label
    more = len(pens) - 1
    return f"{pens[0].label} and {more} more"


def build(
    path: str,
    site: Mapping[str, Any],
    tags: Sequence[Mapping[str, Any]],
    asked: Sequence[str],
    period: Period,
    zone: ZoneInfo,
) -> TrendPage:
    chosen, problems = pick(tags, asked)
    pens, axes = plan(chosen)
    names = [p.name for p in pens]
    keep: Params = [("site", site["code"]), *(("tag", n) for n in names)]
    when = period_params(period, zone)
    self_params = [*keep, *when]

    def without(name: str) -> str:
        others = [("tag", n) for n in names if n != name]
        return href(path, [("site", site["code"]), *others, *when])

    views = [PenView(pen, None if len(pens) == 1 else without(pen.name)) for pen in pens]
    on_chart = set(names)
    addable = [t for t in tags if t["name"] not in on_chart] if len(pens) < MAX_PENS else []
    return TrendPage(
        pens=views,
        axes=axes,
        addable=addable,
        problems=problems,
        title=title(pens),
        range_words=describe(period, zone),
        span_words=span(period, zone),
        from_value=field_value(period.start, zone),
        to_value=field_value(period.end, zone),
        keep=keep,
        self_params=self_params,
        print_href=href(path, [*self_params, ("print", "1")]),
        back_href=href(path, self_params),
        pens_json=json.dumps([pen_json(p) for p in pens], separators=(",", ":")),
        axes_json=json.dumps([axis_json(a) for a in axes], separators=(",", ":")),
    )

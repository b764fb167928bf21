"""The floor terminal's record forms, made from the logbook's own definitions: pure, no I/O.

What an entry of each kind holds comes from ``logbook.kinds`` (a sample and a lab result
from ``logbook.samples``), read through the models' JSON schema: the fields, their types,
which are required, the choices of a closed set and the bounds of a number. This module
adds only what a person sees: each form's title and button, the fields' labels and order,
which fields offer their last value again, and which the page fills in itself. A field the
logbook adds shows in its form, labelled from its name, until it gets a label here.

The page's script (``static/js/floor-forms.js``) draws each field as ``{name, label, type,
required, remember}`` says, with ``options`` for a select (pairs of value and text, or
``"tags"`` / ``"samples"``: the site's tags or recent samples, from the page's data),
``value`` (the model's default), ``gt``/``min``/``step`` for a number and ``maxlength``.

A number the site's ranges judge carries them (:func:`with_ranges`), so the page can say
what is wrong before sending: outside the instrument range a value is refused with the
range named; outside the plausible range it is saved only with a confirmation and a
reason. The logbook's API judges it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from logbook.kinds import KINDS
from logbook.plausibility import NUMBER_FIELDS
from logbook.samples import ResultFields, SampleFields
from sitefile.ranges import READING_VALUE, Ranges, SiteRanges

# Free text allowed to be longer than this many characters gets a text area, not a line.
LINE_MAX = 2000
# Shown for "none chosen" in a select of an optional field.
NONE = "—"


@dataclass(frozen=True)
class Field:
    """How one field looks: its label; ``remember`` offers its last value again; ``options``
    names a select's choices from the page's data (``"tags"``, ``"samples"``); ``texts``
    words a closed set's values; ``extra`` is the whole spec of a field the form has but
    the logbook's model does not (it becomes part of another request, or of the path)."""

    name: str
    label: str
    remember: bool = False
    options: str | None = None
    texts: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Look:
    """A form: its title, the kind in a few words (its button on the action bar, and the
    shift review's label), its fields in order, and the model's fields nobody types (the
    page fills them in, or the terminal does not offer them)."""

    title: str
    button: str
    fields: tuple[Field, ...]
    not_typed: frozenset[str] = frozenset()
    on_bar: bool = True


def _f(name: str, label: str, **look: Any) -> Field:
    return Field(name, label, **look)


# Entry kinds, in the order of the action bar.
ENTRY_LOOKS: dict[str, Look] = {
    "reading": Look("Reading", "Reading", (
        _f("tag_id", "Tag", remember=True, options="tags"),
        _f("instrument", "Meter or gauge", remember=True),
        _f("value", "Value"),
        _f("unit", "Unit", remember=True),
        _f("notes", "Notes"),
    )),
    "chemical_addition": Look("Chemical added", "Chemical", (
        _f("chemical", "Chemical", remember=True),
        _f("amount", "Amount"),
        _f("unit", "Unit", remember=True),
        _f("feed_point", "Feed point", remember=True),
        _f("notes", "Notes"),
    )),
    "process_adjustment": Look("Process adjustment", "Adjust", (
        _f("what", "What", remember=True),
        _f("from_value", "From"),
        _f("to_value", "To"),
        _f("unit", "Unit", remember=True),
        _f("reason", "Why"),
    )),
    "maintenance": Look("Maintenance", "Maintenance", (
        _f("equipment", "Equipment", remember=True),
        _f("work", "Work", remember=True),
        _f("description", "What was done"),
        _f("lubricant", "Lubricant", remember=True),
        _f("out_of_service", "Out of service"),
    )),
    "inspection": Look("Inspection", "Inspection", (
        _f("location", "Where", remember=True),
        _f("condition", "Condition",
           texts={"ok": "OK", "attention": "Attention", "defect": "Defect"}),
        _f("finding", "Finding"),
        _f("action_needed", "Action needed"),
    )),
    "cleaning": Look("Cleaning", "Cleaning", (
        _f("what", "What", remember=True),
        _f("method", "Method", remember=True),
        _f("notes", "Notes"),
    )),
    "observation": Look("Observation", "Observation", (
        _f("text", "Observed"),
        _f("location", "Where", remember=True),
    )),
    "safety": Look("Safety", "Safety", (
        _f("category", "Category", remember=True),
        _f("text", "What happened"),
    )),
    "note": Look("Note", "Note", (_f("text", "Note"),)),
    # Opened from an alarm, which gives the event.
    "alarm_ack": Look("Acknowledge alarm", "Alarm ack", (_f("response", "What was done"),),
                      frozenset({"event_id"}), on_bar=False),
}  # fmt: skip

SAMPLE_LOOK = Look(
    "Sample taken",
    "Sample",
    (
        _f("sample_point", "Sample point", remember=True),
        _f("sample_type", "Type", remember=True,
           texts={"grab": "Grab", "composite": "Composite"}),
        # The page sends the window ending now, this many hours long.
        _f("composite_hours", "Composite hours", remember=True,
           extra={"type": "number", "min": "0.1", "step": "0.1"}),
        _f("container", "Container", remember=True),
        _f("preservation", "Preservation", remember=True),
        # The custody hand-over sent with the sample.
        _f("received_by", "Handed to (lab or person)", remember=True,
           extra={"type": "text", "maxlength": 200}),
        _f("notes", "Notes"),
    ),
    frozenset({"sampled_at", "composite_start", "composite_end", "composite_kind"}),
)  # fmt: skip

RESULT_LOOK = Look(
    "Lab result",
    "Lab result",
    (
        # The sample is the request's path: /api/samples/{id}/results.
        _f("sample_id", "Sample", options="samples",
           extra={"type": "select", "required": True}),
        _f("analyte", "Analyte", remember=True),
        _f("method", "Method", remember=True),
        _f("value", "Value"),
        _f("unit", "Unit", remember=True),
        _f("qualifier", "Qualifier"),
        _f("detection_limit", "Detection limit"),
    ),
    # The analyst is the person logged in; a parameter code, the analyst's name and a
    # lab's name are for results entered at a desk.
    frozenset({"analyzed_at", "analyst_id", "parameter_code", "analyst_name", "lab"}),
)  # fmt: skip


def label_of(name: str) -> str:
    """A field nobody labelled yet: its name in words (``feed_point`` -> "Feed point")."""
    return name.replace("_", " ").capitalize()


def field_spec(look: Field, prop: Mapping[str, Any] | None, required: bool) -> dict[str, Any]:
    """One field for the page: the model's JSON schema of it (``prop``) with its look."""
    spec: dict[str, Any] = {"name": look.name, "label": look.label}
    if look.extra is not None:
        spec |= {"required": False, **look.extra, "remember": look.remember}
        if look.options:
            spec["options"] = look.options
        return spec
    if prop is None:
        raise ValueError(f"{look.name}: not a field of the logbook's model")
    choices = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    if len(choices) != 1:
        raise ValueError(f"{look.name}: cannot make one form field of {prop}")
    kind, default = choices[0], prop.get("default")
    spec |= {"required": required, "remember": look.remember}
    if look.options:
        spec |= {"type": "select", "options": look.options, "blank": not required}
    elif "enum" in kind:
        values = [str(v) for v in kind["enum"]]
        options = [[v, look.texts.get(v, v.replace("_", " "))] for v in values]
        if not required and default is None:
            options.insert(0, ["", NONE])
        spec |= {"type": "select", "options": options}
    elif kind.get("type") == "boolean":
        spec["type"] = "checkbox"
    elif kind.get("type") in ("number", "integer"):
        spec["type"] = "number"
        bounds = {"gt": "exclusiveMinimum", "min": "minimum", "max": "maximum"}
        spec |= {key: kind[word] for key, word in bounds.items() if word in kind}
    elif kind.get("type") == "string" and "format" not in kind:
        long = kind.get("maxLength", 0) > LINE_MAX
        spec["type"] = "textarea" if long else "text"
        if "maxLength" in kind:
            spec["maxlength"] = kind["maxLength"]
    else:
        raise ValueError(f"{look.name}: no form field for {kind}")
    if default not in (None, "", False):
        spec["value"] = default
    return spec


def form(model: type[BaseModel], look: Look) -> dict[str, Any]:
    """``{title, button, fields}``: the look's fields in order, then any other field of the
    model that is typed, labelled from its name."""
    schema = model.model_json_schema()
    props: dict[str, Any] = schema["properties"]
    required = set(schema.get("required", ()))
    listed = {f.name for f in look.fields}
    unknown = look.not_typed - set(props)
    if unknown:
        raise ValueError(f"{model.__name__}: no fields {sorted(unknown)} to leave out")
    if listed & look.not_typed:
        raise ValueError(f"{model.__name__}: {sorted(listed & look.not_typed)} typed and not")
    unlabelled = [Field(n, label_of(n)) for n in props if n not in listed | look.not_typed]
    fields = [field_spec(f, props.get(f.name), f.name in required) for f in look.fields]
    fields += [field_spec(f, props[f.name], f.name in required) for f in unlabelled]
    return {"title": look.title, "button": look.button, "fields": fields}


LOOKS: dict[str, Look] = {**ENTRY_LOOKS, "sample": SAMPLE_LOOK, "result": RESULT_LOOK}
MODELS: dict[str, type[BaseModel]] = {**KINDS, "sample": SampleFields, "result": ResultFields}


def floor_forms() -> dict[str, dict[str, Any]]:
    """Every form of the terminal by kind: the entry kinds, then ``sample`` and ``result``."""
    unmatched = set(ENTRY_LOOKS) ^ set(KINDS)
    if unmatched:
        raise ValueError(f"entry kinds without a form, or forms without a kind: {unmatched}")
    return {kind: form(MODELS[kind], look) for kind, look in LOOKS.items()}


FORMS = floor_forms()
# The action bar's buttons, in order.
ACTIONS: dict[str, str] = {kind: look.button for kind, look in LOOKS.items() if look.on_bar}
# A record's kind in a few words (the shift's review).
KIND_LABELS: dict[str, str] = {kind: look.button for kind, look in LOOKS.items()}


def _json(ranges: Ranges | None) -> dict[str, Any] | None:
    return ranges.as_json() if ranges is not None else None


def with_ranges(
    forms: Mapping[str, dict[str, Any]], ranges: SiteRanges, tag_ids: Mapping[str, int]
) -> dict[str, dict[str, Any]]:
    """The forms with the site's ranges on each number field they judge (the forms given
    are left as they are). Each range is ``{of, unit, instrument, plausible}``, a span
    ``[low, high]`` with ``null`` for an open bound, or null where none is set.

    * ``ranges``: the field's own (a chemical amount; a reading by instrument or of a tag
      without a range of its own).
    * ``ranges_by``, ``ranges_of``: a field judged by another field's value: a reading's
      value by its ``tag_id`` (keys: tag ids), a result's value by its ``analyte`` (keys:
      the analyte's letters and digits in lower case, as ``sitefile.ranges.analyte_key``).
    """
    out = {kind: {**f, "fields": [dict(x) for x in f["fields"]]} for kind, f in forms.items()}

    def number(kind: str, name: str) -> dict[str, Any]:
        return next(x for x in out[kind]["fields"] if x["name"] == name)

    for kind, names in NUMBER_FIELDS.items():
        for name in names:
            spec = number(kind, name)
            if (kind, name) == ("reading", "value"):
                spec["ranges"] = _json(ranges.fields.get(READING_VALUE))
                spec["ranges_by"] = "tag_id"
                spec["ranges_of"] = {
                    str(tag_ids[t]): r.as_json() for t, r in ranges.tags.items() if t in tag_ids
                }
            else:
                spec["ranges"] = _json(ranges.of_field(kind, name))
    value = number("result", "value")
    value["ranges"] = None
    value["ranges_by"] = "analyte"
    value["ranges_of"] = {key: r.as_json() for key, r in ranges.analytes.items()}
    return out

// The floor terminal's numbers: what was typed read as a number (or why it is not one),
// and a value held against the site's ranges (on the forms' number fields, from
// dashboards/floor/forms.py with_ranges): outside the instrument range
// it is refused with the range named; outside the plausible range it is saved only with
// a confirmation and a reason. The server checks the same again.
(function () {
  "use strict";
  const F = window.ClearwellFloor;

  const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

  // {empty: true}, {value}, or {why}: what is wrong with the text, in words.
  F.parseNumber = function (text) {
    const t = String(text === undefined || text === null ? "" : text).trim();
    if (t === "") return { empty: true };
    if (NUMBER.test(t)) {
      const value = Number(t);
      if (Number.isFinite(value)) return { value };
      return { why: "“" + t + "” is too large a number" };
    }
    if (/^[+-]?\d+,\d+$/.test(t)) {
      return { why: "“" + t + "” is not a number: write decimals with a point (" +
        t.replace(",", ".") + ")" };
    }
    return { why: "“" + t + "” is not a number" };
  };

  function bound(x) { return x === null || x === undefined ? null : Number(x); }

  // As the server words a span: "0 to 20 mg/L", "0 m3/h or more", "20 mg/L or less".
  F.rangeText = function (pair, unit) {
    const lo = bound(pair[0]);
    const hi = bound(pair[1]);
    const u = unit ? " " + unit : "";
    if (lo !== null && hi !== null) return lo + " to " + hi + u;
    if (lo !== null) return lo + u + " or more";
    if (hi !== null) return hi + u + " or less";
    return "";
  };

  function outside(value, pair) {
    if (!pair) return false;
    const lo = bound(pair[0]);
    const hi = bound(pair[1]);
    return (lo !== null && value < lo) || (hi !== null && value > hi);
  }

  // What a value's ranges ({of, unit, instrument, plausible}) say: null (fine),
  // {refuse: message} or {confirm: message}.
  F.checkRange = function (value, ranges) {
    if (!ranges) return null;
    const unit = ranges.unit || "";
    const typed = value + (unit ? " " + unit : "");
    if (outside(value, ranges.instrument)) {
      return { refuse: typed + " is outside the instrument range " +
        F.rangeText(ranges.instrument, unit) + " of " + ranges.of };
    }
    if (outside(value, ranges.plausible)) {
      return { confirm: typed + " is implausible for " + ranges.of + ": " +
        F.rangeText(ranges.plausible, unit) + " expected. Confirm it with a reason." };
    }
    return null;
  };

  // The key of an analyte, as the site's ranges have them: letters and digits, any case.
  F.analyteKey = (name) => String(name || "").toLowerCase().replace(/[^0-9a-z]/g, "");

  // A model's own bounds (gt/min/max), in words; null when within them.
  F.checkBounds = function (value, field) {
    if (field.gt !== undefined && !(value > Number(field.gt))) return "must be more than " + field.gt;
    if (field.min !== undefined && value < Number(field.min)) return "must be at least " + field.min;
    if (field.max !== undefined && value > Number(field.max)) return "must be at most " + field.max;
    return null;
  };
})();

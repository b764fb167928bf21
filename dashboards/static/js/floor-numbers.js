// The floor terminal's numbers: what was typed read as a number (or why it is not one),
// and a value held against its ranges (ISSUE16-CONTRACT): outside the instrument range
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

  // "0 to 20 mg/L", "at least 0 mg/L", "at most 20 mg/L".
  F.rangeText = function (pair, unit) {
    const lo = bound(pair[0]);
    const hi = bound(pair[1]);
    const u = unit ? " " + unit : "";
    if (lo !== null && hi !== null) return lo + " to " + hi + u;
    if (lo !== null) return "at least " + lo + u;
    if (hi !== null) return "at most " + hi + u;
    return "";
  };

  function outside(value, pair) {
    if (!pair) return false;
    const lo = bound(pair[0]);
    const hi = bound(pair[1]);
    return (lo !== null && value < lo) || (hi !== null && value > hi);
  }

  // What a value's ranges say: null (fine), {refuse: message} or {confirm: message}.
  // `range` is {instrument, plausible, unit}; `what` names what the value belongs to.
  F.checkRange = function (value, range, what) {
    if (!range) return null;
    const unit = range.unit || "";
    if (outside(value, range.instrument)) {
      return { refuse: value + (unit ? " " + unit : "") + " is outside the instrument range " +
        F.rangeText(range.instrument, unit) + " of " + what };
    }
    if (outside(value, range.plausible)) {
      return { confirm: value + (unit ? " " + unit : "") + " is implausible for " + what + ": " +
        F.rangeText(range.plausible, unit) + " expected. Confirm it with a reason." };
    }
    return null;
  };

  // A model's own bounds (gt/min/max), in words; null when within them.
  F.checkBounds = function (value, field) {
    if (field.gt !== undefined && !(value > Number(field.gt))) return "must be more than " + field.gt;
    if (field.min !== undefined && value < Number(field.min)) return "must be at least " + field.min;
    if (field.max !== undefined && value > Number(field.max)) return "must be at most " + field.max;
    return null;
  };
})();

// The trend chart's axes, as uPlot options: the time axis on the plant's clock, with labels
// that never run into each other at any width, and a value axis per unit (the pens' plan,
// dashboards/trends/pens.py), left and right in turn. Loaded after uPlot and before
// trend.js, which builds its chart with window.ClearwellTrendAxes.
(function () {
  "use strict";

  // Times on the plant's clock, 24-hour, whatever the browser's zone and language.
  function clock(tz, opts) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: tz, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("en-GB", opts);
    }
  }

  function formats(tz) {
    return {
      minute: clock(tz, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
      second: clock(tz, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }),
      day: clock(tz, { day: "numeric", month: "short" }),
      month: clock(tz, { month: "short", year: "numeric" }),
      when: clock(tz, {
        weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23",
      }),
      span: clock(tz, {
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23",
      }),
    };
  }

  // The zone's abbreviation as the plant says it (MST, not GMT-7: en-GB has no names for
  // American zones).
  function zoneName(tz, d) {
    try {
      const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "short" })
        .formatToParts(d);
      return (parts.find((p) => p.type === "timeZoneName") || {}).value || tz;
    } catch (e) {
      return tz;
    }
  }

  // A moment in words on the plant's clock: "7 Dec 2026, 03:58 MST".
  function when(tz, d) {
    return `${formats(tz).span.format(d)} ${zoneName(tz, d)}`;
  }

  // The widest label each kind of tick can have, measured in the axis font: uPlot keeps
  // ticks at least `space` apart but cannot measure a label made by a function.
  function widths(font) {
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = font;
    const w = (samples) => Math.max(...samples.map((s) => ctx.measureText(s).width));
    return {
      minute: w(["00:00", "28 Sep", "30 May"]),
      second: w(["00:00:00", "28 Sep"]),
      day: w(["28 Sep", "30 May", "31 Mar"]),
      month: w(["Sep 2026", "May 2026"]),
    };
  }

  // The time axis: hours and minutes (and seconds when the ticks are closer than a minute),
  // with the day under the first tick of each day; only days once the ticks are a day or
  // more apart; months with their year once they are a month apart.
  function timeAxis(tz, fontPx, font, style) {
    const f = formats(tz);
    const wide = widths(font);
    const gap = fontPx * 1.5;
    function values(u, splits, axisIdx, space, incr) {
      let shown = null;
      return splits.map((ts) => {
        const d = new Date(ts * 1000);
        if (incr >= 28 * 86400) return f.month.format(d);
        const day = f.day.format(d);
        if (incr >= 86400) return day;
        const label = (incr < 60 ? f.second : f.minute).format(d);
        if (day === shown) return label;
        shown = day;
        return `${label}\n${day}`;
      });
    }
    // How far apart ticks must be for the labels their increment makes: uPlot picks the
    // smallest increment at least this far apart on screen.
    function space(u, axisIdx, min, max, dim) {
      const perPx = (max - min) / Math.max(1, dim);
      const need = (w) => Math.ceil(w + gap);
      if (perPx * need(wide.minute) < 60) return need(wide.second);
      if (perPx * need(wide.minute) < 86400) return need(wide.minute);
      if (perPx * need(wide.day) < 28 * 86400) return need(wide.day);
      return need(wide.month);
    }
    return { ...style, values, space, size: 2 * fontPx + 24, formats: f };
  }

  // An axis as wide as its widest label, as uPlot's own demo measures it.
  function autoSize(u, values, axisIdx, cycleNum) {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    let size = axis.ticks.size + axis.gap;
    const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
    if (longest !== "") {
      u.ctx.font = axis.font[0];
      size += u.ctx.measureText(longest).width / devicePixelRatio;
    }
    return Math.ceil(size + (axis.label ? axis.labelSize : 0));
  }

  // A value axis per unit, in the plan's order; the first ones only where the chart is too
  // narrow for all (the pens' list still gives every value with its unit).
  function valueAxes(plan, opts) {
    return plan.map((a, i) => {
      const colour = (opts.print ? a.print_colour : a.colour) || opts.muted;
      return {
        ...opts.style,
        scale: a.scale,
        side: a.side === "left" ? 3 : 1,
        show: i < opts.shown,
        label: a.label,
        labelFont: opts.font,
        labelSize: opts.fontPx + 8,
        labelGap: 2,
        stroke: colour,
        grid: { ...opts.style.grid, show: i === 0 },
        gap: 6,
        size: autoSize,
      };
    });
  }

  window.ClearwellTrendAxes = { clock, formats, timeAxis, valueAxes, when };
})();

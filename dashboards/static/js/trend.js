// The trend page: asks /api/trends for about one point per pixel column of the
// chart and draws min-max band, average line, and the spans with no data or bad
// quality. Missing data is drawn as missing: null values break the lines.
(function () {
  "use strict";

  const root = document.getElementById("trend");
  if (!root || typeof uPlot === "undefined") return;

  const chartEl = document.getElementById("trend-chart");
  const messageEl = document.getElementById("trend-message");
  const metaEl = document.getElementById("trend-meta");
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const periodS = Number(root.dataset.periodS);
  const unit = root.dataset.unit || "";
  const tz = root.dataset.timezone || "UTC";
  // Live periods refresh often; long ones only now and then.
  // Axis labels follow the page's font size, which grows with the screen.
  const axisPx = Math.max(16, Math.round(0.8 * parseFloat(css.fontSize || "18")));
  const refreshMs = periodS <= 86400 ? 15000 : 60000;

  let plot = null;
  let pending = null;
  let spans = { gaps: [], bad: [] };

  function setState(state, message) {
    root.dataset.state = state;
    messageEl.textContent = message || "";
  }

  function size() {
    const width = Math.max(300, chartEl.clientWidth);
    const top = chartEl.getBoundingClientRect().top;
    const height = Math.max(300, Math.round(window.innerHeight - top - 140));
    return { width, height };
  }

  function fmtValue(u, v) {
    return v == null ? "—" : v.toLocaleString(undefined, { maximumSignificantDigits: 5 });
  }

  // Times on the plant's clock, 24-hour, whatever the browser's zone and language.
  function clock(opts) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: tz, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("en-GB", opts);
    }
  }
  const hourFmt = clock({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const dayFmt = clock({ day: "numeric", month: "short" });
  const whenFmt = clock({
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  });

  // The time axis: hours and minutes, with the day under the first tick of each day; only
  // days once the ticks are a day or more apart.
  function timeLabels(u, splits, axisIdx, space, incr) {
    let shown = null;
    return splits.map((ts) => {
      const d = new Date(ts * 1000);
      const day = dayFmt.format(d);
      if (incr >= 86400) return day;
      const label = hourFmt.format(d);
      if (day === shown) return label;
      shown = day;
      return `${label}\n${day}`;
    });
  }

  function fmtTime(u, ts) {
    return ts == null ? "—" : whenFmt.format(new Date(ts * 1000));
  }

  function stripes(ctx) {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 10;
    const t = tile.getContext("2d");
    t.strokeStyle = "rgba(255, 92, 92, 0.75)";
    t.lineWidth = 3;
    t.beginPath();
    t.moveTo(0, 10);
    t.lineTo(10, 0);
    t.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  function drawSpans(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const shade = (list, fill) => {
      ctx.fillStyle = fill;
      for (const [a, b] of list) {
        const x0 = Math.max(left, u.valToPos(a, "x", true));
        const x1 = Math.min(left + width, u.valToPos(b, "x", true));
        if (x1 > x0) ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
      }
    };
    ctx.save();
    shade(spans.gaps, "rgba(107, 116, 130, 0.45)");
    shade(spans.bad, "rgba(255, 92, 92, 0.18)");
    shade(spans.bad, stripes(ctx));
    ctx.restore();
  }

  function options(data) {
    const accent = color("--accent") || "#4fc3ff";
    const muted = color("--muted") || "#b8c0cc";
    const label = `${data.tag.name}${unit ? " (" + unit + ")" : ""}`;
    const axis = {
      stroke: muted,
      grid: { stroke: "#2a313b", width: 1 },
      ticks: { stroke: "#2a313b", width: 1 },
      font: `${axisPx}px DejaVu Sans, Arial, sans-serif`,
    };
    return {
      ...size(),
      tzDate: (ts) => {
        try {
          return uPlot.tzDate(new Date(ts * 1e3), tz);
        } catch (e) {
          return new Date(ts * 1e3);
        }
      },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      series: [
        { label: "Time", value: fmtTime },
        { label: "Min", stroke: "rgba(79, 195, 255, 0.6)", width: 1, value: fmtValue },
        { label: "Max", stroke: "rgba(79, 195, 255, 0.6)", width: 1, value: fmtValue },
        { label: label, stroke: accent, width: 2.5, value: fmtValue },
      ],
      bands: [{ series: [2, 1], fill: "rgba(79, 195, 255, 0.25)" }],
      axes: [
        // Room between ticks for a day's label ("15 Nov"), which uPlot cannot measure.
        { ...axis, values: timeLabels, size: 2 * axisPx + 24, space: 4 * axisPx },
        { ...axis, size: 80, label: unit, labelFont: axis.font },
      ],
      hooks: { drawAxes: [drawSpans], draw: [onDraw] },
      // The log entries on the time axis (trend-marks.js), when that script is loaded.
      plugins: window.ClearwellTrendMarks ? [window.ClearwellTrendMarks()] : [],
    };
  }

  async function load() {
    const now = Date.now() / 1000;
    const width = chartEl.clientWidth || 1000;
    const params = new URLSearchParams({
      tag: root.dataset.tagId,
      start: new Date((now - periodS) * 1000).toISOString(),
      end: new Date(now * 1000).toISOString(),
      // About one point per 1.5 pixel columns: a min-max band that dense looks the
      // same as one per column, and a month then comes from the hourly rollups
      // (measured: about 5 times faster than 30 min buckets from minute rollups).
      points: String(Math.min(5000, Math.max(60, Math.round(width / 1.5)))),
    });
    let data;
    const t0 = performance.now();
    try {
      const res = await fetch(`${root.dataset.api}?${params}`, { headers: { Accept: "application/json" } });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        setState("error", `Cannot load the trend: ${body.detail || res.status}`);
        return;
      }
      data = await res.json();
    } catch (e) {
      // Network drop on the floor: keep the last drawing and try again on the next tick.
      setState(plot ? "stale" : "error", "No connection to the server; retrying.");
      return;
    }
    pending = { t0: t0, t1: performance.now(), data: data };
    spans = { gaps: data.gaps, bad: data.bad };
    const series = [data.t, data.min, data.max, data.avg];
    if (plot) {
      plot.setData(series);
    } else {
      plot = new uPlot(options(data), series, chartEl);
    }
  }

  // uPlot draws after the current task; the page counts as drawn only then.
  function onDraw() {
    if (!pending) return;
    const { t0, t1, data } = pending;
    pending = null;
    // How long the request (with parsing) and the drawing took, for the benchmark.
    root.dataset.fetchMs = (t1 - t0).toFixed(1);
    root.dataset.drawMs = (performance.now() - t1).toFixed(1);
    const drawn = data.avg.filter((v) => v != null).length;
    root.dataset.points = String(data.t.length);
    root.dataset.source = data.source;
    const from = data.source === "raw" ? "raw readings" : data.source + " rollups";
    metaEl.textContent = `${data.t.length} points · ${bucketLabel(data.bucket_s)} buckets · from ${from}`;
    setState("drawn", drawn ? "" : "No good data in this period.");
  }

  function bucketLabel(s) {
    if (s % 86400 === 0) return `${s / 86400} d`;
    if (s % 3600 === 0) return `${s / 3600} h`;
    if (s % 60 === 0) return `${s / 60} min`;
    return `${s} s`;
  }

  window.addEventListener("resize", () => {
    if (plot) plot.setSize(size());
  });
  load();
  setInterval(load, refreshMs);
})();

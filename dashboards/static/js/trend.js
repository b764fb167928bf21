// The trend page: asks /api/trends for its pens (up to 8 tags) in about one bucket per
// 1.5 pixel columns of the chart and draws each pen's average on its unit's axis (one pen
// also its min-max band), the spans with no data or bad quality, and the log entries
// (trend-marks.js). Missing data is drawn as missing: null values break the lines.
// Dragging across the chart zooms in, asking the server for the narrower range's finer
// buckets; Reset zoom goes back. The export links and the print view follow what is shown.
(function () {
  "use strict";

  // Lists that show their page as soon as a choice is made (no inline handlers).
  for (const el of document.querySelectorAll("[data-submit-on-change]")) {
    el.addEventListener("change", () => el.form && el.form.submit());
  }

  const root = document.getElementById("trend");
  if (!root || typeof uPlot === "undefined" || !window.ClearwellTrendAxes) return;
  const Axes = window.ClearwellTrendAxes;

  const chartEl = document.getElementById("trend-chart");
  const messageEl = document.getElementById("trend-message");
  const metaEl = document.getElementById("trend-meta");
  const rangeEl = document.getElementById("trend-range");
  const whenEl = document.getElementById("pens-when");
  const resetEl = document.getElementById("zoom-reset");
  const hintEl = document.getElementById("zoom-hint");
  const csvEl = document.getElementById("export-csv");
  const rawEl = document.getElementById("export-raw");
  const printLinkEl = document.getElementById("print-link");
  const pensEl = root.querySelector(".pens");
  const keyEl = root.querySelector(".trend-key");

  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const pens = JSON.parse(root.dataset.pens);
  const plan = JSON.parse(root.dataset.axes);
  const printing = root.dataset.print === "1";
  const periodS = Number(root.dataset.periodS);
  const fixed = root.dataset.start != null
    ? [Number(root.dataset.start), Number(root.dataset.end)]
    : null;
  const tz = root.dataset.timezone || "UTC";
  const single = pens.length === 1;
  // Axis labels follow the page's font size, which grows with the screen.
  const axisPx = Math.max(14, Math.round(0.8 * parseFloat(css.fontSize || "18")));
  const font = `${axisPx}px DejaVu Sans, Arial, sans-serif`;
  const fmt = Axes.formats(tz);
  // Live periods refresh often; long ones only now and then; a fixed range never.
  const refreshMs = periodS <= 86400 ? 15000 : 60000;
  // The narrowest zoom: a minute (a 1 s tag's readings one by one).
  const MIN_ZOOM_S = 60;

  let plot = null;
  let pending = null;
  let last = null; // the answer drawn
  let zoom = null; // [from, to] while zoomed in
  let seq = 0;
  let spans = [];

  const paint = printing
    ? { axis: "#333333", grid: "#d0d4da", band: "rgba(0, 98, 158, 0.18)", gap: "rgba(120, 128, 140, 0.35)", bad: "rgba(200, 40, 40, 0.15)", hatch: "rgba(200, 40, 40, 0.7)" }
    : { axis: color("--muted") || "#b8c0cc", grid: "#2a313b", band: "rgba(79, 195, 255, 0.25)", gap: "rgba(107, 116, 130, 0.45)", bad: "rgba(255, 92, 92, 0.18)", hatch: "rgba(255, 92, 92, 0.75)" };

  for (const p of pens) {
    const el = root.querySelector(`[data-pen="${p.id}"]`);
    if (el) el.style.setProperty("--pen", printing ? p.print_colour : p.colour);
  }

  function setState(state, message) {
    root.dataset.state = state;
    messageEl.textContent = message || "";
  }

  function range() {
    if (zoom) return zoom;
    if (fixed) return fixed;
    const now = Date.now() / 1000;
    return [now - periodS, now];
  }

  function size() {
    if (printing) {
      // A landscape page's width at 96 dpi, whatever the screen.
      return { width: Math.min(1000, Math.max(300, chartEl.clientWidth)), height: 460 };
    }
    const width = Math.max(280, chartEl.clientWidth);
    const top = chartEl.getBoundingClientRect().top + window.scrollY;
    // Room for the pens' values under the chart too.
    const below = (pensEl ? pensEl.offsetHeight : 0) + keyEl.offsetHeight + 100;
    const room = window.innerHeight - top - below;
    return { width, height: Math.max(300, Math.min(Math.round(room), Math.round(width * 0.6))) };
  }

  function number(v) {
    return v == null ? "—" : v.toLocaleString("en-US", { maximumSignificantDigits: 4 });
  }

  function stripes(ctx) {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 10;
    const t = tile.getContext("2d");
    t.strokeStyle = paint.hatch;
    t.lineWidth = 3;
    t.beginPath();
    t.moveTo(0, 10);
    t.lineTo(10, 0);
    t.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // No data and bad quality, drawn under the lines: where every pen has a gap, grey; where
  // any pen is bad, red hatching; with several pens a span of one pen is a band at the
  // plot's foot in that pen's colour, so it is clear whose it is.
  function drawSpans(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const x = (v) => u.valToPos(v, "x", true);
    const shade = (list, fill, y, h) => {
      ctx.fillStyle = fill;
      for (const [a, b] of list) {
        const x0 = Math.max(left, x(a));
        const x1 = Math.min(left + width, x(b));
        if (x1 > x0) ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
      }
    };
    ctx.save();
    if (single) {
      shade(spans[0].gaps, paint.gap, top, height);
      shade(spans[0].bad, paint.bad, top, height);
      shade(spans[0].bad, stripes(ctx), top, height);
    } else {
      const lane = Math.round(6 * devicePixelRatio);
      spans.forEach((s, i) => {
        const y = top + height - (i + 1) * lane;
        const pen = pens[i];
        shade(s.gaps, paint.gap, y, lane);
        shade(s.bad, stripes(ctx), y, lane);
        ctx.globalAlpha = 0.9;
        shade(s.gaps.concat(s.bad), printing ? pen.print_colour : pen.colour, y, Math.max(1, lane / 3));
        ctx.globalAlpha = 1;
      });
    }
    ctx.restore();
  }

  function series() {
    const out = [{ label: "Time" }];
    if (single) {
      const p = pens[0];
      const stroke = printing ? p.print_colour : p.colour;
      out.push(
        { label: "Min", scale: p.scale, stroke: paint.band, width: 1 },
        { label: "Max", scale: p.scale, stroke: paint.band, width: 1 },
        { label: p.name, scale: p.scale, stroke: stroke, width: 2.5 },
      );
      return out;
    }
    for (const p of pens) {
      out.push({
        label: p.name,
        scale: p.scale,
        stroke: printing ? p.print_colour : p.colour,
        width: 2,
        dash: p.dash.length ? p.dash : undefined,
      });
    }
    return out;
  }

  function options() {
    const style = {
      stroke: paint.axis,
      grid: { stroke: paint.grid, width: 1 },
      ticks: { stroke: paint.grid, width: 1 },
      font: font,
    };
    const box = size();
    const scales = { x: { time: true, range: () => range() } };
    for (const a of plan) scales[a.scale] = { auto: true };
    return {
      ...box,
      tzDate: (ts) => {
        try {
          return uPlot.tzDate(new Date(ts * 1e3), tz);
        } catch (e) {
          return new Date(ts * 1e3);
        }
      },
      legend: { show: false },
      cursor: { drag: { x: !printing, y: false, setScale: false } },
      scales: scales,
      series: series(),
      bands: single ? [{ series: [2, 1], fill: paint.band }] : [],
      axes: [
        Axes.timeAxis(tz, axisPx, font, style),
        ...Axes.valueAxes(plan, {
          style: style, font: font, fontPx: axisPx, muted: paint.axis, print: printing,
          // A phone's chart has room for two value axes; the pens' list names every unit.
          shown: box.width < 700 ? 2 : plan.length,
        }),
      ],
      hooks: {
        drawAxes: [drawSpans],
        draw: [onDraw],
        setCursor: [showValues],
        setSelect: [onSelect],
      },
      // The log entries on the time axis (trend-marks.js), when that script is loaded.
      plugins: window.ClearwellTrendMarks
        ? [window.ClearwellTrendMarks({ zoomTo: printing ? null : zoomTo, print: printing })]
        : [],
    };
  }

  function columns(data) {
    if (single) {
      const s = data.series[0];
      return [data.t, s.min, s.max, s.avg];
    }
    return [data.t, ...data.series.map((s) => s.avg)];
  }

  function params(a, b, extra) {
    const q = new URLSearchParams();
    for (const p of pens) q.append("tag", String(p.id));
    q.set("start", new Date(a * 1000).toISOString());
    q.set("end", new Date(b * 1000).toISOString());
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }

  function points() {
    const width = chartEl.clientWidth || 1000;
    // About one point per 1.5 pixel columns: a min-max band that dense looks the same as
    // one per column, and a month then comes from the hourly rollups (measured: about 5
    // times faster than 30 min buckets from minute rollups).
    return String(Math.min(5000, Math.max(60, Math.round(width / 1.5))));
  }

  async function load() {
    const [a, b] = range();
    const mine = ++seq;
    const query = params(a, b, { points: points() });
    let data;
    const t0 = performance.now();
    try {
      const res = await fetch(`${root.dataset.api}?${query}`, {
        headers: { Accept: "application/json" },
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        const detail = Array.isArray(body.detail)
          ? body.detail.map((d) => `${d.loc[d.loc.length - 1]}: ${d.msg}`).join("; ")
          : body.detail;
        setState("error", `Cannot load the trend: ${detail || res.status}`);
        return;
      }
      data = await res.json();
    } catch (e) {
      // Network drop on the floor: keep the last drawing and try again on the next tick.
      setState(plot ? "stale" : "error", "No connection to the server; retrying.");
      return;
    }
    if (mine !== seq) return; // a newer request (a zoom) went out meanwhile
    pending = { t0: t0, t1: performance.now(), data: data };
    last = data;
    spans = data.series.map((s) => ({ gaps: s.gaps, bad: s.bad }));
    links(a, b, query.get("points"));
    if (plot) {
      plot.setData(columns(data));
    } else {
      plot = new uPlot(options(), columns(data), chartEl);
    }
  }

  // The exports and the print view of what is shown.
  function links(a, b, pts) {
    if (csvEl) csvEl.href = `${root.dataset.api}?${params(a, b, { points: pts, format: "csv" })}`;
    if (rawEl) {
      rawEl.href = `${root.dataset.api}?${params(a, b, { format: "csv", resolution: "raw" })}`;
    }
    if (printLinkEl) {
      if (zoom) {
        const u = new URL(root.dataset.pageHref, location.href);
        u.searchParams.delete("period");
        u.searchParams.set("from", new Date(a * 1000).toISOString());
        u.searchParams.set("to", new Date(b * 1000).toISOString());
        u.searchParams.set("print", "1");
        printLinkEl.href = u.pathname + u.search;
      } else {
        printLinkEl.href = root.dataset.printHref;
      }
    }
  }

  // uPlot draws after the current task; the page counts as drawn only then.
  function onDraw(u) {
    if (!pending) return;
    const { t0, t1, data } = pending;
    pending = null;
    // How long the request (with parsing) and the drawing took, for the benchmark.
    root.dataset.fetchMs = (t1 - t0).toFixed(1);
    root.dataset.drawMs = (performance.now() - t1).toFixed(1);
    // And from the page's own start (its navigation) to the first drawing.
    if (!root.dataset.drawnAtMs) root.dataset.drawnAtMs = performance.now().toFixed(1);
    root.dataset.points = String(data.t.length);
    root.dataset.source = data.source;
    const from = data.source === "raw" ? "raw readings" : data.source + " rollups";
    metaEl.textContent = `${data.t.length} points · ${bucketLabel(data.bucket_s)} buckets · from ${from}`
      + (data.note ? ` · ${data.note}` : "");
    const drawn = data.series.some((s) => s.avg.some((v) => v != null));
    showValues(u);
    if (printing) fillTable(data);
    setState("drawn", drawn ? "" : "No good data in this period.");
  }

  function bucketLabel(s) {
    if (s % 86400 === 0) return `${s / 86400} d`;
    if (s % 3600 === 0) return `${s / 3600} h`;
    if (s % 60 === 0) return `${s / 60} min`;
    return `${s} s`;
  }

  function lastIndex(values) {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return i;
    return null;
  }

  // The pens' list: each pen's value (and min-max) at the cursor, else its latest.
  function showValues(u) {
    if (!last || printing) return;
    // The cursor's index may be of the data drawn before (a zoom's answer is shorter).
    const idx = u.cursor.idx != null && u.cursor.idx < last.t.length ? u.cursor.idx : null;
    if (whenEl) {
      whenEl.textContent = idx != null
        ? `At ${fmt.when.format(new Date(last.t[idx] * 1000))}`
        : zoom || fixed ? "Last in the range" : "Latest";
    }
    last.series.forEach((s, i) => {
      const el = root.querySelector(`[data-pen="${pens[i].id}"] [data-value]`);
      if (!el) return;
      const at = idx != null ? idx : lastIndex(s.avg);
      const v = at == null ? null : s.avg[at];
      const unit = pens[i].unit ? ` ${pens[i].unit}` : "";
      el.textContent = v == null ? "—" : `${number(v)}${unit}`;
      const lo = at == null ? null : s.min[at];
      const hi = at == null ? null : s.max[at];
      el.title = lo != null && hi != null && lo !== hi ? `min ${number(lo)}, max ${number(hi)}` : "";
    });
  }

  function fillTable(data) {
    data.series.forEach((s, i) => {
      const row = root.querySelector(`[data-pen="${pens[i].id}"]`);
      if (!row) return;
      for (const stat of ["min", "avg", "max"]) {
        const cell = row.querySelector(`[data-stat="${stat}"]`);
        if (cell) cell.textContent = number(s.summary[stat]);
      }
    });
    const printed = document.getElementById("printed-at");
    if (printed) printed.textContent = Axes.when(tz, new Date());
  }

  function spanWords(a, b) {
    return `${Axes.when(tz, new Date(a * 1000))} – ${Axes.when(tz, new Date(b * 1000))}`;
  }

  function zoomTo(a, b) {
    if (b - a < MIN_ZOOM_S) {
      const mid = (a + b) / 2;
      a = mid - MIN_ZOOM_S / 2;
      b = mid + MIN_ZOOM_S / 2;
    }
    if (!zoom && rangeEl) rangeEl.dataset.page = rangeEl.textContent;
    zoom = [a, b];
    if (resetEl) resetEl.hidden = false;
    if (hintEl) hintEl.hidden = true;
    if (rangeEl) rangeEl.textContent = `zoomed in: ${spanWords(a, b)}`;
    root.dataset.zoomed = "1";
    setState("loading", "");
    load();
  }

  function resetZoom() {
    if (!zoom) return;
    zoom = null;
    if (resetEl) resetEl.hidden = true;
    if (hintEl) hintEl.hidden = false;
    if (rangeEl && rangeEl.dataset.page) rangeEl.textContent = rangeEl.dataset.page;
    delete root.dataset.zoomed;
    setState("loading", "");
    load();
  }

  function onSelect(u) {
    const { left, width } = u.select;
    if (width < 8) return;
    const a = u.posToVal(left, "x");
    const b = u.posToVal(left + width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    zoomTo(a, b);
  }

  if (resetEl) resetEl.addEventListener("click", resetZoom);
  chartEl.addEventListener("dblclick", resetZoom);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && zoom) resetZoom();
  });
  const printNow = document.getElementById("print-now");
  if (printNow) printNow.addEventListener("click", () => window.print());

  window.addEventListener("resize", () => {
    if (plot) plot.setSize(size());
  });
  // For the browser tests: the chart as drawn, and the zoom.
  window.ClearwellTrend = { plot: () => plot, zoomTo: zoomTo, resetZoom: resetZoom };
  load();
  if (!fixed && !printing) {
    setInterval(() => {
      if (!zoom) load();
    }, refreshMs);
  }
})();

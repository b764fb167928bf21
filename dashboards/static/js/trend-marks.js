// The operators' log entries marked on the trend's time axis: a uPlot plugin that asks
// /api/trends/entries for the entries of the pens' site within the chart's x range and
// places a marker over the plot per entry, or per group of entries closer together on the
// screen than a marker's room (a month of a busy plant's log is over a thousand entries): a
// group's marker says how many it holds. Hovering, focusing or tapping a marker shows its
// entries; pressing a group's zooms the chart to its entries. Loaded after uPlot and before
// trend.js, which adds the plugin to its chart through window.ClearwellTrendMarks
// (a function making one plugin, given what zooms the chart).
(function () {
  "use strict";

  const script = document.currentScript;
  const api = script && script.dataset.api;
  const root = document.getElementById("trend");
  if (!api || !root || typeof uPlot === "undefined") return;

  const tz = root.dataset.timezone || "UTC";
  const pens = JSON.parse(root.dataset.pens || "[]");
  function clock(opts) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: tz, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("en-GB", opts);
    }
  }
  const timeFmt = clock({
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  const COLOURS = { related: "#ffd24a", operational: "#f4f6f8", other: "#b8c0cc" };
  const PRINT_COLOURS = { related: "#8a5a00", operational: "#222222", other: "#666666" };
  // Markers are at least this far apart (CSS px): entries closer than that are one group.
  const ROOM_PX = 32;
  // The entries endpoint's longest window; a longer chart shows none, and says so.
  const MAX_WINDOW_S = 62 * 86400;
  // A group's tip lists this many entries, then says how many more.
  const LISTED = 6;

  // Entries (in time order) in groups of those within ROOM_PX of the group's first.
  function groups(entries, u, width) {
    const out = [];
    for (const e of entries) {
      const x = u.valToPos(e.t, "x");
      if (!(x >= 0 && x <= width)) continue;
      const g = out[out.length - 1];
      if (g && x - g.x < ROOM_PX) g.items.push(e);
      else out.push({ x: x, items: [e] });
    }
    return out;
  }

  function marksPlugin(opts) {
    const zoomTo = (opts && opts.zoomTo) || null;
    const palette = opts && opts.print ? PRINT_COLOURS : COLOURS;
    // A group's count on its colour: dark on the screen's light marks, white on paper's dark.
    const ink = opts && opts.print ? "#ffffff" : "#0b0d10";
    let entries = [];
    let loadedFor = "";
    let layer = null;
    let tip = null;
    let pinned = null;

    function line(e) {
      const row = document.createElement("div");
      row.className = "trend-mark-row";
      const head = document.createElement("strong");
      head.textContent = `${timeFmt.format(new Date(e.t * 1000))} · ${e.label}`;
      const by = document.createElement("span");
      by.textContent = ` · ${e.by}${e.amended ? " · amended" : ""}`;
      const what = document.createElement("div");
      what.textContent = e.summary;
      row.append(head, by, what);
      return row;
    }

    function showTip(u, g, el) {
      tip.textContent = "";
      if (g.items.length > 1) {
        const head = document.createElement("div");
        head.className = "trend-mark-count";
        head.textContent = `${g.items.length} entries`;
        tip.append(head);
      }
      for (const e of g.items.slice(0, g.items.length > LISTED + 1 ? LISTED : LISTED + 1)) {
        tip.append(line(e));
      }
      const more = g.items.length - tip.querySelectorAll(".trend-mark-row").length;
      if (more > 0) {
        const rest = document.createElement("div");
        rest.className = "trend-mark-more";
        rest.textContent = `and ${more} more${zoomTo ? ": press to zoom in" : ""}`;
        tip.append(rest);
      }
      tip.hidden = false;
      const x = parseFloat(el.style.left);
      const width = u.over.clientWidth;
      tip.style.left = x > width / 2 ? "" : `${x + 12}px`;
      tip.style.right = x > width / 2 ? `${width - x + 12}px` : "";
      tip.dataset.entry = String(g.items[0].id);
    }

    function hideTip() {
      if (pinned == null) tip.hidden = true;
    }

    function kindOf(items) {
      if (items.some((e) => e.related)) return "related";
      if (items.some((e) => e.operational)) return "operational";
      return "other";
    }

    function marker(u, g) {
      const first = g.items[0];
      const last = g.items[g.items.length - 1];
      const many = g.items.length > 1;
      const kind = kindOf(g.items);
      const colour = palette[kind];
      const el = document.createElement("button");
      el.type = "button";
      el.className = many ? "trend-mark trend-mark-group" : "trend-mark";
      el.dataset.entry = String(first.id);
      el.dataset.count = String(g.items.length);
      el.dataset.kind = many ? "group" : first.kind;
      el.setAttribute(
        "aria-label",
        many
          ? `${g.items.length} log entries from ${timeFmt.format(new Date(first.t * 1000))}` +
              ` to ${timeFmt.format(new Date(last.t * 1000))}`
          : `${first.label} by ${first.by}: ${first.summary}`,
      );
      el.style.cssText =
        `position:absolute;top:0;${many ? "height:26px" : "bottom:0"};left:${g.x}px;width:16px;` +
        "margin-left:-8px;padding:0;" +
        "border:0;background:transparent;cursor:pointer;pointer-events:auto;";
      // A single entry's line crosses the plot; a group's is a short stem under its count,
      // so that a month of groups does not hide the pens.
      const rule = document.createElement("span");
      const solid = g.items.some((e) => e.operational);
      rule.style.cssText =
        `position:absolute;top:0;${many ? "height:26px" : "bottom:0"};left:7px;` +
        `width:${kind === "related" ? 3 : 2}px;background:${colour};opacity:0.85;` +
        (solid ? "" : `background:repeating-linear-gradient(${colour} 0 6px, transparent 6px 10px);`);
      el.append(rule);
      if (many) {
        const badge = document.createElement("span");
        badge.className = "trend-mark-badge";
        badge.textContent = g.items.length > 999 ? "999+" : String(g.items.length);
        badge.style.cssText =
          `position:absolute;top:0;left:8px;transform:translateX(-50%);min-width:18px;` +
          `padding:0 3px;border-radius:9px;background:${colour};color:${ink};` +
          "font:700 12px/18px DejaVu Sans, Arial, sans-serif;text-align:center;";
        el.append(badge);
      } else {
        const flag = document.createElement("span");
        flag.style.cssText =
          `position:absolute;top:0;left:7px;width:0;height:0;border-top:7px solid transparent;` +
          `border-bottom:7px solid transparent;border-left:10px solid ${colour};`;
        el.append(flag);
      }
      el.addEventListener("mouseenter", () => showTip(u, g, el));
      el.addEventListener("focus", () => showTip(u, g, el));
      el.addEventListener("mouseleave", hideTip);
      el.addEventListener("blur", hideTip);
      el.addEventListener("click", () => {
        // A group over a stretch of time opens out into it; the rest pin their tip.
        if (many && zoomTo && last.t > first.t) {
          pinned = null;
          tip.hidden = true;
          const pad = Math.max(60, (last.t - first.t) * 0.1);
          zoomTo(first.t - pad, last.t + pad);
          return;
        }
        pinned = pinned === first.id ? null : first.id;
        if (pinned == null) tip.hidden = true;
        else showTip(u, g, el);
      });
      return el;
    }

    function place(u) {
      if (!layer) return;
      layer.textContent = "";
      const found = groups(entries, u, u.over.clientWidth);
      for (const g of found) layer.appendChild(marker(u, g));
      root.dataset.markers = String(found.length);
    }

    async function load(u) {
      const min = u.scales.x.min;
      const max = u.scales.x.max;
      if (min == null || max == null || !(max > min)) return;
      const key = `${Math.floor(min)}:${Math.ceil(max)}`;
      if (key === loadedFor) return;
      loadedFor = key;
      if (max - min > MAX_WINDOW_S) {
        entries = [];
        place(u);
        root.dataset.marks = "too-long";
        return;
      }
      const params = new URLSearchParams({
        start: new Date(min * 1000).toISOString(),
        end: new Date(max * 1000).toISOString(),
      });
      for (const p of pens) params.append("tag", String(p.id));
      let body;
      try {
        const res = await fetch(`${api}?${params}`, { headers: { Accept: "application/json" } });
        if (!res.ok) {
          root.dataset.marks = "error";
          return;
        }
        body = await res.json();
      } catch (err) {
        loadedFor = ""; // the link dropped: try again with the next refresh
        return;
      }
      if (key !== loadedFor) return; // the chart moved on meanwhile
      entries = body.entries;
      place(u);
      root.dataset.marks = String(entries.length);
    }

    return {
      hooks: {
        init: [
          (u) => {
            layer = document.createElement("div");
            layer.className = "trend-marks";
            layer.style.cssText = "position:absolute;inset:0;pointer-events:none;z-index:5;";
            tip = document.createElement("div");
            tip.className = "trend-mark-tip";
            tip.setAttribute("role", "tooltip");
            tip.hidden = true;
            u.over.append(layer, tip);
          },
        ],
        setScale: [(u, key) => { if (key === "x") load(u); }],
        draw: [(u) => { place(u); load(u); }],
      },
    };
  }

  window.ClearwellTrendMarks = marksPlugin;
})();

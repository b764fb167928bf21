// The operators' log entries marked on the trend's time axis: a uPlot plugin that asks
// /api/trends/entries for the entries of the tag's site within the chart's x range and
// places a marker per entry over the plot; hovering (or tapping, or focusing) a marker
// shows the entry. Loaded after uPlot and before trend.js, which adds the plugin to its
// chart's options through window.ClearwellTrendMarks (a function making one plugin).
(function () {
  "use strict";

  const script = document.currentScript;
  const api = script && script.dataset.api;
  const root = document.getElementById("trend");
  if (!api || !root || typeof uPlot === "undefined") return;

  const tz = root.dataset.timezone || "UTC";
  let timeFmt;
  try {
    timeFmt = new Intl.DateTimeFormat(undefined, {
      timeZone: tz, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    });
  } catch (e) {
    timeFmt = new Intl.DateTimeFormat(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  }

  const COLOURS = { related: "#ffd24a", operational: "#f4f6f8", other: "#b8c0cc" };

  function marksPlugin() {
    let entries = [];
    let loadedFor = "";
    let layer = null;
    let tip = null;
    let pinned = null;

    function showTip(u, e, el) {
      tip.innerHTML = "";
      const head = document.createElement("strong");
      head.textContent = `${timeFmt.format(new Date(e.t * 1000))} · ${e.label}`;
      const by = document.createElement("div");
      by.textContent = `${e.by}${e.amended ? " · amended" : ""}`;
      const what = document.createElement("div");
      what.textContent = e.summary;
      tip.append(head, by, what);
      tip.hidden = false;
      const x = parseFloat(el.style.left);
      const width = u.over.clientWidth;
      tip.style.left = x > width / 2 ? "" : `${x + 12}px`;
      tip.style.right = x > width / 2 ? `${width - x + 12}px` : "";
      tip.dataset.entry = String(e.id);
    }

    function hideTip() {
      if (pinned == null) tip.hidden = true;
    }

    function place(u) {
      if (!layer) return;
      layer.textContent = "";
      const width = u.over.clientWidth;
      for (const e of entries) {
        const x = u.valToPos(e.t, "x");
        if (!(x >= 0 && x <= width)) continue;
        const el = document.createElement("button");
        el.type = "button";
        el.className = "trend-mark";
        el.dataset.entry = String(e.id);
        el.dataset.kind = e.kind;
        el.setAttribute("aria-label", `${e.label} by ${e.by}: ${e.summary}`);
        const colour = e.related ? COLOURS.related : e.operational ? COLOURS.operational : COLOURS.other;
        el.style.cssText =
          `position:absolute;top:0;bottom:0;left:${x}px;width:16px;margin-left:-8px;padding:0;` +
          "border:0;background:transparent;cursor:pointer;pointer-events:auto;";
        const line = document.createElement("span");
        line.style.cssText =
          `position:absolute;top:0;bottom:0;left:7px;width:${e.related ? 3 : 2}px;` +
          `background:${colour};opacity:0.85;` +
          (e.operational ? "" : `background:repeating-linear-gradient(${colour} 0 6px, transparent 6px 10px);`);
        const flag = document.createElement("span");
        flag.style.cssText =
          `position:absolute;top:0;left:7px;width:0;height:0;border-top:7px solid transparent;` +
          `border-bottom:7px solid transparent;border-left:10px solid ${colour};`;
        el.append(line, flag);
        el.addEventListener("mouseenter", () => showTip(u, e, el));
        el.addEventListener("focus", () => showTip(u, e, el));
        el.addEventListener("mouseleave", hideTip);
        el.addEventListener("blur", hideTip);
        el.addEventListener("click", () => {
          pinned = pinned === e.id ? null : e.id;
          if (pinned == null) tip.hidden = true;
          else showTip(u, e, el);
        });
        layer.appendChild(el);
      }
    }

    async function load(u) {
      const min = u.scales.x.min;
      const max = u.scales.x.max;
      if (min == null || max == null || !(max > min)) return;
      const key = `${root.dataset.tagId}:${Math.floor(min)}:${Math.ceil(max)}`;
      if (key === loadedFor) return;
      loadedFor = key;
      const params = new URLSearchParams({
        tag: root.dataset.tagId,
        start: new Date(min * 1000).toISOString(),
        end: new Date(max * 1000).toISOString(),
      });
      try {
        const res = await fetch(`${api}?${params}`, { headers: { Accept: "application/json" } });
        if (!res.ok) {
          root.dataset.marks = "error";
          return;
        }
        entries = (await res.json()).entries;
      } catch (err) {
        loadedFor = ""; // the link dropped: try again with the next refresh
        return;
      }
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
            tip.style.cssText =
              "position:absolute;top:18px;z-index:6;max-width:28rem;padding:0.5rem 0.75rem;" +
              "background:#161a20;color:#f4f6f8;border:2px solid #ffd24a;border-radius:8px;" +
              "font-size:0.95rem;line-height:1.3;pointer-events:none;";
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

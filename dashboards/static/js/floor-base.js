// The floor terminal's shared parts: the page's data, the toast, the server's answers in
// words, times in the site's zone, and a POST that says why it failed. Each floor-*.js
// script adds its part to window.ClearwellFloor (loaded in this order: base, numbers,
// forms, not-saved, shift, log, alarms, lock, link, outbox), and floor.js starts the terminal once all are
// in; a part calls another's functions through ClearwellFloor when it runs, not before.
(function () {
  "use strict";
  const F = (window.ClearwellFloor = window.ClearwellFloor || {});
  const data = JSON.parse(document.getElementById("floor-data").textContent);
  F.data = data;
  F.site = data.site;
  F.me = data.user;
  // The record forms, made on the server from the logbook's kinds (dashboards/floor/forms.py).
  F.forms = data.forms;
  F.$ = (sel, root) => (root || document).querySelector(sel);
  F.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const $ = F.$;

  // ---- feedback ------------------------------------------------------------------
  const toast = $("#toast");
  let toastTimer = null;
  F.say = function (text, kind) {
    toast.textContent = text;
    toast.className = "toast toast-" + (kind || "good");
    toast.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(() => { toast.hidden = true; }, kind === "bad" ? 9000 : 4000);
  };

  // The server's answer in words: its 422s name the field (said here with the form's
  // own label when the kind is known), its 409s and 404s say why in a sentence.
  F.reason = function (status, body, kind) {
    const detail = body && body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => {
        const where = (d.loc || []).filter((p) => p !== "body" && p !== "data");
        return (where.length ? fieldLabel(kind, where) + ": " : "") + d.msg;
      }).join("; ");
    }
    if (status === 403) return "not allowed for you (" + status + ")";
    if (status === 404) return "no longer there (" + status + ")";
    return "refused (" + status + ")";
  };

  F.WHEN_FIELDS = ["occurred_at", "sampled_at", "analyzed_at"];
  function fieldLabel(kind, where) {
    const name = where[where.length - 1];
    if (F.WHEN_FIELDS.includes(name)) return "Time";
    const spec = kind && F.forms[kind] && F.forms[kind].fields.find((f) => f.name === name);
    return spec ? spec.label : where.join(".").replace(/_/g, " ");
  }

  F.refresh = function (eventName) {
    if (window.htmx) window.htmx.trigger(document.body, eventName || "floor-refresh");
  };

  // ---- times in the site's zone --------------------------------------------------
  // Times typed or shown on the floor are in the site's time zone, as the server's are,
  // whatever zone the terminal's own clock is set to.
  const zone = $("#floor").dataset.zone || undefined;
  const zoneFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  F.zoneParts = function (ms) {
    const out = {};
    for (const p of zoneFormat.formatToParts(new Date(ms))) out[p.type] = p.value;
    return out;
  };
  // An instant as the value of a datetime-local input, in the site's zone.
  F.localInput = function (d) {
    const z = F.zoneParts(d.getTime());
    return z.year + "-" + z.month + "-" + z.day + "T" + z.hour + ":" + z.minute + ":" + z.second;
  };
  // A datetime-local value read in the site's zone (the offset found at that instant,
  // then again at the answer, so a DST change between them is followed).
  F.fromLocalInput = function (text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text || "");
    if (!m) return new Date(NaN);
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    const offset = (ms) => {
      const z = F.zoneParts(ms);
      return Date.UTC(+z.year, +z.month - 1, +z.day, +z.hour, +z.minute, +z.second) - ms;
    };
    const guess = wall - offset(wall);
    return new Date(wall - offset(guess));
  };

  // ---- a write that needs its answer (not queued) ------------------------------------
  F.call = async function (path, body, key) {
    const headers = { "Content-Type": "application/json" };
    if (key) headers["Idempotency-Key"] = key;
    let response;
    try {
      response = await window.fetch(path, {
        method: "POST", headers, body: JSON.stringify(body || {}), credentials: "same-origin",
      });
    } catch (_) {
      return { ok: false, message: "No connection to the server. Try again." };
    }
    if (response.status === 401) { F.lock(); return { ok: false, message: "Logged out" }; }
    let payload = null;
    try { payload = await response.json(); } catch (_) { payload = null; }
    return { ok: response.ok, status: response.status, body: payload,
      message: response.ok ? "" : F.reason(response.status, payload) };
  };
})();

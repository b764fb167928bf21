// The floor terminal: forms for each record, shift actions, coverage, the lock.
// Records go through the outbox (floor-queue.js) to the logbook's API; the page's
// panels are server-rendered and refreshed by htmx.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("floor-data").textContent);
  const site = data.site;
  const me = data.user;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- feedback ------------------------------------------------------------------
  const toast = $("#toast");
  let toastTimer = null;
  function say(text, kind) {
    toast.textContent = text;
    toast.className = "toast toast-" + (kind || "good");
    toast.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(() => { toast.hidden = true; }, kind === "bad" ? 9000 : 4000);
  }

  // The server's answer in words: its 422s name the field (said here with the form's
  // own label when the kind is known), its 409s and 404s say why in a sentence.
  function reason(status, body, kind) {
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
  }

  const WHEN_FIELDS = ["occurred_at", "sampled_at", "analyzed_at"];
  function fieldLabel(kind, where) {
    const name = where[where.length - 1];
    if (WHEN_FIELDS.includes(name)) return "Time";
    const spec = kind && FORMS[kind] && FORMS[kind].fields.find((f) => f.name === name);
    return spec ? spec.label : where.join(".").replace(/_/g, " ");
  }

  function refresh(eventName) {
    if (window.htmx) window.htmx.trigger(document.body, eventName || "floor-refresh");
  }

  // ---- the outbox ----------------------------------------------------------------
  const queueStatus = $("#queue-status");
  const outbox = new window.ClearwellOutbox(me.id, {
    changed(box) {
      const n = box.pending().length;
      queueStatus.hidden = n === 0;
      queueStatus.dataset.count = String(n);
      queueStatus.textContent = n + " waiting to send" + (box.online ? "" : " · offline");
      queueStatus.classList.toggle("floor-offline", !box.online);
      drawNotSaved(box);
    },
    sent(item) {
      say("Sent: " + item.label);
      refresh();
    },
    refused(item) {
      drawNotSaved(outbox);
      say("NOT saved: " + item.label + ". Kept at the top: fix it or discard it.", "bad");
    },
    unauthorized() { lock(); },
  });

  // ---- forms ---------------------------------------------------------------------
  const WORK = ["lubrication", "preventive", "corrective", "calibration", "other"];
  const SAFETY = ["ppe", "confined_space", "lockout_tagout", "chemical", "incident",
    "near_miss", "other"];
  const t = (name, label, extra) => Object.assign({ name, label, type: "text" }, extra || {});
  const num = (name, label, extra) => t(name, label, Object.assign({ type: "number" }, extra));
  const area = (name, label, extra) => t(name, label, Object.assign({ type: "textarea" }, extra));
  const pick = (name, label, options, extra) =>
    t(name, label, Object.assign({ type: "select", options }, extra));
  const R = { required: true };
  const K = { remember: true };
  const RK = { required: true, remember: true };

  const FORMS = {
    reading: { title: "Reading", fields: [
      pick("tag_id", "Tag", [["", "—"]].concat(data.tags.map((g) => [String(g.id), g.name])), K),
      t("instrument", "Meter or gauge", K), num("value", "Value", R), t("unit", "Unit", RK),
      t("notes", "Notes")] },
    chemical_addition: { title: "Chemical added", fields: [
      t("chemical", "Chemical", RK), num("amount", "Amount", { required: true, min: "0.000001" }),
      t("unit", "Unit", RK), t("feed_point", "Feed point", RK), t("notes", "Notes")] },
    process_adjustment: { title: "Process adjustment", fields: [
      t("what", "What", RK), t("from_value", "From", R), t("to_value", "To", R),
      t("unit", "Unit", K), t("reason", "Why")] },
    maintenance: { title: "Maintenance", fields: [
      t("equipment", "Equipment", RK), pick("work", "Work", WORK.map((w) => [w, w]), RK),
      area("description", "What was done", R), t("lubricant", "Lubricant", K),
      t("out_of_service", "Out of service", { type: "checkbox" })] },
    inspection: { title: "Inspection", fields: [
      t("location", "Where", RK),
      pick("condition", "Condition", [["ok", "OK"], ["attention", "Attention"], ["defect", "Defect"]]),
      area("finding", "Finding", R), t("action_needed", "Action needed")] },
    cleaning: { title: "Cleaning", fields: [
      t("what", "What", RK), t("method", "Method", K), t("notes", "Notes")] },
    observation: { title: "Observation", fields: [area("text", "Observed", R), t("location", "Where", K)] },
    safety: { title: "Safety", fields: [
      pick("category", "Category", SAFETY.map((c) => [c, c.replace(/_/g, " ")]), K),
      area("text", "What happened", R)] },
    note: { title: "Note", fields: [area("text", "Note", R)] },
    alarm_ack: { title: "Acknowledge alarm", fields: [area("response", "What was done", R)] },
    sample: { title: "Sample taken", fields: [
      t("sample_point", "Sample point", RK),
      pick("sample_type", "Type", [["grab", "Grab"], ["composite", "Composite"]], K),
      num("composite_hours", "Composite hours", { min: "0.1", step: "0.1", remember: true }),
      t("container", "Container", K), t("preservation", "Preservation", K),
      t("received_by", "Handed to (lab or person)", K), t("notes", "Notes")] },
    result: { title: "Lab result", fields: [
      pick("sample_id", "Sample", () => data.samples.map((s) => [String(s.id), s.label]), R),
      t("analyte", "Analyte", RK), t("method", "Method", RK), num("value", "Value"),
      t("unit", "Unit", RK),
      pick("qualifier", "Qualifier", [["", "—"], ["<", "<"], [">", ">"], ["ND", "ND"],
        ["estimated", "estimated"]]),
      num("detection_limit", "Detection limit", { min: "0.000000001" })] },
  };

  // Fields checked here before sending; the server checks them all again.
  const CHECKS = {
    reading: (v) => (!v.tag_id && !v.instrument ? ["instrument", "name the meter or pick a tag"] : null),
    maintenance: (v) => (v.lubricant && v.work !== "lubrication"
      ? ["lubricant", "only for lubrication work"] : null),
    sample: (v) => (v.sample_type === "composite" && !(Number(v.composite_hours) > 0)
      ? ["composite_hours", "how many hours the composite covers"] : null),
    result: (v) => {
      if (v.value === "" && v.qualifier !== "ND") return ["value", "needed unless ND"];
      if ((v.qualifier === "<" || v.qualifier === "ND") && v.detection_limit === "") {
        return ["detection_limit", "needed with " + v.qualifier];
      }
      return null;
    },
  };

  const lastValues = Object.assign({}, data.last_values || {});
  try {
    Object.assign(lastValues, JSON.parse(window.localStorage.getItem("clearwell.floor.last") || "{}"));
  } catch (_) { /* none kept */ }

  const dialog = $("#entry-dialog");
  const form = $("#entry-form");
  const fieldsBox = $("#entry-fields");
  const errorBox = $("#entry-error");
  let current = null;

  function input(field) {
    let el;
    if (field.type === "select") {
      el = document.createElement("select");
      el.className = "big-select";
      const options = typeof field.options === "function" ? field.options() : field.options;
      for (const [value, text] of options) {
        const o = document.createElement("option");
        o.value = value;
        o.textContent = text;
        el.appendChild(o);
      }
    } else if (field.type === "textarea") {
      el = document.createElement("textarea");
      el.rows = 3;
      el.className = "big-input";
    } else {
      el = document.createElement("input");
      el.type = field.type;
      el.className = field.type === "checkbox" ? "big-check" : "big-input";
      if (field.type === "number") {
        el.step = field.step || "any";
        el.inputMode = "decimal";
      }
    }
    el.name = field.name;
    el.id = "f-" + field.name;
    if (field.required) el.required = true;
    if (field.min) el.min = field.min;
    return el;
  }

  // `fix`: a refused item being corrected ({key, values, at, why}): its values are
  // filled in, with the time it was typed, and the server's reason is shown.
  function openForm(kind, extra, fix) {
    const spec = FORMS[kind];
    if (kind !== "sample" && kind !== "result" && !shiftId()) {
      say("Open a shift first", "bad");
      return;
    }
    if (kind === "result" && !data.samples.length) {
      say("Record the sample first", "bad");
      return;
    }
    current = { kind, extra: extra || {}, fix: fix || null };
    $("#entry-title").textContent = (fix ? "Fix: " : "") + spec.title +
      (extra && extra.label ? ": " + extra.label : "");
    fieldsBox.replaceChildren();
    errorBox.textContent = "";
    const last = lastValues[kind] || {};
    for (const field of spec.fields) {
      const wrap = document.createElement("label");
      wrap.className = "field" + (field.type === "checkbox" ? " field-check" : "");
      const caption = document.createElement("span");
      caption.className = "field-label";
      caption.textContent = field.label + (field.required ? "" : " (optional)");
      const el = input(field);
      if (field.remember && last[field.name] !== undefined && last[field.name] !== null) {
        el.value = String(last[field.name]);
        el.dataset.offered = "true";
      }
      if (fix && fix.values[field.name] !== undefined && fix.values[field.name] !== null) {
        if (field.type === "checkbox") el.checked = Boolean(fix.values[field.name]);
        else el.value = String(fix.values[field.name]);
        delete el.dataset.offered;
      }
      wrap.append(caption, el);
      fieldsBox.appendChild(wrap);
    }
    if (fix) {
      const when = input({ name: "occurred_at", type: "datetime-local", required: true });
      when.step = "1";
      when.value = localInput(new Date(fix.at));
      fieldsBox.appendChild(labelled("When it happened", when));
    }
    if (kind === "reading") {
      const tag = $("#f-tag_id", fieldsBox);
      tag.addEventListener("change", () => {
        const g = data.tags.find((x) => String(x.id) === tag.value);
        if (g && g.unit) $("#f-unit", fieldsBox).value = g.unit;
      });
    }
    dialog.showModal();
    if (fix) {
      showError(fix.field, "Not saved: " + fix.why);
      return;
    }
    const first = $$("input:not([type=checkbox]), textarea, select", fieldsBox)
      .find((el) => el.required && !el.value);
    if (first) first.focus();
  }

  // Times typed or shown on the floor are in the site's time zone, as the server's are,
  // whatever zone the terminal's own clock is set to.
  const zone = $("#floor").dataset.zone || undefined;
  const zoneFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function zoneParts(ms) {
    const out = {};
    for (const p of zoneFormat.formatToParts(new Date(ms))) out[p.type] = p.value;
    return out;
  }
  // An instant as the value of a datetime-local input, in the site's zone.
  function localInput(d) {
    const z = zoneParts(d.getTime());
    return z.year + "-" + z.month + "-" + z.day + "T" + z.hour + ":" + z.minute + ":" + z.second;
  }
  // A datetime-local value read in the site's zone (the offset found at that instant,
  // then again at the answer, so a DST change between them is followed).
  function fromLocalInput(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text || "");
    if (!m) return new Date(NaN);
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    const offset = (ms) => {
      const z = zoneParts(ms);
      return Date.UTC(+z.year, +z.month - 1, +z.day, +z.hour, +z.minute, +z.second) - ms;
    };
    const guess = wall - offset(wall);
    return new Date(wall - offset(guess));
  }

  function values() {
    const out = {};
    for (const el of $$("input, select, textarea", fieldsBox)) {
      if (el.name === "occurred_at") continue; // the time of a fix, read by the submit
      out[el.name] = el.type === "checkbox" ? el.checked : el.value.trim();
    }
    return out;
  }

  function showError(field, message) {
    errorBox.textContent = message;
    $$(".field-bad", fieldsBox).forEach((el) => el.classList.remove("field-bad"));
    const el = field && $("#f-" + field, fieldsBox);
    if (el) {
      el.classList.add("field-bad");
      el.focus();
    }
  }

  function optional(obj) {
    for (const k of Object.keys(obj)) if (obj[k] === "" || obj[k] === null) delete obj[k];
    return obj;
  }

  // What to send for a form: the API path, the body and a label for messages. `now`
  // is when it happened: the time of typing, or the time given when fixing.
  function request(kind, v, now) {
    now = now || new Date();
    const at = now.toISOString();
    if (kind === "sample") {
      const body = optional({
        site, shift_id: shiftId() ? Number(shiftId()) : null, sample_point: v.sample_point,
        sample_type: v.sample_type, sampled_at: at, sampled_by: [me.id],
        container: v.container, preservation: v.preservation, notes: v.notes,
      });
      if (v.sample_type === "composite") {
        body.composite_kind = "time";
        body.composite_end = at;
        body.composite_start = new Date(now.getTime() - Number(v.composite_hours) * 3600e3).toISOString();
      }
      if (v.received_by) body.custody = [{ relinquished_by: me.name, received_by: v.received_by, at }];
      return { path: "/api/samples", body, label: "Sample " + v.sample_point };
    }
    if (kind === "result") {
      const body = optional({
        analyte: v.analyte, method: v.method, analyzed_at: at, analyst_id: me.id, unit: v.unit,
        value: v.value === "" ? null : Number(v.value), qualifier: v.qualifier,
        detection_limit: v.detection_limit === "" ? null : Number(v.detection_limit),
      });
      return { path: "/api/samples/" + v.sample_id + "/results", body,
        label: v.analyte + " " + (v.qualifier || "") + (v.value || "") + " " + v.unit };
    }
    const d = Object.assign({}, v);
    if (kind === "reading") {
      d.tag_id = d.tag_id ? Number(d.tag_id) : null;
      d.value = Number(d.value);
    }
    if (kind === "chemical_addition") d.amount = Number(d.amount);
    if (kind === "alarm_ack") d.event_id = current.extra.event_id;
    const label = FORMS[kind].title + (kind === "reading" ? " " + d.value + " " + d.unit : "");
    return {
      path: "/api/entries",
      body: { shift_id: Number(shiftId()), kind, occurred_at: at, data: optional(d) },
      label,
    };
  }

  function remember(kind, v) {
    const keep = {};
    for (const field of FORMS[kind].fields) if (field.remember) keep[field.name] = v[field.name];
    lastValues[kind] = keep;
    const stored = JSON.parse(window.localStorage.getItem("clearwell.floor.last") || "{}");
    stored[kind] = keep;
    window.localStorage.setItem("clearwell.floor.last", JSON.stringify(stored));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const bad = $$("input, select, textarea", fieldsBox).find((el) => !el.checkValidity());
    if (bad) {
      const caption = bad.closest("label").querySelector(".field-label").textContent;
      showError(bad.name, caption.replace(" (optional)", "") + ": " + (bad.validationMessage || "check this"));
      return;
    }
    const v = values();
    const check = CHECKS[current.kind] && CHECKS[current.kind](v);
    if (check) {
      showError(check[0], check[0].replace(/_/g, " ") + ": " + check[1]);
      return;
    }
    const kind = current.kind;
    const fix = current.fix;
    let when = null;
    if (fix) {
      when = fromLocalInput($("#f-occurred_at", fieldsBox).value);
      if (Number.isNaN(when.getTime()) || when.getTime() > Date.now() + 60e3) {
        showError("occurred_at", "When it happened: a time, not in the future");
        return;
      }
    }
    const req = request(kind, v, when);
    const save = $("#entry-save");
    save.disabled = true;
    try {
      // A fix goes with a new idempotency key: the refused one is bound to the old body.
      const outcome = await outbox.add(req.path, req.body, req.label,
        { kind, values: v, extra: current.extra });
      if (outcome.state === "refused") {
        showError(refusedField(outcome.body), "Not saved: " + reason(outcome.status, outcome.body, kind));
        return;
      }
      if (fix) outbox.discard(fix.key);
      if (kind !== "alarm_ack") remember(kind, v);
      dialog.close();
      current = null;
      if (outcome.state === "sent") {
        say("Saved: " + req.label);
        if (kind === "sample" && outcome.body) {
          data.samples.unshift({ id: outcome.body.id, label: outcome.body.sample_point + " (" + outcome.body.sample_type + ")" });
        }
        refresh();
      } else {
        say("Kept on this terminal; it is sent when the link is back: " + req.label, "warn");
      }
    } finally {
      save.disabled = false;
    }
  });

  // The form field a 422 names, so the form can point at it.
  function refusedField(body) {
    const detail = body && body.detail;
    if (!Array.isArray(detail) || !detail.length) return null;
    const name = (detail[0].loc || [])[(detail[0].loc || []).length - 1];
    return WHEN_FIELDS.includes(name) ? "occurred_at" : name;
  }

  // ---- not saved: records the server refused after they were queued ----------------
  const notSavedBox = $("#not-saved");
  const notSavedList = $("#not-saved-list");

  // What was typed, for an item queued before forms were kept with it.
  function formOf(item) {
    if (item.form) return item.form;
    if (item.path === "/api/entries" && item.body && FORMS[item.body.kind]) {
      const data = Object.assign({}, item.body.data || {});
      const extra = data.event_id ? { event_id: data.event_id } : {};
      return { kind: item.body.kind, values: data, extra };
    }
    return null;
  }

  function typedAt(item) {
    const b = item.body || {};
    const at = Date.parse(b.occurred_at || b.sampled_at || b.analyzed_at || "");
    return Number.isNaN(at) ? item.queued_at : at;
  }

  function shown(field, value) {
    if (field.type === "checkbox") return value ? "yes" : "";
    if (field.type === "select") {
      const options = typeof field.options === "function" ? field.options() : field.options;
      const hit = options.find(([v]) => v === String(value));
      if (hit) return hit[0] === "" ? "" : hit[1];
    }
    const text = String(value);
    return text.length > 60 ? text.slice(0, 57) + "…" : text;
  }

  // The main fields in words: "Chemical NaOCl · Amount 5 · Unit gal".
  function describe(form) {
    if (!form || !FORMS[form.kind]) return "";
    const parts = [];
    for (const field of FORMS[form.kind].fields) {
      const value = form.values[field.name];
      if (value === undefined || value === null || value === "" || value === false) continue;
      const text = shown(field, value);
      // A form of one text ("Note") needs no label before it.
      if (text) parts.push(field.label === FORMS[form.kind].title ? text : field.label + " " + text);
    }
    return parts.slice(0, 4).join(" · ");
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
    "Nov", "Dec"];
  function typedWhen(ms) {
    const z = zoneParts(ms);
    const today = zoneParts(Date.now());
    const time = z.hour + ":" + z.minute;
    if (z.year + z.month + z.day === today.year + today.month + today.day) return "Typed " + time;
    return "Typed " + Number(z.day) + " " + MONTHS[Number(z.month) - 1] + " " + time;
  }

  function part(tag, className, text) {
    const el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    return el;
  }

  function drawNotSaved(box) {
    const items = box.notSaved();
    notSavedBox.hidden = items.length === 0;
    notSavedBox.dataset.count = String(items.length);
    $("#not-saved-count").textContent = items.length === 1 ? "1 entry NOT saved"
      : items.length + " entries NOT saved";
    notSavedList.replaceChildren(...items.map((item) => {
      const form = formOf(item);
      const li = document.createElement("li");
      li.className = "ns-item";
      li.dataset.key = item.key;
      const what = part("div", "ns-what", "");
      what.append(part("span", "ns-label", item.label), part("span", "ns-fields", describe(form)));
      const why = part("div", "ns-why",
        "Refused: " + reason(item.status, item.answer, form && form.kind));
      const text = document.createElement("div");
      text.className = "ns-text";
      text.append(what, part("div", "ns-when", typedWhen(typedAt(item))), why);
      const buttons = document.createElement("div");
      buttons.className = "ns-buttons";
      if (form) {
        const fixButton = part("button", "button button-go ns-fix", "Fix and send");
        fixButton.type = "button";
        fixButton.dataset.fix = item.key;
        buttons.append(fixButton);
      }
      const discardButton = part("button", "button button-discard ns-discard", "Discard");
      discardButton.type = "button";
      discardButton.dataset.discard = item.key;
      buttons.append(discardButton);
      li.append(text, buttons);
      return li;
    }));
  }

  function fixNotSaved(key) {
    const item = outbox.notSaved().find((x) => x.key === key);
    const form = item && formOf(item);
    if (!form) return;
    openForm(form.kind, form.extra, {
      key, values: form.values, at: typedAt(item),
      why: reason(item.status, item.answer, form.kind), field: refusedField(item.answer),
    });
  }

  const discardDialog = $("#discard-dialog");
  let discarding = null;
  function askDiscard(key) {
    const item = outbox.notSaved().find((x) => x.key === key);
    if (!item) return;
    discarding = key;
    $("#discard-what").textContent = item.label + ". " + describe(formOf(item));
    discardDialog.showModal();
  }
  $("#discard-yes").addEventListener("click", () => {
    if (discarding && outbox.discard(discarding)) say("Discarded", "warn");
    discarding = null;
    discardDialog.close();
  });
  discardDialog.addEventListener("close", () => { discarding = null; });
  notSavedList.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.fix) fixNotSaved(target.dataset.fix);
    else if (target.dataset.discard) askDiscard(target.dataset.discard);
  });

  // Started once everything the handlers draw with is defined.
  outbox.handlers.changed(outbox);
  window.addEventListener("online", () => outbox.flush());
  window.setInterval(() => { if (outbox.pending().length) outbox.flush(); }, 5000);
  outbox.flush();

  $$("[data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
  $$(".action").forEach((b) => b.addEventListener("click", () => openForm(b.dataset.form)));

  // ---- shift ---------------------------------------------------------------------
  function shiftEl() { return $("#shift .shift"); }
  function shiftId() { const s = shiftEl(); return s ? s.dataset.shiftId : ""; }

  async function call(path, body, key) {
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
    if (response.status === 401) { lock(); return { ok: false, message: "Logged out" }; }
    let payload = null;
    try { payload = await response.json(); } catch (_) { payload = null; }
    return { ok: response.ok, status: response.status, body: payload,
      message: response.ok ? "" : reason(response.status, payload) };
  }

  function roleOptions(personRole) {
    if (personRole === "trainee") return [["trainee", "Trainee"]];
    const roles = [["operator", "Operator"], ["shift_operator", "Shift operator"],
      ["assistant_chief", "Assistant chief"], ["chief", "Chief"]];
    if ($("#can-designate") && $("#can-designate").innerHTML.trim() === "yes") roles.unshift(["drc", "DRC"]);
    return roles;
  }

  // A small form in the entry dialog for shift actions (not queued: they need an answer).
  function actionForm(title, fields, onSubmit) {
    current = null;
    $("#entry-title").textContent = title;
    fieldsBox.replaceChildren(...fields);
    errorBox.textContent = "";
    dialog.showModal();
    const handler = async (event) => {
      event.preventDefault();
      const save = $("#entry-save");
      save.disabled = true;
      try {
        const result = await onSubmit();
        if (result.ok) {
          dialog.close();
          refresh("shift-changed");
        } else {
          showError(null, result.message);
        }
      } finally {
        save.disabled = false;
      }
    };
    form.addEventListener("submit", handler);
    dialog.addEventListener("close", () => form.removeEventListener("submit", handler), { once: true });
  }

  function labelled(text, el) {
    const wrap = document.createElement("label");
    wrap.className = "field";
    const caption = document.createElement("span");
    caption.className = "field-label";
    caption.textContent = text;
    wrap.append(caption, el);
    return wrap;
  }

  function selectOf(name, options) {
    return input({ name, type: "select", options });
  }

  function openShiftForm() {
    const label = input({ name: "label", type: "text" });
    const hour = new Date().getHours();
    label.value = hour >= 6 && hour < 14 ? "Day" : hour >= 14 && hour < 22 ? "Swing" : "Night";
    const myRole = selectOf("shift_role", roleOptions(me.role === "trainee" ? "trainee" : me.role));
    if (me.role === "chief_operator") myRole.value = "drc";
    const key = "floor-shift-" + Date.now() + "-" + me.id;
    actionForm("Open shift", [labelled("Shift", label), labelled("Your role", myRole)], () =>
      call("/api/shifts", { site, label: label.value.trim(),
        crew: [{ person_id: me.id, shift_role: myRole.value }] }, key));
  }

  function addCrewForm() {
    const choices = $("#crew-choices");
    const person = document.createElement("select");
    person.className = "big-select";
    person.name = "person_id";
    person.id = "f-person_id";
    person.append(...Array.from(choices.content.cloneNode(true).children));
    const role = selectOf("shift_role", []);
    function roles() {
      const opt = person.selectedOptions[0];
      role.replaceChildren(...roleOptions(opt ? opt.dataset.role : "").map(([v, text]) => {
        const o = document.createElement("option");
        o.value = v;
        o.textContent = text;
        return o;
      }));
    }
    person.addEventListener("change", roles);
    roles();
    const key = "floor-crew-" + Date.now() + "-" + me.id;
    actionForm("Add to crew", [labelled("Person", person), labelled("Role", role)], () =>
      call("/api/shifts/" + shiftId() + "/crew",
        { person_id: Number(person.value), shift_role: role.value }, key));
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.id === "open-shift") openShiftForm();
    else if (target.id === "open-crew") addCrewForm();
    else if (target.id === "open-review") openReview();
    else if (target.id === "lock-now") lock();
    else if (target.dataset.ack) {
      openForm("alarm_ack", { event_id: Number(target.dataset.ack), label: target.dataset.ackLabel });
    } else if (target.dataset.depart) {
      const result = await call("/api/shifts/" + shiftId() + "/crew/" + target.dataset.depart + "/departure", {});
      if (result.ok) { say(target.dataset.name + " left"); refresh("shift-changed"); }
      else say(result.message, "bad");
    } else if (target.dataset.ackNote) {
      const result = await call("/api/handoff-notes/" + target.dataset.ackNote + "/acknowledge",
        { shift_id: Number(shiftId()) });
      if (result.ok) { say("Handoff acknowledged"); refresh("shift-changed"); }
      else say(result.message, "bad");
    }
  });

  // ---- shift close: review, handoff note, sign ---------------------------------------
  const review = $("#review-dialog");
  const closeForm = $("#close-form");
  let handoffKey = null;

  async function openReview() {
    const response = await window.fetch("/floor/" + site + "/review", { credentials: "same-origin" });
    if (response.status === 401) { lock(); return; }
    $("#review-body").innerHTML = await response.text();
    $("#close-error").textContent = "";
    closeForm.password.value = "";
    handoffKey = handoffKey || "floor-handoff-" + Date.now() + "-" + me.id;
    review.showModal();
  }

  closeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const err = $("#close-error");
    const id = shiftId();
    const closed = shiftEl() && shiftEl().dataset.closed === "true";
    if (!closeForm.password.value) { err.textContent = "Enter your password to sign."; closeForm.password.focus(); return; }
    const button = $("#close-sign");
    button.disabled = true;
    try {
      const note = closeForm.handoff.value.trim();
      if (note && !closed) {
        const r = await call("/api/shifts/" + id + "/handoff", { body: note }, handoffKey);
        if (!r.ok) { err.textContent = "Handoff note: " + r.message; return; }
      }
      if (!closed) {
        const r = await call("/api/shifts/" + id + "/close", {});
        if (!r.ok) { err.textContent = "Close: " + r.message; return; }
        shiftEl().dataset.closed = "true";
      }
      const r = await call("/api/shifts/" + id + "/sign", { password: closeForm.password.value });
      closeForm.password.value = "";
      if (!r.ok) {
        err.textContent = "Shift closed but NOT signed: " + r.message;
        refresh("shift-changed");
        return;
      }
      review.close();
      closeForm.handoff.value = "";
      handoffKey = null;
      say("Shift signed");
      refresh("shift-changed");
    } finally {
      button.disabled = false;
    }
  });

  // ---- coverage now (compliance) -------------------------------------------------------
  async function coverage() {
    const el = $("#coverage");
    if (!el) return;
    let response;
    try {
      response = await window.fetch("/api/compliance/now?facility=" + encodeURIComponent(site),
        { credentials: "same-origin" });
    } catch (_) {
      el.dataset.state = "unknown";
      el.textContent = "Coverage: no link";
      return;
    }
    if (!response.ok) {
      el.dataset.state = "unknown";
      el.textContent = response.status === 409 ? "Coverage: no profile" : "Coverage: unknown";
      return;
    }
    const now = await response.json();
    const ongoing = (now.findings || []).filter((f) => f.ongoing);
    el.dataset.state = now.in_order ? "good" : "bad";
    el.title = ongoing.map((f) => f.message).join("\n");
    const drc = (now.drc || []).map((p) => p.name).join(", ");
    el.textContent = now.in_order
      ? "Coverage OK · DRC " + drc
      : "Coverage NOT OK" + (ongoing.length ? ": " + ongoing[0].message
        : !now.shifts_open.length ? ": no shift open" : !drc ? ": no DRC" : ": no certified operator on site");
  }
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "shift") coverage();
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 401) lock();
  });
  coverage();

  // ---- lock after inactivity ---------------------------------------------------------
  let locked = false;
  let idleTimer = null;
  function lock() {
    if (locked) return;
    locked = true;
    // Nothing of the shift stays on screen, even before the login page loads.
    $$("dialog").forEach((d) => { try { d.close(); } catch (_) { /* closed */ } });
    const floor = $("#floor");
    if (floor) floor.remove();
    document.body.classList.add("floor-locked");
    window.fetch("/api/auth/logout", { method: "POST", credentials: "same-origin", keepalive: true })
      .catch(() => null)
      .finally(() => {
        window.location.replace("/login?locked=1&next=" + encodeURIComponent("/floor/" + site));
      });
  }
  function touched() {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(lock, data.lock_after_s * 1000);
  }
  ["pointerdown", "keydown", "touchstart", "input"].forEach((name) =>
    document.addEventListener(name, touched, { passive: true, capture: true }));
  touched();
  window.ClearwellFloor = { outbox, lock };
})();

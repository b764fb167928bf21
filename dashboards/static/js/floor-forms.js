// The floor terminal's record forms: one dialog drawn from the server's form of each kind
// (ClearwellFloor.forms: fields, types, required, choices), checked here first (the server
// checks it all again), offering the last values, and sent through the outbox. The shift's
// small action forms use the same dialog.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, $$, data, site, me } = F;
  const FORMS = F.forms;

  // Rules across fields, checked here before sending (the logbook's models check them too).
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

  // A select's choices: pairs of value and text, or the site's tags or recent samples.
  F.optionsOf = function (field) {
    let options = field.options;
    if (options === "tags") options = data.tags.map((g) => [String(g.id), g.name]);
    else if (options === "samples") options = data.samples.map((s) => [String(s.id), s.label]);
    return field.blank ? [["", "—"]].concat(options) : options;
  };

  function input(field) {
    let el;
    if (field.type === "select") {
      el = document.createElement("select");
      el.className = "big-select";
      for (const [value, text] of F.optionsOf(field)) {
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
    if (field.min !== undefined) el.min = String(field.min);
    if (field.max !== undefined) el.max = String(field.max);
    if (field.maxlength) el.maxLength = field.maxlength;
    return el;
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

  // `fix`: a refused item being corrected ({key, values, at, why}): its values are
  // filled in, with the time it was typed, and the server's reason is shown.
  F.openForm = function (kind, extra, fix) {
    const spec = FORMS[kind];
    if (kind !== "sample" && kind !== "result" && !F.shiftId()) {
      F.say("Open a shift first", "bad");
      return;
    }
    if (kind === "result" && !data.samples.length) {
      F.say("Record the sample first", "bad");
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
      if (field.value !== undefined) el.value = String(field.value);
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
      when.value = F.localInput(new Date(fix.at));
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
  };

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
        site, shift_id: F.shiftId() ? Number(F.shiftId()) : null, sample_point: v.sample_point,
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
    // Numbers (and a tag, picked by id) go as numbers; left empty, they are left out.
    for (const field of FORMS[kind].fields) {
      if (field.type === "number" || field.options === "tags") {
        d[field.name] = d[field.name] === "" ? null : Number(d[field.name]);
      }
    }
    if (kind === "alarm_ack") d.event_id = current.extra.event_id;
    const label = FORMS[kind].title + (kind === "reading" ? " " + d.value + " " + d.unit : "");
    return {
      path: "/api/entries",
      body: { shift_id: Number(F.shiftId()), kind, occurred_at: at, data: optional(d) },
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

  // The first number at or below its bound (a bound the browser's own check cannot say).
  function notAbove(kind, v) {
    return FORMS[kind].fields.find((f) => f.gt !== undefined && v[f.name] !== "" &&
      !(Number(v[f.name]) > f.gt));
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
    const low = notAbove(current.kind, v);
    if (low) {
      showError(low.name, low.label + ": must be more than " + low.gt);
      return;
    }
    const check = CHECKS[current.kind] && CHECKS[current.kind](v);
    if (check) {
      showError(check[0], check[0].replace(/_/g, " ") + ": " + check[1]);
      return;
    }
    const kind = current.kind;
    const fix = current.fix;
    let when = null;
    if (fix) {
      when = F.fromLocalInput($("#f-occurred_at", fieldsBox).value);
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
      const outcome = await F.outbox.add(req.path, req.body, req.label,
        { kind, values: v, extra: current.extra });
      if (outcome.state === "refused") {
        showError(F.refusedField(outcome.body), "Not saved: " + F.reason(outcome.status, outcome.body, kind));
        return;
      }
      if (fix) F.outbox.discard(fix.key);
      if (kind !== "alarm_ack") remember(kind, v);
      dialog.close();
      current = null;
      if (outcome.state === "sent") {
        F.say("Saved: " + req.label);
        if (kind === "sample" && outcome.body) {
          data.samples.unshift({ id: outcome.body.id, label: outcome.body.sample_point + " (" + outcome.body.sample_type + ")" });
        }
        F.refresh();
      } else {
        F.say("Kept on this terminal; it is sent when the link is back: " + req.label, "warn");
      }
    } finally {
      save.disabled = false;
    }
  });

  // The form field a 422 names, so the form can point at it.
  F.refusedField = function (body) {
    const detail = body && body.detail;
    if (!Array.isArray(detail) || !detail.length) return null;
    const name = (detail[0].loc || [])[(detail[0].loc || []).length - 1];
    return F.WHEN_FIELDS.includes(name) ? "occurred_at" : name;
  };

  // ---- the shift's action forms: the same dialog, not queued (they need an answer) ----
  F.actionForm = function (title, fields, onSubmit) {
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
          F.refresh("shift-changed");
        } else {
          showError(null, result.message);
        }
      } finally {
        save.disabled = false;
      }
    };
    form.addEventListener("submit", handler);
    dialog.addEventListener("close", () => form.removeEventListener("submit", handler), { once: true });
  };
  F.input = input;
  F.labelled = labelled;
  F.selectOf = (name, options) => input({ name, type: "select", options });
})();

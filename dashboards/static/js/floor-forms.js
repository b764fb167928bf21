// The floor terminal's record forms: one dialog drawn from the server's form of each kind
// (ClearwellFloor.forms: fields, types, required, choices, ranges), checked here first (the
// server checks it all again), offering the last values, and sent through the outbox. A
// number says what is wrong with what was typed; outside its instrument range it is
// refused with the range named, outside its plausible range it is saved only once
// confirmed with a reason (sent with it). The same dialog amends an entry (a reason is
// required, sent to /api/amendments), and the shift's small action forms use it too.
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
  const confirmBox = $("#confirm-box");
  const confirmReason = $("#confirm-reason");
  let current = null;

  // A select's choices: pairs of value and text, or the site's tags or recent samples.
  F.optionsOf = function (field) {
    let options = field.options;
    if (options === "tags") {
      options = data.tags.map((g) => [String(g.id), g.label + (g.unit_text ? " (" + g.unit_text + ")" : "")]);
    } else if (options === "samples") options = data.samples.map((s) => [String(s.id), s.label]);
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
    } else if (field.type === "number") {
      // A text field: the browser's own number field drops what is not a number
      // without a word; here what was typed stays, and is said to be wrong.
      el = document.createElement("input");
      el.type = "text";
      el.inputMode = "decimal";
      el.autocomplete = "off";
      el.className = "big-input";
      el.dataset.number = "true";
    } else {
      el = document.createElement("input");
      el.type = field.type;
      el.className = field.type === "checkbox" ? "big-check" : "big-input";
    }
    el.name = field.name;
    el.id = "f-" + field.name;
    if (field.required) el.required = true;
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

  function askConfirm(message) {
    $("#confirm-why").textContent = message;
    confirmBox.hidden = false;
    confirmReason.focus();
  }

  function resetConfirm() {
    confirmBox.hidden = true;
    confirmReason.value = "";
    $("#confirm-why").textContent = "";
  }
  // A changed value is checked again from the start.
  fieldsBox.addEventListener("input", (event) => {
    if (event.target.dataset.number) resetConfirm();
  });

  // `fix`: a refused item being corrected ({key, values, at, why}): its values are
  // filled in, with the time it was typed, and the server's reason is shown.
  // `amend`: an entry being amended ({id, data}): its fields as they stand, and a reason.
  F.openForm = function (kind, extra, fix, amend) {
    const spec = FORMS[kind];
    if (!amend && kind !== "sample" && kind !== "result" && !F.shiftId()) {
      F.say("Open a shift first: Open shift is at the top", "bad");
      return;
    }
    if (kind === "result" && !data.samples.length) {
      F.say("Record the sample first (Sample)", "bad");
      return;
    }
    current = { kind, extra: extra || {}, fix: fix || null, amend: amend || null };
    $("#entry-title").textContent = (fix ? "Fix: " : amend ? "Amend: " : "") + spec.title +
      (extra && extra.label ? ": " + extra.label : "");
    $("#entry-save").textContent = amend ? "Save amendment" : "Save";
    fieldsBox.replaceChildren();
    errorBox.textContent = "";
    resetConfirm();
    const last = lastValues[kind] || {};
    const given = fix ? fix.values : amend ? amend.data : null;
    for (const field of spec.fields) {
      if (amend && field.name === "event_id") continue;
      const wrap = document.createElement("label");
      wrap.className = "field" + (field.type === "checkbox" ? " field-check" : "");
      const caption = document.createElement("span");
      caption.className = "field-label";
      caption.textContent = field.label + (field.required ? "" : " (optional)");
      const el = input(field);
      if (field.value !== undefined) el.value = String(field.value);
      if (!amend && field.remember && last[field.name] !== undefined && last[field.name] !== null) {
        el.value = String(last[field.name]);
        el.dataset.offered = "true";
      }
      if (given && given[field.name] !== undefined && given[field.name] !== null) {
        if (field.type === "checkbox") el.checked = Boolean(given[field.name]);
        else el.value = String(given[field.name]);
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
    if (amend) {
      const why = input({ name: "amend_reason", type: "textarea", required: true, maxlength: 2000 });
      fieldsBox.appendChild(labelled("Why it is amended (required, kept with it)", why));
    }
    if (kind === "reading") {
      const tag = $("#f-tag_id", fieldsBox);
      tag.addEventListener("change", () => {
        const g = data.tags.find((x) => String(x.id) === tag.value);
        if (g && g.unit) $("#f-unit", fieldsBox).value = g.unit;
        resetConfirm();
      });
    }
    dialog.showModal();
    if (fix) {
      // Refused as implausible: the confirmation it lacked is asked for.
      if (!rangeRefusal(fix.answer)) showError(fix.field, "Not saved: " + fix.why);
      return;
    }
    const first = amend ? $("#f-amend_reason", fieldsBox) : $$("input:not([type=checkbox]), textarea, select", fieldsBox)
      .find((el) => el.required && !el.value);
    if (first) first.focus();
  };

  function values() {
    const out = {};
    for (const el of $$("input, select, textarea", fieldsBox)) {
      if (el.name === "occurred_at" || el.name === "amend_reason") continue;
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

  function number(text) {
    const parsed = F.parseNumber(text);
    return parsed.empty || parsed.why ? null : parsed.value;
  }

  // The ranges judging a number field: by the form's tag or analyte, else its own.
  function rangesOf(field, v) {
    const by = field.ranges_by ? v[field.ranges_by] : "";
    if (by && field.ranges_of) {
      const key = field.ranges_by === "analyte" ? F.analyteKey(by) : String(by);
      if (field.ranges_of[key]) return field.ranges_of[key];
    }
    return field.ranges || null;
  }

  // What is wrong with the numbers typed: {field, message} to refuse, {confirm} to ask,
  // or null.
  function checkNumbers(kind, v) {
    let confirm = null;
    for (const field of FORMS[kind].fields) {
      if (field.type !== "number" || v[field.name] === undefined) continue;
      const parsed = F.parseNumber(v[field.name]);
      if (parsed.empty) {
        if (field.required) return { field: field.name, message: field.label + ": needed" };
        continue;
      }
      if (parsed.why) return { field: field.name, message: field.label + ": " + parsed.why };
      const out = F.checkBounds(parsed.value, field);
      if (out) return { field: field.name, message: field.label + ": " + out };
      const said = F.checkRange(parsed.value, rangesOf(field, v));
      if (said && said.refuse) return { field: field.name, message: field.label + ": " + said.refuse };
      if (said && said.confirm && !confirm) confirm = { field: field.name, message: said.confirm };
    }
    return confirm ? { confirm } : null;
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
        body.composite_start = new Date(now.getTime() - number(v.composite_hours) * 3600e3).toISOString();
      }
      if (v.received_by) body.custody = [{ relinquished_by: me.name, received_by: v.received_by, at }];
      return { path: "/api/samples", body, label: "Sample " + v.sample_point };
    }
    if (kind === "result") {
      const body = optional({
        analyte: v.analyte, method: v.method, analyzed_at: at, analyst_id: me.id, unit: v.unit,
        value: number(v.value), qualifier: v.qualifier, detection_limit: number(v.detection_limit),
      });
      return { path: "/api/samples/" + v.sample_id + "/results", body,
        label: v.analyte + " " + (v.qualifier || "") + (v.value || "") + " " + v.unit };
    }
    const d = entryData(kind, v);
    if (kind === "alarm_ack") d.event_id = current.extra.event_id;
    const label = FORMS[kind].title + (kind === "reading" ? " " + v.value + " " + v.unit : "");
    return {
      path: "/api/entries",
      body: { shift_id: Number(F.shiftId()), kind, occurred_at: at, data: optional(d) },
      label,
    };
  }

  // An entry's fields as the API takes them: numbers (and a tag, picked by id) as numbers.
  function entryData(kind, v) {
    const d = Object.assign({}, v);
    for (const field of FORMS[kind].fields) {
      if (field.type === "number" || field.options === "tags") {
        d[field.name] = d[field.name] === "" || d[field.name] === undefined ? null : number(d[field.name]);
      }
    }
    return d;
  }

  function remember(kind, v) {
    const keep = {};
    for (const field of FORMS[kind].fields) if (field.remember) keep[field.name] = v[field.name];
    lastValues[kind] = keep;
    const stored = JSON.parse(window.localStorage.getItem("clearwell.floor.last") || "{}");
    stored[kind] = keep;
    window.localStorage.setItem("clearwell.floor.last", JSON.stringify(stored));
  }

  // The server's refusal of a number's range: asks for the confirmation, or points at it.
  function rangeRefusal(body) {
    const detail = body && Array.isArray(body.detail) ? body.detail[0] : null;
    if (!detail) return false;
    const where = detail.loc || [];
    if (detail.type === "implausible") {
      askConfirm(detail.msg);
      showError(where[where.length - 1], "Not saved: confirm the value with a reason, or correct it.");
      return true;
    }
    return false;
  }

  // The fields an amendment changes, from the entry's fields as they stood.
  function changed(kind, before, after) {
    const out = {};
    for (const [name, value] of Object.entries(after)) {
      const was = before[name] === undefined ? null : before[name];
      const now = value === "" ? null : value;
      if (JSON.stringify(was) !== JSON.stringify(now) && !(was === "" && now === null)) {
        out[name] = value === null ? "" : value;
      }
    }
    const spec = FORMS[kind].fields;
    for (const name of Object.keys(out)) {
      const field = spec.find((f) => f.name === name);
      // An emptied optional text is sent empty; an emptied number cannot be.
      if (out[name] === "" && field && (field.type === "number" || field.options === "tags")) out[name] = null;
    }
    return out;
  }

  async function submitAmend(kind, v, plausibility) {
    const why = $("#f-amend_reason", fieldsBox).value.trim();
    if (why.length < 3) {
      showError("amend_reason", "Why it is amended: say why, in a few words");
      return;
    }
    const after = entryData(kind, v);
    delete after.event_id;
    const changes = changed(kind, current.amend.data, after);
    if (!Object.keys(changes).length) {
      showError(null, "Nothing was changed: change a field, or Cancel.");
      return;
    }
    const body = { target: "entry", target_id: current.amend.id, changes: { data: changes }, reason: why };
    if (plausibility) body.plausibility = plausibility;
    const r = await F.call("/api/amendments", body, "floor-amend-" + current.amend.id + "-" + Date.now());
    if (!r.ok) {
      if (!rangeRefusal(r.body)) showError(F.refusedField(r.body), "Not amended: " + F.reason(r.status, r.body, kind));
      return;
    }
    dialog.close();
    current = null;
    F.say("Amended: " + FORMS[kind].title);
    F.refresh("shift-changed");
    if (F.reloadLog) F.reloadLog();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const bad = $$("input, select, textarea", fieldsBox)
      .find((el) => !el.dataset.number && !el.checkValidity());
    if (bad) {
      const caption = bad.closest("label").querySelector(".field-label").textContent;
      showError(bad.name, caption.replace(" (optional)", "") + ": " + (bad.validationMessage || "check this"));
      return;
    }
    const v = values();
    const kind = current.kind;
    const numbers = checkNumbers(kind, v);
    if (numbers && numbers.message) {
      showError(numbers.field, numbers.message);
      return;
    }
    const check = CHECKS[kind] && CHECKS[kind](v);
    if (check) {
      const field = FORMS[kind].fields.find((f) => f.name === check[0]);
      showError(check[0], (field ? field.label : check[0]) + ": " + check[1]);
      return;
    }
    let plausibility = null;
    if (!confirmBox.hidden || (numbers && numbers.confirm)) {
      if (confirmBox.hidden) {
        askConfirm(numbers.confirm.message);
        showError(numbers.confirm.field, "Not saved yet: confirm the value with a reason, or correct it.");
        confirmReason.focus();
        return;
      }
      const reason = confirmReason.value.trim();
      if (!reason) {
        errorBox.textContent = "Say why the value is right, or correct it.";
        confirmReason.focus();
        return;
      }
      plausibility = { confirmed: true, reason };
    }
    const save = $("#entry-save");
    save.disabled = true;
    try {
      if (current.amend) {
        await submitAmend(kind, v, plausibility);
        return;
      }
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
      if (plausibility) req.body.plausibility = plausibility;
      // A fix goes with a new idempotency key: the refused one is bound to the old body.
      const outcome = await F.outbox.add(req.path, req.body, req.label,
        { kind, values: v, extra: current.extra });
      if (outcome.state === "refused") {
        if (!rangeRefusal(outcome.body)) {
          showError(F.refusedField(outcome.body), "Not saved: " + F.reason(outcome.status, outcome.body, kind));
        }
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
        F.refresh("shift-changed");
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
  F.actionForm = function (title, fields, onSubmit, button) {
    current = null;
    $("#entry-title").textContent = title;
    $("#entry-save").textContent = button || "Save";
    fieldsBox.replaceChildren(...fields);
    errorBox.textContent = "";
    resetConfirm();
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
          showError(result.field || null, result.message);
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

// The floor terminal's "not saved" tray: records the server refused after they were
// queued, each with what was typed, when and why, to fix and send again or to discard.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $ } = F;
  const FORMS = F.forms;
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
      const hit = F.optionsOf(field).find(([v]) => v === String(value));
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
    const z = F.zoneParts(ms);
    const today = F.zoneParts(Date.now());
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

  F.drawNotSaved = function (box) {
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
        "Refused: " + F.reason(item.status, item.answer, form && form.kind));
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
  };

  function fixNotSaved(key) {
    const item = F.outbox.notSaved().find((x) => x.key === key);
    const form = item && formOf(item);
    if (!form) return;
    F.openForm(form.kind, form.extra, {
      key, values: form.values, at: typedAt(item),
      why: F.reason(item.status, item.answer, form.kind), field: F.refusedField(item.answer),
      answer: item.answer,
    });
  }

  const discardDialog = $("#discard-dialog");
  let discarding = null;
  function askDiscard(key) {
    const item = F.outbox.notSaved().find((x) => x.key === key);
    if (!item) return;
    discarding = key;
    $("#discard-what").textContent = item.label + ". " + describe(formOf(item));
    discardDialog.showModal();
  }
  $("#discard-yes").addEventListener("click", () => {
    if (discarding && F.outbox.discard(discarding)) F.say("Discarded", "warn");
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
})();

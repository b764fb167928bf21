// The floor terminal's shift panel: open a shift, add crew, mark a departure, acknowledge
// the handoff; the review before closing, the handoff note and the signature; and the
// coverage now, from the compliance engine. The panel itself is server-rendered (htmx).
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, site, me } = F;

  function shiftEl() { return $("#shift .shift"); }
  F.shiftId = function () { const s = shiftEl(); return s ? s.dataset.shiftId : ""; };

  function roleOptions(personRole) {
    if (personRole === "trainee") return [["trainee", "Trainee"]];
    const roles = [["operator", "Operator"], ["shift_operator", "Shift operator"],
      ["assistant_chief", "Assistant chief"], ["chief", "Chief"]];
    if ($("#can-designate") && $("#can-designate").innerHTML.trim() === "yes") roles.unshift(["drc", "DRC"]);
    return roles;
  }

  function openShiftForm() {
    const label = F.input({ name: "label", type: "text" });
    const hour = new Date().getHours();
    label.value = hour >= 6 && hour < 14 ? "Day" : hour >= 14 && hour < 22 ? "Swing" : "Night";
    const myRole = F.selectOf("shift_role", roleOptions(me.role === "trainee" ? "trainee" : me.role));
    if (me.role === "chief_operator") myRole.value = "drc";
    const key = "floor-shift-" + Date.now() + "-" + me.id;
    F.actionForm("Open shift", [F.labelled("Shift", label), F.labelled("Your role", myRole)], () =>
      F.call("/api/shifts", { site, label: label.value.trim(),
        crew: [{ person_id: me.id, shift_role: myRole.value }] }, key));
  }

  function addCrewForm() {
    const choices = $("#crew-choices");
    const person = document.createElement("select");
    person.className = "big-select";
    person.name = "person_id";
    person.id = "f-person_id";
    person.append(...Array.from(choices.content.cloneNode(true).children));
    const role = F.selectOf("shift_role", []);
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
    F.actionForm("Add to crew", [F.labelled("Person", person), F.labelled("Role", role)], () =>
      F.call("/api/shifts/" + F.shiftId() + "/crew",
        { person_id: Number(person.value), shift_role: role.value }, key));
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.id === "open-shift") openShiftForm();
    else if (target.id === "open-crew") addCrewForm();
    else if (target.id === "open-review") openReview();
    else if (target.dataset.depart) {
      const result = await F.call("/api/shifts/" + F.shiftId() + "/crew/" + target.dataset.depart + "/departure", {});
      if (result.ok) { F.say(target.dataset.name + " left"); F.refresh("shift-changed"); }
      else F.say(result.message, "bad");
    } else if (target.dataset.ackNote) {
      const result = await F.call("/api/handoff-notes/" + target.dataset.ackNote + "/acknowledge",
        { shift_id: Number(F.shiftId()) });
      if (result.ok) { F.say("Handoff acknowledged"); F.refresh("shift-changed"); }
      else F.say(result.message, "bad");
    }
  });

  // ---- shift close: review, handoff note, sign ---------------------------------------
  const review = $("#review-dialog");
  const closeForm = $("#close-form");
  let handoffKey = null;

  async function openReview() {
    const response = await window.fetch("/floor/" + site + "/review", { credentials: "same-origin" });
    if (response.status === 401) { F.lock(); return; }
    $("#review-body").innerHTML = await response.text();
    $("#close-error").textContent = "";
    closeForm.password.value = "";
    handoffKey = handoffKey || "floor-handoff-" + Date.now() + "-" + me.id;
    review.showModal();
  }

  closeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const err = $("#close-error");
    const id = F.shiftId();
    const closed = shiftEl() && shiftEl().dataset.closed === "true";
    if (!closeForm.password.value) { err.textContent = "Enter your password to sign."; closeForm.password.focus(); return; }
    const button = $("#close-sign");
    button.disabled = true;
    try {
      const note = closeForm.handoff.value.trim();
      if (note && !closed) {
        const r = await F.call("/api/shifts/" + id + "/handoff", { body: note }, handoffKey);
        if (!r.ok) { err.textContent = "Handoff note: " + r.message; return; }
      }
      if (!closed) {
        const r = await F.call("/api/shifts/" + id + "/close", {});
        if (!r.ok) { err.textContent = "Close: " + r.message; return; }
        shiftEl().dataset.closed = "true";
      }
      const r = await F.call("/api/shifts/" + id + "/sign", { password: closeForm.password.value });
      closeForm.password.value = "";
      if (!r.ok) {
        err.textContent = "Shift closed but NOT signed: " + r.message;
        F.refresh("shift-changed");
        return;
      }
      review.close();
      closeForm.handoff.value = "";
      handoffKey = null;
      F.say("Shift signed");
      F.refresh("shift-changed");
    } finally {
      button.disabled = false;
    }
  });

  // ---- coverage now (compliance) -------------------------------------------------------
  F.coverage = async function () {
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
    // What a finding rests on: a state rule, or the site's policy (never a violation of law).
    const basis = (f) => f.basis === "site policy"
      ? "site policy (competency framework)" : "violation of " + f.citation;
    el.dataset.state = now.in_order ? "good" : "bad";
    el.title = ongoing.map((f) => basis(f) + ": " + f.message).join("\n");
    const drc = (now.drc || []).map((p) => p.name).join(", ");
    el.textContent = now.in_order
      ? "Coverage OK · DRC " + drc
      : "Coverage NOT OK" + (ongoing.length ? ": " + basis(ongoing[0]) + ": " + ongoing[0].message
        : !now.shifts_open.length ? ": no shift open" : !drc ? ": no DRC" : ": no certified operator on site");
  };
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "shift") F.coverage();
  });
})();

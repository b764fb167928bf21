// The floor terminal's shift panel: open a shift saying who holds charge, add crew, change
// a member's role, mark a departure, acknowledge the handoff; the review before closing
// (what waits for verification first), the handoff note and the signature, for the open
// shift or one awaiting signature. The panel, its coverage (the compliance engine's
// answer) and the review are server-rendered; htmx refreshes the panel.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, site, me, data } = F;

  function shiftEl() { return $("#shift .shift"); }
  F.shiftId = function () { const s = shiftEl(); return s ? s.dataset.shiftId : ""; };

  const OPERATOR_ROLES = [["operator", "Operator"], ["shift_operator", "Shift operator"],
    ["assistant_chief", "Assistant chief"], ["chief", "Chief operator"]];

  function canDesignate() {
    return $("#can-designate") && $("#can-designate").innerHTML.trim() === "yes";
  }

  // The roles that hold charge at this site (its state's rule), the DRC only for those
  // who may designate one.
  function chargeRoles() {
    const roles = (data.charge_roles && data.charge_roles.length ? data.charge_roles
      : [["drc", "In charge (DRC)"]].concat(OPERATOR_ROLES.slice(1)));
    return roles.filter(([role]) => role !== "drc" || canDesignate());
  }

  function roleOptions(personRole) {
    if (personRole === "trainee") return [["trainee", "Trainee"]];
    const roles = OPERATOR_ROLES.slice();
    if (canDesignate()) roles.unshift(["drc", "In charge (DRC)"]);
    return roles;
  }

  function fill(select, pairs, chosen) {
    select.replaceChildren(...pairs.map(([v, text]) => {
      const o = document.createElement("option");
      o.value = v;
      o.textContent = text;
      return o;
    }));
    if (chosen !== undefined && pairs.some(([v]) => v === chosen)) select.value = chosen;
  }

  function people(filter) {
    return Array.from($("#crew-choices").content.cloneNode(true).children)
      .filter((o) => !filter || filter(o.dataset.role));
  }

  // The shift's name by the plant's clock (the site's zone, not the terminal's).
  F.shiftName = function (ms) {
    const hour = Number(F.zoneParts(ms).hour);
    return hour >= 6 && hour < 14 ? "Day" : hour >= 14 && hour < 22 ? "Swing" : "Night";
  };

  function openShiftForm() {
    const label = F.input({ name: "label", type: "text" });
    label.value = F.shiftName(Date.now());
    const holder = F.selectOf("charge_person", []);
    holder.append(...people((role) => role !== "trainee"));
    if (people().some((o) => Number(o.value) === me.id)) holder.value = String(me.id);
    const asRole = F.selectOf("charge_role", []);
    const allowed = chargeRoles();
    const preferred = canDesignate() ? "drc" : "shift_operator";
    fill(asRole, allowed, allowed.some(([r]) => r === preferred) ? preferred : allowed[allowed.length - 1][0]);
    const myRole = F.selectOf("shift_role", []);
    fill(myRole, roleOptions(me.role), "operator");
    const mine = F.labelled("Your role", myRole);
    function who() { mine.hidden = holder.value === String(me.id) || me.role === "admin"; }
    holder.addEventListener("change", who);
    who();
    const note = document.createElement("p");
    note.className = "form-note";
    note.textContent = "Who holds charge decides whether coverage is in order: the compliance " +
      "check shows its answer once the shift is open.";
    const key = "floor-shift-" + Date.now() + "-" + me.id;
    F.actionForm("Open shift", [F.labelled("Shift", label), F.labelled("Who holds charge", holder),
      F.labelled("As", asRole), mine, note], () => {
      const crew = [{ person_id: Number(holder.value), shift_role: asRole.value }];
      if (!mine.hidden) crew.push({ person_id: me.id, shift_role: myRole.value });
      return F.call("/api/shifts", { site, label: label.value.trim(), crew }, key);
    }, "Open shift");
  }

  function addCrewForm() {
    const person = F.selectOf("person_id", []);
    person.append(...people());
    const role = F.selectOf("shift_role", []);
    function roles() {
      const opt = person.selectedOptions[0];
      fill(role, roleOptions(opt ? opt.dataset.role : ""), "operator");
    }
    person.addEventListener("change", roles);
    roles();
    const key = "floor-crew-" + Date.now() + "-" + me.id;
    F.actionForm("Add to crew", [F.labelled("Person", person), F.labelled("Role", role)], () =>
      F.call("/api/shifts/" + F.shiftId() + "/crew",
        { person_id: Number(person.value), shift_role: role.value }, key), "Add");
  }

  // A crew member's role, corrected by an amendment (with its reason).
  function roleForm(target) {
    const role = F.selectOf("shift_role", []);
    const pairs = chargeRoles().concat(roleOptions("").filter(([r]) => !chargeRoles().some(([c]) => c === r)));
    fill(role, pairs, target.dataset.current);
    const why = F.input({ name: "reason", type: "text", maxlength: 2000 });
    why.value = "";
    F.actionForm("Role of " + target.dataset.name, [F.labelled("Role on this shift", role),
      F.labelled("Why it changes (required)", why)], () => {
      if (why.value.trim().length < 3) return Promise.resolve({ ok: false, field: "reason", message: "Why it changes: say why, in a few words" });
      return F.call("/api/amendments", { target: "crew", target_id: Number(target.dataset.roleChange),
        changes: { shift_role: role.value }, reason: why.value.trim() },
        "floor-role-" + target.dataset.roleChange + "-" + Date.now());
    }, "Change role");
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.id === "open-shift") openShiftForm();
    else if (target.id === "open-crew") addCrewForm();
    else if (target.id === "open-review") openReview(F.shiftId());
    else if (target.dataset.reviewShift) openReview(target.dataset.reviewShift);
    else if (target.dataset.roleChange) roleForm(target);
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

  // ---- review: close, hand off, sign -------------------------------------------------
  const review = $("#review-dialog");
  const handoffKeys = {};

  F.fetchPart = async function (path) {
    let response;
    try {
      response = await window.fetch(path, { credentials: "same-origin" });
    } catch (_) {
      F.say("No connection to the server. Try again.", "bad");
      return null;
    }
    if (response.status === 401) { F.lock(); return null; }
    if (!response.ok) { F.say("Could not load it (" + response.status + ")", "bad"); return null; }
    return response.text();
  };

  async function openReview(shiftId) {
    const html = await F.fetchPart("/floor/" + site + "/review" + (shiftId ? "?shift=" + shiftId : ""));
    if (html === null) return;
    $("#review-box").innerHTML = html;
    if (!review.open) review.showModal();
    const first = $("#close-form textarea, #close-form input", review);
    if (first) first.focus();
  }
  F.openReview = openReview;

  document.addEventListener("submit", async (event) => {
    const closeForm = event.target.closest("#close-form");
    if (!closeForm) return;
    event.preventDefault();
    const err = $("#close-error");
    const id = closeForm.dataset.shift;
    const button = $("#close-sign");
    const mode = button ? button.dataset.mode : "";
    const password = closeForm.password ? closeForm.password.value : "";
    if (mode !== "close" && !password) { err.textContent = "Enter your password to sign."; closeForm.password.focus(); return; }
    button.disabled = true;
    try {
      const note = closeForm.handoff ? closeForm.handoff.value.trim() : "";
      if (note) {
        handoffKeys[id] = handoffKeys[id] || "floor-handoff-" + Date.now() + "-" + me.id;
        const r = await F.call("/api/shifts/" + id + "/handoff", { body: note }, handoffKeys[id]);
        if (!r.ok) { err.textContent = "Handoff note: " + r.message; return; }
      }
      if (mode !== "sign") {
        const r = await F.call("/api/shifts/" + id + "/close", {});
        if (!r.ok && r.status !== 409) { err.textContent = "Close: " + r.message; return; }
      }
      if (mode === "close") {
        review.close();
        F.say("Shift closed: it is listed as awaiting signature");
        F.refresh("shift-changed");
        return;
      }
      const r = await F.call("/api/shifts/" + id + "/sign", { password });
      if (closeForm.password) closeForm.password.value = "";
      if (!r.ok) {
        F.refresh("shift-changed");
        // The review again, for the shift as it now is (closed), with the reason.
        await openReview(id);
        $("#close-error").textContent = "Closed, NOT signed: " + r.message;
        return;
      }
      review.close();
      delete handoffKeys[id];
      F.say("Shift signed");
      F.refresh("shift-changed");
    } finally {
      button.disabled = false;
    }
  });
})();

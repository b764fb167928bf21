// The floor terminal's shift log and verification: the log of the open shift (entries
// newest first, server-rendered) with Amend on each entry, and the verification of a
// trainee's entries by a certified crew member, who proves who they are with their own
// PIN or password at this terminal (POST /floor/{site}/verify).
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, $$, site } = F;

  const logDialog = $("#log-dialog");
  const verifyDialog = $("#verify-dialog");
  let logShift = "";

  async function openLog(shiftId) {
    logShift = shiftId || "";
    const html = await F.fetchPart("/floor/" + site + "/log" + (logShift ? "?shift=" + logShift : ""));
    if (html === null) return;
    $("#log-box").innerHTML = html;
    if (!logDialog.open) logDialog.showModal();
  }
  F.reloadLog = function () { if (logDialog.open) openLog(logShift); };

  function entryOf(id) {
    const box = $("#log-entries");
    const entries = box ? JSON.parse(box.textContent) : {};
    return entries[id];
  }

  F.openVerify = async function (shiftId, entryId) {
    const query = "?shift=" + shiftId + (entryId ? "&entry=" + entryId : "");
    const html = await F.fetchPart("/floor/" + site + "/verify" + query);
    if (html === null) return;
    $("#verify-box").innerHTML = html;
    if (!verifyDialog.open) verifyDialog.showModal();
    const secret = $("#verify-form .verify-secret:not([hidden]) input");
    if (secret) secret.focus();
  };

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.id === "open-log") openLog(F.shiftId());
    else if (target.dataset.verifyShift) F.openVerify(target.dataset.verifyShift, target.dataset.verifyEntry);
    else if (target.dataset.amend) {
      const entry = entryOf(target.dataset.amend);
      if (entry) F.openForm(entry.kind, {}, null, { id: Number(target.dataset.amend), data: entry.data });
    } else if (target.dataset.switch) {
      // PIN or password: one shows at a time.
      const use = target.dataset.switch;
      $$("#verify-form .verify-secret").forEach((label) => {
        label.hidden = label.dataset.method !== use;
        if (label.hidden) label.querySelector("input").value = "";
      });
      target.dataset.switch = use === "pin" ? "password" : "pin";
      target.textContent = use === "pin" ? "Use a password instead" : "Use a PIN instead";
      const shown = $("#verify-form .verify-secret:not([hidden]) input");
      if (shown) shown.focus();
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("#verify-form");
    if (!form) return;
    event.preventDefault();
    const err = $("#verify-error");
    const ids = $$("input[name=entry]:checked", form).map((el) => Number(el.value));
    if (!ids.length) { err.textContent = "Tick the entries to verify."; return; }
    const shown = $(".verify-secret:not([hidden]) input", form);
    if (!shown.value) { err.textContent = "Enter " + (shown.name === "pin" ? "their PIN" : "their password") + "."; shown.focus(); return; }
    const body = { entry_ids: ids, username: form.username.value };
    body[shown.name] = shown.value;
    const button = $("#verify-save");
    button.disabled = true;
    try {
      const r = await F.call("/floor/" + site + "/verify", body);
      shown.value = "";
      if (!r.ok) {
        err.textContent = r.status === 409 && r.body && r.body.detail ? r.body.detail : r.message;
        return;
      }
      verifyDialog.close();
      F.say("Verified by " + r.body.by + ": " + r.body.verified.length +
        (r.body.verified.length === 1 ? " entry" : " entries"));
      F.refresh("shift-changed");
      F.reloadLog();
      if ($("#review-dialog").open) F.openReview(form.dataset.shift);
    } finally {
      button.disabled = false;
    }
  });
})();

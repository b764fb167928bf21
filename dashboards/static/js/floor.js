// The floor terminal, started once its parts are loaded (floor-queue.js, then floor-base.js
// to floor-outbox.js): the record buttons and the dialogs' Cancel, the outbox's first draw
// and its sending (now, every 5 s while anything waits, and when the link is back), the
// coverage now, and the lock's count; then the terminal is shown. The page's panels are
// server-rendered and refreshed by htmx; every record goes through the outbox to the
// logbook's API.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const outbox = F.outbox;

  outbox.handlers.changed(outbox);
  window.addEventListener("online", () => outbox.flush());
  window.setInterval(() => { if (outbox.pending().length) outbox.flush(); }, 5000);
  outbox.flush();

  F.$$("[data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
  F.$$(".action").forEach((b) => b.addEventListener("click", () => F.openForm(b.dataset.form)));

  F.coverage();
  F.touched();
  // Hidden until now, so that nothing on it is pressed before its script can act.
  F.$("#floor").hidden = false;
})();

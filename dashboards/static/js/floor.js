// The floor terminal, started once its parts are loaded (floor-queue.js, then floor-base.js
// to floor-outbox.js): the record buttons and the dialogs' Cancel, the outbox's first draw
// and its sending (now, every 5 s while anything waits, and when the link is back), and the
// lock's count; then the terminal is shown. The page's panels are
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

  // Cancel and Close of every dialog, those drawn later by the server too.
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-close]");
    if (target && target.closest("dialog")) target.closest("dialog").close();
  });
  F.$$(".action").forEach((b) => b.addEventListener("click", () => F.openForm(b.dataset.form)));
  // A poll the server does not answer in time counts as the link lost (htmx waits forever
  // otherwise); htmx is loaded deferred, so it is configured once the document is read.
  document.addEventListener("DOMContentLoaded", () => {
    if (window.htmx) window.htmx.config.timeout = 10000;
  });

  F.touched();
  // Hidden until now, so that nothing on it is pressed before its script can act.
  F.$("#floor").hidden = false;
})();

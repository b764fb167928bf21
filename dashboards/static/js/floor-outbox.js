// The floor terminal's outbox glue: the outbox (floor-queue.js) of the person logged in,
// and what the page shows when it changes, sends a record, or has one refused.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, me } = F;
  const queueStatus = $("#queue-status");

  F.outbox = new window.ClearwellOutbox(me.id, {
    changed(box) {
      const n = box.pending().length;
      queueStatus.hidden = n === 0;
      queueStatus.dataset.count = String(n);
      queueStatus.textContent = n + " waiting to send" + (box.online ? "" : " · offline");
      queueStatus.classList.toggle("floor-offline", !box.online);
      F.drawNotSaved(box);
    },
    sent(item) {
      F.say("Sent: " + item.label);
      F.refresh();
    },
    refused(item) {
      F.drawNotSaved(F.outbox);
      F.say("NOT saved: " + item.label + ". Kept at the top: fix it or discard it.", "bad");
    },
    unauthorized() { F.lock(); },
  });
})();
